"""stream.torch_state() / set_torch_state(h0, c0): PyTorch's (h0, c0) form.

lnfast runs float32; the reference is the same torch module in float64
(and the float32 module must agree with it, so the case is well conditioned).
"""
import numpy as np
import pytest

import lnfast

torch = pytest.importorskip("torch")

TOLERANCE_VS_FLOAT64 = 1e-5  # as tests/cells/test_torch_parity.py


def _module(kind, input_size, hidden, layers):
    torch.manual_seed(0)
    return getattr(torch.nn, kind)(input_size, hidden, num_layers=layers)


def _initial(kind, layers, hidden, rng):
    h0 = rng.standard_normal((layers, 1, hidden)) * 0.5
    c0 = rng.standard_normal((layers, 1, hidden)) * 0.5 if kind == "LSTM" else None
    return h0, c0


def _torch_run(module, X, h0, c0, dtype):
    m = module.to(dtype)
    x = torch.from_numpy(X).to(dtype)[:, None, :]
    h = torch.from_numpy(h0).to(dtype)
    with torch.no_grad():
        if c0 is None:
            y, h_n = m(x, h)
            return y[:, 0].numpy(), h_n.numpy(), None
        y, (h_n, c_n) = m(x, (h, torch.from_numpy(c0).to(dtype)))
        return y[:, 0].numpy(), h_n.numpy(), c_n.numpy()


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("hidden", [3, 37])
def test_round_trip_matches_torch_with_initial_state(kind, hidden):
    rng = np.random.default_rng(hidden)
    layers, input_size, T = 2, 17, 60
    module = _module(kind, input_size, hidden, layers)
    model = lnfast.from_torch(module)
    X = rng.standard_normal((T, input_size)).astype(np.float32)
    h0, c0 = _initial(kind, layers, hidden, rng)
    h0 = h0.astype(np.float32)
    c0 = None if c0 is None else c0.astype(np.float32)

    want = _torch_run(module, X, h0, c0, torch.float64)
    single = _torch_run(module, X, h0, c0, torch.float32)
    for a, b in zip(single, want):
        if a is not None:  # float32 torch near float64: well conditioned
            assert np.abs(a - b).max() <= TOLERANCE_VS_FLOAT64

    # torch tensors in, as a torch user holds them
    stream = model.stream(torch_state=(torch.from_numpy(h0),
                                       None if c0 is None else torch.from_numpy(c0)))
    Y = stream.run(X)
    h_n, c_n = stream.torch_state()
    assert np.abs(Y - want[0]).max() <= TOLERANCE_VS_FLOAT64
    assert h_n.shape == (layers, 1, hidden) and h_n.dtype == np.float32
    assert np.abs(h_n - want[1]).max() <= TOLERANCE_VS_FLOAT64
    if kind == "LSTM":
        assert c_n.shape == (layers, 1, hidden)
        assert np.abs(c_n - want[2]).max() <= TOLERANCE_VS_FLOAT64
    else:
        assert c_n is None

    # and back: the state torch would return continues bit-identically
    twin = model.stream()
    twin.set_torch_state(h_n, c_n)
    assert np.array_equal(twin.flat_state(), stream.flat_state())


def test_unbatched_shape_and_numpy_accepted():
    model = lnfast.from_torch(_module("LSTM", 5, 4, 3))
    stream = model.stream()
    h = np.arange(12, dtype=np.float64).reshape(3, 4) / 10
    stream.set_torch_state(h, -h)
    h0, c0 = stream.torch_state()
    assert np.array_equal(h0[:, 0], h.astype(np.float32))
    assert np.array_equal(c0[:, 0], (-h).astype(np.float32))
    assert np.array_equal(stream.state[1]["h"], h[1].astype(np.float32))


@pytest.mark.parametrize("h0,c0,exc,words", [
    (np.zeros((2, 1, 4)), None, ValueError, "needs c0"),
    (np.zeros((2, 3, 4)), np.zeros((2, 3, 4)), ValueError, "batch of 3"),
    (np.zeros((1, 1, 4)), np.zeros((2, 1, 4)), ValueError, "h0 must have shape (2, 1, 4)"),
    (np.zeros((2, 1, 4)), np.zeros((2, 1, 5)), ValueError, "c0 must have shape (2, 1, 4)"),
    (np.full((2, 1, 4), np.nan), np.zeros((2, 1, 4)), ValueError, "NaN"),
    (np.array([["a"]]), np.zeros((2, 1, 4)), TypeError, "real numbers"),
])
def test_bad_torch_state_is_refused_and_changes_nothing(h0, c0, exc, words):
    model = lnfast.from_torch(_module("LSTM", 5, 4, 2))
    stream = model.stream()
    stream.step(np.ones(5, np.float32))
    before = stream.flat_state()
    with pytest.raises(exc) as info:
        stream.set_torch_state(h0, c0)
    assert words in str(info.value)
    assert np.array_equal(stream.flat_state(), before)


def test_c0_refused_for_gru_and_mixed_stacks_refused():
    gru = lnfast.from_torch(_module("GRU", 5, 4, 2))
    with pytest.raises(ValueError, match="only for LSTM"):
        gru.stream().set_torch_state(np.zeros((2, 1, 4)), np.zeros((2, 1, 4)))
    lstm_cell = lnfast.from_torch(_module("LSTM", 5, 4, 1)).layers[0]
    gru_cell = lnfast.from_torch(_module("GRU", 4, 4, 1)).layers[0]
    mixed = lnfast.Model([lstm_cell, gru_cell]).stream()
    with pytest.raises(ValueError, match="mixes LSTM"):
        mixed.torch_state()
    with pytest.raises(ValueError, match="mixes LSTM"):
        mixed.set_torch_state(np.zeros((2, 1, 4)), np.zeros((2, 1, 4)))


def test_stream_refuses_state_and_torch_state_together():
    model = lnfast.from_torch(_module("GRU", 5, 4, 1))
    with pytest.raises(TypeError, match="not both"):
        model.stream(model.stream().state, torch_state=(np.zeros((1, 1, 4)), None))
