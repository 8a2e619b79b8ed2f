"""The GRU's reset placement and update bias (DreamerV3's GRU: one norm
over the whole sum, n = tanh(r * s_n), z = sigma(s_z - 1)); every variant's
parity with the float64 reference is in test_cells_reference.py."""
import pickle

import numpy as np
import pytest

import lnfast
from lnfast import _core


def weights(H=4, I=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((3 * H, I)).astype(np.float32) * 0.4,
            rng.standard_normal((3 * H, H)).astype(np.float32) * 0.4)


def test_defaults_are_pytorchs_gru():
    cell = lnfast.GRU(*weights())
    assert (cell.reset, cell.update_bias) == ("recurrent", 0.0)
    spec = cell.to_core()
    assert spec.gru_reset == _core.GruReset.RECURRENT and spec.update_bias == 0.0


def test_options_reach_the_core_and_the_repr():
    cell = lnfast.GRU(*weights(), norm="joint", ln=lnfast.LayerNorm(eps=1e-3), reset="candidate",
                      update_bias=-1.0, update="paper")
    spec = cell.to_core()
    assert spec.gru_reset == _core.GruReset.CANDIDATE and spec.update_bias == -1.0
    (norm,) = spec.gate_norms
    assert (norm.offset, norm.size, norm.eps) == (0, 12, pytest.approx(1e-3))
    assert "reset='candidate', update_bias=-1.0" in repr(cell)


def test_update_bias_shifts_z_before_its_sigmoid():
    """h' = (1 - z) h + z n from h = 0 is z n: with no norm and zero
    weights on n's rows, n = tanh(r * b_n) and z = sigma(b_z + update_bias)."""
    w_ih, w_hh = np.zeros((3, 1), np.float32), np.zeros((3, 1), np.float32)
    b = np.array([0.3, 0.2, 0.7], np.float32)
    cell = lnfast.GRU(w_ih, w_hh, b, reset="candidate", update_bias=-1.0, update="paper")
    h = lnfast.Model(cell).stream().step(np.zeros(1, np.float32))
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    assert h[0] == pytest.approx(sig(0.2 - 1.0) * np.tanh(sig(0.3) * 0.7), rel=1e-6)


@pytest.mark.parametrize("options, message", [
    ({"reset": "inside"}, "reset must be 'recurrent' or 'candidate'"),
    ({"norm": "joint", "ln": lnfast.LayerNorm()}, "norm='joint' needs reset='candidate'"),
    ({"update_bias": float("nan")}, "update_bias must be finite"),
    ({"norm": "joint", "reset": "candidate", "ln": lnfast.LayerNorm(np.ones(4))},
     r"ln.gamma must have shape \(12,\)"),
])
def test_bad_options_are_refused(options, message):
    with pytest.raises(ValueError, match=message):
        lnfast.GRU(*weights(), **options)


def test_the_core_refuses_what_only_a_candidate_reset_allows():
    gru = lnfast.GRU(*weights(), norm="joint", ln=lnfast.LayerNorm(), reset="candidate")
    spec = gru.to_core()
    spec.gru_reset = _core.GruReset.RECURRENT
    with pytest.raises(ValueError, match="spans more than one gate"):
        _core.validate_layer(spec, gru.matrices(), "layer 0")
    cell = lnfast.LSTM(np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32))
    lstm = cell.to_core()
    lstm.update_bias = -1.0
    with pytest.raises(ValueError, match="exist only for GRU layers"):
        _core.validate_layer(lstm, cell.matrices(), "layer 0")


def test_pickles_keep_the_options():
    cell = lnfast.GRU(*weights(), norm="joint", ln=lnfast.LayerNorm(), reset="candidate",
                      update_bias=-1.0)
    again = pickle.loads(pickle.dumps(cell))
    assert (again.reset, again.update_bias, again.norm) == ("candidate", -1.0, "joint")
    x = np.ones(3, np.float32)
    np.testing.assert_array_equal(lnfast.Model(again).stream().step(x),
                                  lnfast.Model(cell).stream().step(x))
