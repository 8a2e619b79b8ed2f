"""Load options: what checkpoints do not store (zoneout, forget bias, eps, an
RNN's nonlinearity, the ISA), applied whatever the layout."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import random_inputs, randomize, run_lnfast  # noqa: E402


def saved(tmp_path, module, hidden_size, name="net.pt"):
    torch.manual_seed(5)
    randomize(module, hidden_size, seed=5)
    path = tmp_path / name
    torch.save(module.state_dict(), path)
    return path, module


def outputs(model, input_size):
    return run_lnfast(model, random_inputs(60, input_size))


def test_unknown_options_are_named(tmp_path):
    path, _ = saved(tmp_path, nn.GRU(5, 7), 7)
    with pytest.raises(TypeError) as error:
        lnfast.load(path, zonout=0.1, forgetbias=1.0)
    assert "zonout" in str(error.value) and "forgetbias" in str(error.value)
    assert "zoneout" in str(error.value)  # the real options are listed


def test_zoneout_applies_to_every_layer(tmp_path):
    path, _ = saved(tmp_path, CellStackOfHasteGru(), 9)
    model = lnfast.load(path, zoneout=0.3)
    # model.layers reports the float32 values the core computes with.
    assert [layer.zoneout for layer in model.layers] == [float(np.float32(0.3))] * 2
    assert lnfast.load(path).layers[0].zoneout == 0.0


class CellStackOfHasteGru(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnns = nn.ModuleList([tc.HasteLayerNormGRU(5, 9), tc.HasteLayerNormGRU(9, 9)])


def test_forget_bias_is_added_to_the_forget_gate(tmp_path):
    path, module = saved(tmp_path, tc.IcefallLayerNormLSTM(2, 5, 9), 9)
    model = lnfast.load(path, forget_bias=1.0)
    with_bias = [lnfast.LSTM(c.w_ih, c.w_hh, c.b_ih, c.b_hh, norm="per_gate", ln_gates=c.ln_gates,
                             cell_norm="state", ln_c=c.ln_c, forget_bias=1.0)
                 for c in tc.to_lnfast_icefall_lstm(module)]
    np.testing.assert_array_equal(outputs(model, 5), outputs(lnfast.Model(with_bias), 5))
    assert not np.array_equal(outputs(model, 5), outputs(lnfast.load(path), 5))


def test_eps_replaces_every_norms_eps(tmp_path):
    path, _ = saved(tmp_path, tc.FastrnnsStackedLSTM(2, 5, 9), 9)
    model = lnfast.load(path, eps=1e-3)
    for layer in model.layers:
        assert layer.ln_x.eps == layer.ln_h.eps == layer.ln_c.eps == float(np.float32(1e-3))
    assert lnfast.load(path).layers[0].ln_c.eps == float(np.float32(1e-5))


def test_activation_for_nn_rnn(tmp_path):
    path, _ = saved(tmp_path, nn.RNN(5, 7, 2, nonlinearity="relu"), 7)
    assert [layer.activation for layer in lnfast.load(path, activation="relu").layers] == ["relu"] * 2
    assert lnfast.load(path).layers[0].activation == "tanh"


@pytest.mark.parametrize("option, value, message", [
    ("forget_bias", 1.0, "forget_bias applies to LSTM layers"),
    ("activation", "relu", "activation applies to RNN layers"),
])
def test_options_that_cannot_apply_are_refused(tmp_path, option, value, message):
    path, _ = saved(tmp_path, nn.GRU(5, 7), 7)
    with pytest.raises(ValueError, match=message):
        lnfast.load(path, **{option: value})


def test_eps_on_a_network_without_norms_is_refused(tmp_path):
    path, _ = saved(tmp_path, nn.LSTM(5, 7), 7)
    with pytest.raises(ValueError, match="eps applies to layer norms"):
        lnfast.load(path, eps=1e-3)


@pytest.mark.parametrize("options, error", [
    ({"zoneout": 1.5}, ValueError), ({"zoneout": "0.1"}, TypeError), ({"eps": -1.0}, ValueError),
    ({"activation": "gelu"}, ValueError), ({"forget_bias": float("nan")}, TypeError),
])
def test_bad_option_values(tmp_path, options, error):
    path, _ = saved(tmp_path, tc.HasteLayerNormLSTM(5, 7), 7)
    with pytest.raises(error):
        lnfast.load(path, **options)


def test_isa_is_passed_to_the_model(tmp_path):
    path, _ = saved(tmp_path, nn.GRU(5, 7), 7)
    assert lnfast.load(path, isa="scalar").isa == "scalar"


def test_weights_option_reaches_the_model(tmp_path):
    import numpy as np
    import torch
    import lnfast

    torch.manual_seed(0)
    path = tmp_path / "lstm.pt"
    torch.save(torch.nn.LSTM(5, 16, 2).state_dict(), path)
    X = np.random.default_rng(0).standard_normal((100, 5)).astype(np.float32)
    exact = lnfast.load(path).stream().run(X)
    for weights, bound in (("bf16", 1e-2), ("int8", 3e-2)):
        model = lnfast.load(path, weights=weights)
        assert model.weights == weights
        assert 0 < np.abs(model.stream().run(X) - exact).max() <= bound
    with pytest.raises(ValueError, match="weights must be 'fp32', 'bf16' or 'int8'"):
        lnfast.load(path, weights="fp8")
