"""The stream API: state read/write, copy, pickle, reset, out=, run."""
import copy
import pickle

import numpy as np
import pytest

import lnfast
from variants import make_stack

RNG_SEED = 3


@pytest.fixture
def model():
    rng = np.random.default_rng(RNG_SEED)
    lstm = make_stack("lstm_separate_state", (13, 37), rng)
    gru = make_stack("gru_per_gate", (37, 17), rng)
    return lnfast.Model(lstm + gru)


def inputs(T=50, I=13, seed=1):
    return np.random.default_rng(seed).standard_normal((T, I)).astype(np.float32)


def test_shapes_and_attributes(model):
    assert (model.input_size, model.hidden_size, model.num_layers) == (13, 17, 2)
    assert model.isa == lnfast.isa()
    stream = model.stream()
    assert stream.model is model
    h = stream.step(inputs(1)[0])
    assert h.shape == (17,) and h.dtype == np.float32
    state = stream.state
    assert [sorted(layer) for layer in state] == [["c", "h"], ["h"]]
    assert np.array_equal(state[-1]["h"], h)


def test_starts_at_zero_and_reset(model):
    stream = model.stream()
    assert all(not np.any(v) for layer in stream.state for v in layer.values())
    X = inputs()
    first = stream.run(X)
    stream.reset()
    assert np.array_equal(stream.run(X), first)


def test_restored_state_continues_bit_identically(model):
    X = inputs(100)
    stream = model.stream()
    stream.run(X[:40])
    saved = stream.state
    tail = stream.run(X[40:])
    other = model.stream()
    other.state = saved
    assert np.array_equal(other.run(X[40:]), tail)


def test_copy_is_independent(model):
    X = inputs(60)
    stream = model.stream()
    stream.run(X[:30])
    twin = stream.copy()
    a = stream.run(X[30:])
    b = twin.run(X[30:])
    assert np.array_equal(a, b)
    assert np.array_equal(copy.copy(stream).flat_state(), stream.flat_state())
    assert np.array_equal(copy.deepcopy(stream).flat_state(), stream.flat_state())


def test_pickle_round_trip_of_stream_and_model(model):
    X = inputs(60)
    stream = model.stream()
    stream.run(X[:25])
    clone = pickle.loads(pickle.dumps(stream))
    assert np.array_equal(clone.run(X[25:]), stream.run(X[25:]))
    model2 = pickle.loads(pickle.dumps(model))
    assert np.array_equal(model2.stream().run(X), model.stream().run(X))


def test_out_argument_writes_in_place(model):
    x = inputs(1)[0]
    out = np.empty(17, np.float32)
    result = model.stream().step(x, out=out)
    assert result is out
    assert np.array_equal(out, model.stream().step(x))
    X = inputs(20)
    out2 = np.empty((20, 17), np.float32)
    assert model.stream().run(X, out=out2) is out2
    assert np.array_equal(out2, model.stream().run(X))


def test_inputs_are_converted_not_misread(model):
    X = inputs(5)
    want = model.stream().run(X)
    stream = model.stream()
    got = [stream.step(x.astype(np.float64)) for x in X]  # float64 -> float32
    assert np.array_equal(np.stack(got), want)
    strided = np.zeros((5, 26), np.float32)[:, ::2]
    strided[:] = X
    assert not strided.flags.c_contiguous
    assert np.array_equal(model.stream().run(strided), want)
    assert np.array_equal(model.stream().step(list(map(float, X[0]))), want[0])


def test_empty_run(model):
    out = model.stream().run(np.zeros((0, 13), np.float32))
    assert out.shape == (0, 17)


def test_step_many_layers_ping_pong():
    # Four layers alternate the scratch vectors that carry h upward.
    rng = np.random.default_rng(0)
    cells = make_stack("rnn_ln", (5, 7, 9, 11, 13), rng)
    from reference import ReferenceModel
    X = inputs(30, 5)
    ref = ReferenceModel(cells).run(X)
    assert np.abs(lnfast.Model(cells).stream().run(X) - ref).max() < 2e-5
