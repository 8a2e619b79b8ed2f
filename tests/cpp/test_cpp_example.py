"""The C++ core is usable on its own: the example builds and runs with no
Python headers involved."""
import os
import shutil
import subprocess

import pytest

import paths

ROOT = str(paths.ROOT)


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("c++") is None,
                    reason="needs cmake and a C++ compiler")
@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")),
                    reason="needs the source tree")
def test_cpp_example_builds_and_runs(tmp_path):
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", ROOT, "-B", str(build), "-DLNFAST_BUILD_EXAMPLES=ON",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "lnfast_stream_example", "-j", "2"],
                   check=True, capture_output=True)
    proc = subprocess.run([str(build / "lnfast_stream_example")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "continues bit-identically" in proc.stdout
