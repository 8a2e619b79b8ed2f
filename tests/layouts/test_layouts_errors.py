"""Tensors that do not fit their role, and networks lnfast refuses: the
error names the tensor, the shape found and the shape expected, or says why."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402


def save(tmp_path, state: dict, name="bad.pt"):
    path = tmp_path / name
    torch.save(state, path)
    return path


def load_error(path, **kwargs) -> str:
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path, **kwargs)
    return str(error.value)


def test_weight_hh_whose_rows_are_not_4h(tmp_path):
    state = nn.LSTM(7, 13).state_dict()
    state["weight_hh_l0"] = torch.zeros(53, 13)
    message = load_error(save(tmp_path, state))
    assert "'weight_hh_l0'" in message and "(53, 13)" in message
    assert "G = 4 (LSTM), 3 (GRU) or 1 (RNN)" in message


def test_upper_layer_of_another_family_than_the_first(tmp_path):
    state = nn.LSTM(7, 13, 2).state_dict()
    state["weight_hh_l1"] = torch.zeros(39, 13)   # a GRU's shape
    message = load_error(save(tmp_path, state))
    assert "'weight_hh_l1'" in message and "(39, 13)" in message and "(52, 13)" in message


def test_upper_layer_input_that_does_not_match_the_layer_below(tmp_path):
    state = nn.LSTM(7, 13, 2).state_dict()
    state["weight_ih_l1"] = torch.zeros(52, 12)
    message = load_error(save(tmp_path, state))
    assert "'weight_ih_l1'" in message and "(52, 12)" in message and "(52, 13)" in message


def test_fastrnns_recurrent_weights_of_the_wrong_shape(tmp_path):
    state = tc.FastrnnsStackedLSTM(2, 5, 9).state_dict()
    state["layers.1.cell.weight_hh"] = torch.zeros(37, 9)
    message = load_error(save(tmp_path, state))
    assert "'layers.1.cell.weight_hh'" in message and "(37, 9)" in message and "(36, 9)" in message


def test_haste_gamma_of_the_wrong_length(tmp_path):
    state = tc.HasteLayerNormLSTM(5, 9).state_dict()
    state["gamma"] = torch.ones(2, 37)
    message = load_error(save(tmp_path, state))
    assert "'gamma'" in message and "(2, 37)" in message and "(2, 36)" in message


def test_icefall_gate_norm_of_the_wrong_length(tmp_path):
    state = tc.IcefallLayerNormGRU(1, 5, 9).state_dict()
    state["layers.0.cell.layernorm_n.weight"] = torch.ones(10)
    message = load_error(save(tmp_path, state))
    assert "'layers.0.cell.layernorm_n.weight'" in message and "(10,)" in message and "(9,)" in message


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(5, 7, 2, bidirectional=True),
    lambda: nn.GRU(5, 7, bidirectional=True),
])
def test_bidirectional_networks_load_but_refuse_to_stream(tmp_path, make):
    model = lnfast.load(save(tmp_path, make().state_dict()))
    with pytest.raises(TypeError) as caught:
        model.stream()
    message = str(caught.value)
    assert "bidirectional" in message and "from the end" in message and "model.run(X)" in message


def test_a_projection_of_the_wrong_width_names_its_key(tmp_path):
    state = nn.LSTM(5, 7, proj_size=3).state_dict()
    state["weight_hr_l0"] = state["weight_hr_l0"][:, :6].clone()
    message = load_error(save(tmp_path, state))
    assert "weight_hh_l0" in message or "weight_hr_l0" in message


def test_a_nan_weight_names_the_layer(tmp_path):
    state = nn.GRU(5, 7, 2).state_dict()
    state["weight_hh_l1"][3, 2] = float("nan")
    message = load_error(save(tmp_path, state))
    assert "layer 1" in message and "non-finite" in message


def test_layout_error_is_a_checkpoint_error_and_pickles(tmp_path):
    path = save(tmp_path, {"x": torch.zeros(3)})
    with pytest.raises(lnfast.CheckpointError) as error:
        lnfast.load(path)
    assert isinstance(error.value, lnfast.LayoutError) and isinstance(error.value, ValueError)
    again = pickle.loads(pickle.dumps(error.value))
    assert str(again) == str(error.value) and again.path == str(path)


def test_an_unreadable_file_is_a_checkpoint_error_not_a_layout_error(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(np.arange(100, dtype=np.uint8).tobytes())
    with pytest.raises(lnfast.CheckpointError) as error:
        lnfast.load(path)
    assert not isinstance(error.value, lnfast.LayoutError)
