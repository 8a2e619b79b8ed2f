"""The C++ core is usable on its own: the example builds and runs with no
Python headers involved."""
import os
import shutil
import subprocess

import pytest

import paths
from cmake_build import build_target

ROOT = str(paths.ROOT)


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("c++") is None,
                    reason="needs cmake and a C++ compiler")
@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")),
                    reason="needs the source tree")
def test_cpp_example_builds_and_runs(tmp_path):
    build = tmp_path / "build"
    build_target(build, "LNFAST_BUILD_EXAMPLES", "lnfast_stream_example")
    proc = subprocess.run([str(build / "lnfast_stream_example")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "continues bit-identically" in proc.stdout
