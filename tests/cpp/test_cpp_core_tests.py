"""The C++ core's own tests (cpp/tests): every kernel of every path this CPU
has against a reference on odd sizes, every cell variant against float64
over 1,000 steps, and the run-time choice. Built and run here through CMake
and CTest, as a user would; tools/test-aarch64 runs the same program for ARM
under emulation."""
import os
import shutil
import subprocess

import pytest

import paths
from cmake_build import build_target

ROOT = str(paths.ROOT)


@pytest.mark.skipif(shutil.which("cmake") is None or shutil.which("c++") is None,
                    reason="needs cmake and a C++ compiler")
@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "cpp", "tests", "CMakeLists.txt")),
                    reason="needs the source tree")
def test_cpp_core_tests_pass(tmp_path):
    build = tmp_path / "build"
    build_target(build, "LNFAST_BUILD_TESTS", "lnfast_core_tests")
    env = {k: v for k, v in os.environ.items()
           if k not in ("LNFAST_ISA", "LNFAST_BF16_DOT", "LNFAST_I8_DOT")}
    # Through CTest (the registration is part of what is tested), verbose
    # so the program's own summary line shows.
    ctest = subprocess.run(["ctest", "--test-dir", str(build), "-V"],
                           capture_output=True, text=True, env=env)
    assert ctest.returncode == 0, ctest.stdout + ctest.stderr
    summary = [line for line in ctest.stdout.splitlines() if line.rstrip().endswith(" failed")]
    assert summary, ctest.stdout
    words = summary[-1].split()
    passed, failed = int(words[-4]), int(words[-2])
    assert failed == 0 and passed > 1000, summary[-1]
