"""lnfast.from_torch: the same conversion from a live module."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (TOLERANCE_VS_FLOAT32, TOLERANCE_VS_FLOAT64, CellList,  # noqa: E402
                                 IfogLSTMCell, Wrapped, max_abs_error, random_inputs, randomize,
                                 run_lnfast, run_torch)


def random(module, hidden_size):
    torch.manual_seed(1)
    return randomize(module, hidden_size, seed=1)


def errors(model, module, input_size, steps=300):
    inputs = random_inputs(steps, input_size)
    ours = run_lnfast(model, inputs)
    return (max_abs_error(ours, run_torch(module, inputs, torch.float64)),
            max_abs_error(ours, run_torch(module, inputs, torch.float32)))


def test_nn_rnn_nonlinearity_is_read_from_the_module():
    rnn = random(nn.RNN(6, 9, 2, nonlinearity="relu"), 9)
    model = lnfast.from_torch(rnn)
    assert [layer.activation for layer in model.layers] == ["relu", "relu"]
    err64, err32 = errors(model, rnn, 6)
    assert err64 <= TOLERANCE_VS_FLOAT64 and err32 <= TOLERANCE_VS_FLOAT32


def test_nonlinearity_of_a_nested_rnn_and_of_rnn_cells():
    wrapped = Wrapped(random(nn.RNN(6, 9, nonlinearity="relu"), 9), 9)
    assert lnfast.from_torch(wrapped).layers[0].activation == "relu"
    cells = CellList([nn.RNNCell(4, 5, nonlinearity="relu"), nn.RNNCell(5, 5)])
    assert [layer.activation for layer in lnfast.from_torch(cells).layers] == ["relu", "tanh"]


def test_an_activation_that_contradicts_the_module_is_refused():
    with pytest.raises(ValueError, match="contradicts"):
        lnfast.from_torch(nn.RNN(4, 5, nonlinearity="relu"), activation="tanh")


def test_same_model_as_loading_the_saved_state_dict(tmp_path):
    stack = random(tc.HasteLayerNormGRU(5, 11), 11)
    path = tmp_path / "haste.pt"
    torch.save(stack.state_dict(), path)
    inputs = random_inputs(100, 5)
    np.testing.assert_array_equal(run_lnfast(lnfast.from_torch(stack, zoneout=0.2), inputs),
                                  run_lnfast(lnfast.load(path, zoneout=0.2), inputs))


def test_with_a_mapping_and_a_double_module():
    cell = random(IfogLSTMCell(7, 13), 13).double()
    mapping = lnfast.Mapping(family="LSTM", w_ih="weight_ih", w_hh="weight_hh",
                             b_ih="bias_ih", b_hh="bias_hh", gate_order="ifog")
    err64, _ = errors(lnfast.from_torch(cell, layout=mapping), cell, 7)
    assert err64 <= TOLERANCE_VS_FLOAT64


def test_lstm_projections_load_with_no_options(tmp_path):
    torch.manual_seed(0)
    module = nn.LSTM(5, 9, num_layers=2, proj_size=4)
    path = tmp_path / "proj.pt"
    torch.save(module.state_dict(), path)
    model = lnfast.load(path)
    assert model.hidden_size == 4 and [c.output_size for c in model.layers] == [4, 4]
    inputs = random_inputs(300, 5)
    with torch.no_grad():
        expected = module(torch.from_numpy(inputs))[0].numpy()
    assert np.abs(run_lnfast(model, inputs) - expected).max() <= 1e-5
    assert "nn.LSTM(proj_size)" in str(lnfast.inspect(path))
