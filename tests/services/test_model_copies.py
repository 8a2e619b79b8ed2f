"""What derives from the panels, now that a model keeps no other copy of
its weights: model.layers, pickles of models and streams, the stored form
(Model.stored_matrix) and a model built from it, and the checks on matrices
lent to the core."""
import pickle

import numpy as np
import pytest

import lnfast
from lnfast import _core
from variants import LSTM_VARIANTS, VARIANTS, make_projected_cell, make_stack

FORMATS = [("fp32", "fp32"), ("bf16", "fp32"), ("int8", "fp32"), ("int8", "int8")]


def stack(kind="lstm_separate_state"):
    return make_stack(kind, (13, 24, 17), np.random.default_rng(3))


def inputs(T=40, I=13):
    return np.random.default_rng(5).standard_normal((T, I)).astype(np.float32)


@pytest.mark.parametrize("weights,activations", FORMATS)
@pytest.mark.parametrize("kind", ["lstm_separate_state", "gru_paper", "rnn_ln"])
def test_a_pickled_model_steps_bit_identically_and_keeps_its_fingerprint(kind, weights, activations):
    model = lnfast.Model(stack(kind), weights=weights, activations=activations)
    twin = pickle.loads(pickle.dumps(model))
    assert twin.fingerprint == model.fingerprint
    assert (twin.weights, twin.activations) == (weights, activations)
    X = inputs()
    assert np.array_equal(twin.run(X), model.run(X))


@pytest.mark.parametrize("weights,activations", FORMATS)
def test_a_pickled_stream_carries_its_model_and_state(weights, activations):
    model = lnfast.Model(stack(), weights=weights, activations=activations)
    stream = model.stream()
    X = inputs()
    stream.run(X[:20])
    twin = pickle.loads(pickle.dumps(stream))
    assert twin.model is not model and twin.model.fingerprint == model.fingerprint
    assert np.array_equal(twin.run(X[20:]), stream.run(X[20:]))


def test_int8_pickles_carry_q_and_scales_not_dequantized_values():
    model = lnfast.Model(stack(), weights="int8")
    q, scales = model._core.stored_matrix(0, "w_ih")
    assert q.dtype == np.int8 and scales.dtype == np.float32 and q.shape == (96, 13)
    assert np.abs(q).max() == 127 and int(q.min()) >= -127
    # The values the kernels multiply by are q * scale, row by row.
    values = model._core.unpacked_layer(0).w_ih.reshape(96, 13)
    assert np.array_equal(values, q.astype(np.float32) * scales[:, None])


@pytest.mark.parametrize("kind", VARIANTS)
def test_model_layers_rebuild_the_same_fp32_model(kind):
    layers = make_stack(kind, (5, 9, 6), np.random.default_rng(1))
    model = lnfast.Model(layers)
    rebuilt = model.layers
    assert [repr(c) for c in rebuilt] == [repr(c) for c in layers]
    for given, back in zip(layers, rebuilt):
        assert np.array_equal(given.w_ih, back.w_ih) and np.array_equal(given.w_hh, back.w_hh)
    assert lnfast.Model(rebuilt).fingerprint == model.fingerprint
    assert repr(model) == repr(lnfast.Model(layers))


@pytest.mark.parametrize("kind", LSTM_VARIANTS[:3])
def test_projected_layers_rebuild_too(kind):
    cell = make_projected_cell(kind, 5, 9, 4, np.random.default_rng(2))
    model = lnfast.Model(cell)
    back, = model.layers
    assert np.array_equal(back.w_hr, cell.w_hr) and "proj_size=4" in repr(model)
    assert lnfast.Model(back).fingerprint == model.fingerprint


def test_bf16_layers_hold_the_rounded_values_and_rebuild_the_same_model():
    model = lnfast.Model(stack(), weights="bf16")
    bits, scales = model._core.stored_matrix(1, "w_hh")
    assert bits.dtype == np.uint16 and scales is None
    widened = (bits.astype(np.uint32) << 16).view(np.float32)
    assert np.array_equal(model.layers[1].w_hh, widened)
    assert lnfast.Model(model.layers, weights="bf16").fingerprint == model.fingerprint


