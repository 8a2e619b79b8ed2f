"""One version, in python/lnfast/__init__.py: the package metadata reads it
from there (pyproject.toml's regex provider) and `lnfast --version` prints it."""
import re
import subprocess
import sys

import lnfast
import paths


def test_version_is_defined_once():
    pyproject = (paths.ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)
    assert re.fullmatch(r"\d+\.\d+\.\d+", lnfast.__version__)


def test_cli_prints_the_version():
    proc = subprocess.run([sys.executable, "-m", "lnfast", "--version"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"lnfast {lnfast.__version__}\n"
