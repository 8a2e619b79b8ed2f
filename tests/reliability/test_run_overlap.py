"""stream.run(X, out=out) with out overlapping X: refused unless exactly in
place (which run supports: it reads each chunk of X before writing it)."""
import numpy as np
import pytest

import lnfast
from variants import make_cell

H = 8


@pytest.fixture
def model():
    return lnfast.Model(make_cell("gru_per_gate", H, H, np.random.default_rng(0)))


def test_partial_overlap_is_refused(model):
    # T above run's chunk of 256 steps, where the overlap gave wrong numbers.
    T = 600
    buf = np.random.default_rng(1).standard_normal((T + 7, H)).astype(np.float32)
    stream = model.stream()
    before = stream.flat_state().copy()
    with pytest.raises(ValueError, match="out overlaps X"):
        stream.run(buf[:T], out=buf[7:])
    with pytest.raises(ValueError, match="out overlaps X"):
        stream.run(buf[7:], out=buf[:T])
    assert np.array_equal(stream.flat_state(), before)


def test_exactly_in_place_equals_a_separate_out(model):
    T = 600
    X = np.random.default_rng(1).standard_normal((T, H)).astype(np.float32)
    want = model.stream().run(X)
    buf = X.copy()
    model.stream().run(buf, out=buf)
    assert np.array_equal(buf, want)


def test_disjoint_parts_of_one_buffer(model):
    X = np.random.default_rng(1).standard_normal((300, H)).astype(np.float32)
    buf = np.concatenate([X, np.zeros_like(X)])
    model.stream().run(buf[:300], out=buf[300:])
    assert np.array_equal(buf[300:], model.stream().run(X))