def test_strided_arrays_are_packed_in_place_like_contiguous_ones():
    rng = np.random.default_rng(4)
    wide = rng.standard_normal((4 * 7, 20)).astype(np.float32)
    w_hh = rng.standard_normal((4 * 7, 7)).astype(np.float32)
    spec = lnfast.LSTM(wide[:, :5].copy(), w_hh).to_core()
    strided = _core.Model([spec], matrices=[(wide[:, :5], w_hh, None)])
    dense = _core.Model([spec], matrices=[(np.ascontiguousarray(wide[:, :5]), w_hh, None)])
    assert strided.fingerprint == dense.fingerprint


def test_the_core_checks_lent_values_as_it_packs_them():
    w_ih, w_hh = np.ones((16, 3), np.float32), np.ones((16, 4), np.float32)
    spec = lnfast.LSTM(w_ih, w_hh).to_core()
    w_hh[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"layer 0: w_hh holds a non-finite value \(nan\) at flat index 9"):
        _core.Model([spec], matrices=[(w_ih, w_hh, None)])
    with pytest.raises(ValueError, match=r"layer 0: w_ih has shape \(3, 16\), expected \(16, 3\)"):
        _core.Model([spec], matrices=[(w_ih.reshape(3, 16), np.ones((16, 4)), None)])
    with pytest.raises(ValueError, match="layer 0: w_ih must be a 2-D array"):
        _core.Model([spec], matrices=[(w_ih.ravel(), np.ones((16, 4)), None)])
    with pytest.raises(ValueError, match="in the spec or lent beside it, not both"):
        full = lnfast.LSTM(w_ih, np.ones((16, 4))).to_core()
        full.w_ih = w_ih
        _core.Model([full], matrices=[(w_ih, np.ones((16, 4)), None)])


def stored(model):
    return [tuple(model._core.stored_matrix(k, n) for n in ("w_ih", "w_hh", "w_hr"))
            for k in range(model.num_layers)]


def structure(model):
    return [model._core.layer(k) for k in range(model.num_layers)]


@pytest.mark.parametrize("weights", ["fp32", "bf16", "int8"])
def test_the_stored_form_builds_the_same_model(weights):
    model = lnfast.Model(stack(), weights=weights)
    copy = _core.Model(structure(model), weights=weights, matrices=stored(model))
    assert copy.fingerprint == model.fingerprint


def test_hostile_stored_forms_are_refused_with_a_clear_message():
    model = lnfast.Model(stack(), weights="int8")
    good = stored(model)

    def build(layer0, weights="int8"):
        return _core.Model(structure(model), weights=weights, matrices=[layer0] + good[1:])

    (q, scales), w_hh, w_hr = good[0]
    bad_scales = scales.copy()
    bad_scales[3] = np.nan
    with pytest.raises(ValueError, match="layer 0: w_ih has row scale nan at row 3"):
        build(((q, bad_scales), w_hh, w_hr))
    low = q.copy()
    low[0, 2] = -128
    with pytest.raises(ValueError, match=r"layer 0: w_ih holds q = -128 at flat index 2"):
        build(((low, scales), w_hh, w_hr))
    with pytest.raises(TypeError, match="2-D int8 array"):
        build(((q.astype(np.int16), scales), w_hh, w_hr))
    with pytest.raises(TypeError, match="needs its row scales"):
        build(((q, None), w_hh, w_hr))
    with pytest.raises(ValueError, match=r"row scales must have shape \(96,\)"):
        build(((q, scales[:5]), w_hh, w_hr))
    bf16 = lnfast.Model(stack(), weights="bf16")
    (bits, _), bw_hh, bw_hr = stored(bf16)[0]
    nan_bits = bits.copy()
    nan_bits[1, 1] = 0x7FC0
    with pytest.raises(ValueError, match=r"w_ih holds a non-finite value \(nan\) at flat index 14"):
        _core.Model(structure(bf16), weights="bf16", matrices=[((nan_bits, None), bw_hh, bw_hr)]
                    + stored(bf16)[1:])


def test_bidirectional_models_pickle_their_directions():
    torch = pytest.importorskip("torch")
    module = torch.nn.LSTM(5, 6, num_layers=2, bidirectional=True)
    model = lnfast.from_torch(module)
    twin = pickle.loads(pickle.dumps(model))
    X = inputs(12, 5)
    assert np.array_equal(twin.run(X), model.run(X))
    assert twin.fingerprint == model.fingerprint and repr(twin) == repr(model)
    assert len(twin.layers) == 2 and twin.layers[1][0].input_size == 12
