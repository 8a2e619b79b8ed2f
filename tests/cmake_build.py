"""Configure and build one target of the repository's CMake project, as a
C++ user would, for the tests that run the core's C++ programs."""
import subprocess

import paths


def build_target(build_dir, option: str, target: str) -> None:
    """`cmake -S <repo> -B build_dir -D<option>=ON` (Release), then build `target`."""
    subprocess.run(["cmake", "-S", str(paths.ROOT), "-B", str(build_dir), f"-D{option}=ON",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build_dir), "--target", target, "-j", "2"],
                   check=True, capture_output=True)
