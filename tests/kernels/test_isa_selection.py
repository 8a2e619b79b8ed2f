"""LNFAST_ISA forces a lower instruction set; lnfast.isa() tells which runs."""
import os
import subprocess
import sys

import pytest

import lnfast
from paths import TESTS

PROGRAM = """
import numpy as np, lnfast, sys
sys.path.insert(0, {tests!r})
from variants import make_cell
from reference import ReferenceModel
cell = make_cell("gru_per_gate", 13, 37, np.random.default_rng(0))
model = lnfast.Model(cell)
X = np.random.default_rng(1).standard_normal((200, 13)).astype(np.float32)
err = np.abs(model.stream().run(X) - ReferenceModel([cell]).run(X)).max()
print(lnfast.isa(), model.isa, err)
"""


def run_with_isa(value):
    env = dict(os.environ, LNFAST_ISA=value)
    code = PROGRAM.format(tests=str(TESTS))
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("isa", lnfast.supported_isas())
def test_environment_forces_each_isa(isa):
    proc = run_with_isa(isa)
    assert proc.returncode == 0, proc.stderr
    reported, used, err = proc.stdout.split()
    assert reported == used == isa
    assert float(err) <= 1e-5


def test_unknown_isa_is_a_clear_error():
    proc = run_with_isa("sse9")
    assert proc.returncode != 0
    assert "unknown instruction set 'sse9'" in proc.stderr


def test_supported_isas_start_with_scalar():
    assert lnfast.supported_isas()[0] == "scalar"
    assert lnfast.isa() in lnfast.supported_isas()
