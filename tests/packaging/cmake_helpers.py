"""Configure and build a CMake tree for the packaging tests; failures show
the compiler's output."""
import os
import shutil
import subprocess

import pytest

import paths

needs_cmake = pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("c++") is None
    or not os.path.exists(os.path.join(paths.ROOT, "CMakeLists.txt")),
    reason="needs cmake, a C++ compiler and the source tree")


def run(command, cwd=None):
    proc = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"{' '.join(map(str, command))}\n{proc.stdout}\n{proc.stderr}"
    return proc


def configure_and_build(source, build, *options, targets=()):
    run(["cmake", "-S", source, "-B", build, "-DCMAKE_BUILD_TYPE=Release", *options])
    command = ["cmake", "--build", build, "-j", "2"]
    for target in targets:
        command += ["--target", target]
    return run(command)
