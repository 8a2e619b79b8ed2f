"""Bad input gets a clear exception naming the problem, raised before any
state changes: a rejected step leaves the stream exactly as it was."""
import numpy as np
import pytest

import lnfast
from variants import make_cell


@pytest.fixture
def stream():
    cell = make_cell("lstm_separate_state", 5, 7, np.random.default_rng(0))
    s = lnfast.Model(cell).stream()
    s.run(np.random.default_rng(1).standard_normal((10, 5)).astype(np.float32))
    return s


def unchanged(stream, action):
    before = stream.flat_state().copy()
    action()
    assert np.array_equal(stream.flat_state(), before)


def good_x():
    return np.ones(5, np.float32)


@pytest.mark.parametrize("x,exc,message", [
    (np.ones(4, np.float32), ValueError, r"x must have shape \(5,\), got \(4,\)"),
    (np.ones((1, 5), np.float32), ValueError, r"x must have shape \(5,\), got \(1, 5\)"),
    (np.float32(1.0), ValueError, r"x must have shape \(5,\), got \(\)"),
    (np.ones(5, np.complex64), TypeError, "real numbers.*complex64"),
    (np.array(["a"] * 5), TypeError, "real numbers"),
    (np.array([None] * 5), TypeError, "real numbers.*object"),
    (np.array([1, 2, np.nan, 4, 5], np.float32), ValueError, "input holds NaN at index 2"),
    (np.array([1, 2, 3, np.inf, 5], np.float32), ValueError, "input holds Inf at index 3"),
])
def test_bad_step_input(stream, x, exc, message):
    with pytest.raises(exc, match=message):
        unchanged(stream, lambda: stream.step(x))
    unchanged(stream, lambda: pytest.raises(exc, stream.step, x))


@pytest.mark.parametrize("out,exc,message", [
    (np.empty(7, np.float64), TypeError, "out must have dtype float32"),
    (np.empty(6, np.float32), ValueError, r"out must have shape \(7,\)"),
    (np.empty(14, np.float32)[::2], ValueError, "C-contiguous"),
    ([0.0] * 7, TypeError, "numpy.ndarray"),
])
def test_bad_out(stream, out, exc, message):
    unchanged(stream, lambda: pytest.raises(exc, stream.step, good_x(), out=out))
    with pytest.raises(exc, match=message):
        stream.step(good_x(), out=out)


def test_read_only_out(stream):
    out = np.empty(7, np.float32)
    out.flags.writeable = False
    unchanged(stream, lambda: pytest.raises(ValueError, stream.step, good_x(), out=out))


def test_bad_run_input(stream):
    X = np.ones((4, 5), np.float32)
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="input holds NaN at index 16"):
        unchanged(stream, lambda: stream.run(X))
    unchanged(stream, lambda: pytest.raises(ValueError, stream.run, np.ones((4, 6), np.float32)))
    with pytest.raises(ValueError, match=r"X must have shape \(T, 5\), got \(5,\)"):
        stream.run(np.ones(5, np.float32))


def test_bad_state(stream):
    good = stream.state
    for bad, exc, msg in [
        (good[:0], ValueError, "state has 0 layers"),
        ("hc", TypeError, "one dict per layer"),
        ([{"h": good[0]["h"]}], ValueError, "'h' and 'c'"),
        ([{"h": good[0]["h"], "c": np.ones(3)}], ValueError, r"state\[0\]\['c'\] must have shape \(7,\)"),
        ([{"h": good[0]["h"], "c": np.full(7, np.inf)}], ValueError, "state holds Inf"),
    ]:
        with pytest.raises(exc, match=msg):
            unchanged(stream, lambda: setattr(stream, "state", bad))
        unchanged(stream, lambda: pytest.raises(exc, setattr, stream, "state", bad))


def weights(H=4, I=3, G=4):
    rng = np.random.default_rng(0)
    return rng.standard_normal((G * H, I)), rng.standard_normal((G * H, H))


def test_nan_weight_refused():
    w_ih, w_hh = weights()
    w_hh[2, 1] = np.nan
    with pytest.raises(ValueError, match="w_hh holds a non-finite value at flat index 9"):
        lnfast.LSTM(w_ih, w_hh)


@pytest.mark.parametrize("make,exc,message", [
    (lambda w, u: lnfast.LSTM(w[:15], u), ValueError, r"w_ih must have shape \(16, input_size\)"),
    (lambda w, u: lnfast.LSTM(w, u[:, :3]), ValueError, r"LSTM.w_hh must have shape \(16, 4\), got \(16, 3\)"),
    (lambda w, u: lnfast.LSTM(w, u, np.zeros(15)), ValueError, r"b_ih must have shape \(16,\)"),
    (lambda w, u: lnfast.LSTM(w, u, norm="layer"), ValueError, "norm must be one of"),
    (lambda w, u: lnfast.LSTM(w, u, cell_norm="cell"), ValueError, "cell_norm must be"),
    (lambda w, u: lnfast.LSTM(w, u, norm="separate", ln_x=lnfast.LayerNorm(np.ones(4))), ValueError,
     r"ln_x.gamma must have shape \(16,\)"),
    (lambda w, u: lnfast.LSTM(w, u, norm="separate", ln_x=lnfast.LayerNorm(eps=-1.0)), ValueError, "eps must be >= 0"),
    (lambda w, u: lnfast.LSTM(w, u, norm="per_gate", ln_gates=[lnfast.LayerNorm()] * 3), ValueError,
     "ln_gates must hold 4"),
    (lambda w, u: lnfast.LSTM(w, u, zoneout=1.5), ValueError, r"zoneout must be in \[0, 1\]"),
    (lambda w, u: lnfast.LSTM(w, u, forget_bias=float("nan")), ValueError, "forget_bias must be finite"),
    (lambda w, u: lnfast.LSTM(w.astype(complex), u), TypeError, "real numbers"),
    (lambda w, u: lnfast.LSTM(w, u, norm="separate", ln_x="yes"), TypeError, "must be an lnfast.LayerNorm"),
])
def test_bad_cell_construction(make, exc, message):
    w_ih, w_hh = weights()
    with pytest.raises(exc, match=message):
        make(w_ih, w_hh)


def test_bad_model_construction():
    w_ih, w_hh = weights()
    lstm = lnfast.LSTM(w_ih, w_hh)
    with pytest.raises(ValueError, match="layer 1 takes inputs of size 3, but layer 0 below it outputs 4"):
        lnfast.Model([lstm, lstm])
    with pytest.raises(ValueError, match="at least one layer"):
        lnfast.Model([])
    with pytest.raises(TypeError, match="layer 0 must be an lnfast.LSTM"):
        lnfast.Model(["lstm"])
    with pytest.raises(ValueError, match="isa 'sse9' is not available"):
        lnfast.Model(lstm, isa="sse9")


def test_core_validates_too():
    # The C++ core checks specs on its own, for C++ users and for anyone
    # building _core.LayerSpec by hand.
    from lnfast import _core
    spec = _core.LayerSpec()
    spec.type = _core.CellType.LSTM
    spec.input_size, spec.hidden_size = 3, 4
    spec.w_ih = np.zeros(16 * 3)
    spec.w_hh = np.zeros(15)
    with pytest.raises(ValueError, match="layer 0: w_hh has 15 values, expected 64"):
        _core.Model([spec])
    spec.w_hh = np.zeros(64)
    spec.x_norms = [_core.Norm(0, 8), _core.Norm(9, 7)]
    with pytest.raises(ValueError, match="without gaps or overlaps"):
        _core.Model([spec])
