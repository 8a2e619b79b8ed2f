"""float32 arrays at an address that is not a multiple of 4: inputs are
copied to aligned memory, an out is refused with a clear error."""
import numpy as np
import pytest

import lnfast
from variants import make_cell

I, H = 5, 7


def misaligned(values):
    values = np.asarray(values, np.float32)
    buf = np.zeros(values.nbytes + 1, np.uint8)
    view = np.frombuffer(buf.data, np.float32, values.size, offset=1).reshape(values.shape)
    view.flags.writeable = True if buf.flags.writeable else False
    assert not view.flags.aligned
    view[...] = values
    return view


@pytest.fixture
def model():
    return lnfast.Model(make_cell("lstm_separate_state", I, H, np.random.default_rng(0)))


def test_misaligned_inputs_give_the_aligned_result(model):
    X = np.random.default_rng(1).standard_normal((20, I)).astype(np.float32)
    want_step = model.stream().step(X[0])
    want_run = model.stream().run(X)
    assert np.array_equal(model.stream().step(misaligned(X[0])), want_step)
    assert np.array_equal(model.stream().run(misaligned(X)), want_run)
    streams = [model.stream(), model.stream()]
    assert np.array_equal(model.step_many(streams, misaligned(X[:2]))[0], want_step)


def test_misaligned_out_is_refused(model):
    X = np.random.default_rng(1).standard_normal((20, I)).astype(np.float32)
    stream = model.stream()
    with pytest.raises(ValueError, match="out must be aligned"):
        stream.step(X[0], out=misaligned(np.zeros(H)))
    with pytest.raises(ValueError, match="out must be aligned"):
        stream.run(X, out=misaligned(np.zeros((20, H))))
    with pytest.raises(ValueError, match="out must be aligned"):
        model.step_many([stream], X[:1], out=misaligned(np.zeros((1, H))))
    assert not stream.flat_state().any()
