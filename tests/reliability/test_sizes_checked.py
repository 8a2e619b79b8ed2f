"""Sizes are checked before a kernel reads: no read past a short vector,
no int overflow that lets a bad spec through."""
import numpy as np
import pytest

import lnfast
from lnfast import _core
from variants import make_cell

ISA = lnfast.supported_isas()[-1] if hasattr(lnfast, "supported_isas") else _core.supported_isas()[-1]


@pytest.mark.parametrize("field", ["gamma", "beta"])
def test_layer_norm_probe_refuses_a_short_vector(field):
    x = np.arange(37, dtype=np.float32)
    args = {"gamma": np.ones(37, np.float32), "beta": np.zeros(37, np.float32)}
    args[field] = np.ones(3, np.float32)
    with pytest.raises(ValueError, match=f"{field} must have 37 values, got 3"):
        _core.testing.layer_norm(x, args["gamma"], args["beta"], 1e-5, ISA)


def test_gemm_probe_refuses_a_short_y0():
    W = np.ones((17, 5), np.float32)
    X = np.ones((3, 5), np.float32)
    with pytest.raises(ValueError, match="Y0 must have 51 values, got 4"):
        _core.testing.gemm(W, X, ISA, np.ones(4, np.float32))
    assert _core.testing.gemm(W, X, ISA, np.ones(51, np.float32)).shape == (3, 17)


def test_gate_norm_offset_near_2_to_31_is_refused():
    cell = make_cell("gru_per_gate", 3, 4, np.random.default_rng(0))
    spec = cell.to_core()
    norm = _core.Norm(2**31 - 2, 4)  # offset + size wraps a 32-bit int
    spec.gate_norms = list(spec.gate_norms) + [norm]
    with pytest.raises(ValueError, match="not inside"):
        _core.validate_layer(spec, cell.matrices(), "layer 0")
    with pytest.raises(ValueError, match="not inside"):
        _core.Model([spec], matrices=[cell.matrices()])
