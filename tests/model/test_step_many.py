"""model.step_many: B streams advanced together equal B separate steps."""
import numpy as np
import pytest

import lnfast
from variants import VARIANTS, make_stack

ISAS = lnfast.supported_isas()


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind", VARIANTS)
def test_step_many_equals_separate_steps(kind, isa):
    rng = np.random.default_rng(0)
    model = lnfast.Model(make_stack(kind, (13, 37, 17), rng), isa=isa)
    B, T = 6, 20
    X = rng.standard_normal((T, B, 13)).astype(np.float32)
    together = [model.stream() for _ in range(B)]
    apart = [model.stream() for _ in range(B)]
    for t in range(T):
        got = model.step_many(together, X[t])
        want = np.stack([apart[b].step(X[t, b]) for b in range(B)])
        assert np.array_equal(got, want)
    for a, b in zip(together, apart):
        assert np.array_equal(a.flat_state(), b.flat_state())


def test_step_many_out_and_odd_batches():
    rng = np.random.default_rng(1)
    model = lnfast.Model(make_stack("lstm_separate_state", (5, 9), rng))
    for B in (1, 2, 3, 5, 6, 7, 15, 16, 17, 33):
        streams = [model.stream() for _ in range(B)]
        X = rng.standard_normal((B, 5)).astype(np.float32)
        out = np.empty((B, 9), np.float32)
        assert model.step_many(streams, X, out=out) is out
        singles = [model.stream() for _ in range(B)]
        assert np.array_equal(out, np.stack([s.step(x) for s, x in zip(singles, X)]))


def test_step_many_bad_arguments():
    rng = np.random.default_rng(2)
    model = lnfast.Model(make_stack("gru_plain", (5, 9), rng))
    other = lnfast.Model(make_stack("gru_plain", (5, 9), rng))
    streams = [model.stream() for _ in range(3)]
    X = np.ones((3, 5), np.float32)
    with pytest.raises(ValueError, match=r"X must have shape \(3, 5\), got \(2, 5\)"):
        model.step_many(streams, X[:2])
    with pytest.raises(ValueError, match=r"streams\[1\] belongs to another model"):
        model.step_many([streams[0], other.stream(), streams[2]], X)
    with pytest.raises(ValueError, match="stream 2 appears twice"):
        model.step_many([streams[0], streams[1], streams[0]], X)
    with pytest.raises(TypeError, match=r"streams\[0\] is not an lnfast stream"):
        model.step_many(["s", streams[1], streams[2]], X)
    before = [s.flat_state().copy() for s in streams]
    bad = X.copy()
    bad[2, 4] = np.inf
    with pytest.raises(ValueError, match="input holds Inf at index 14"):
        model.step_many(streams, bad)
    assert all(np.array_equal(s.flat_state(), b) for s, b in zip(streams, before))
