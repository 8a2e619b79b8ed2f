"""Run a reproducer in a fresh interpreter, so a crash fails one test
instead of killing the test run."""
import os
import subprocess
import sys
import textwrap

import lnfast
from paths import TESTS

PRELUDE = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import lnfast
from lnfast import _core
from variants import make_cell
"""


def run_child(code: str, timeout: float = 120) -> str:
    """Runs `code` after PRELUDE; asserts it exited normally; returns its stdout."""
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lnfast.__file__)))
    script = PRELUDE.format(tests=str(TESTS)) + textwrap.dedent(code)
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=timeout)
    assert child.returncode == 0, (
        f"child exited with {child.returncode}\nstdout:\n{child.stdout}\n"
        f"stderr:\n{child.stderr[-3000:]}")
    return child.stdout
