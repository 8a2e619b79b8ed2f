"""Refusals that say what the checkpoint holds: NeMo's norm='batch'
(BatchNorm between layers), keys no layout explains, and several
networks in one file (icefall's model and model_avg)."""
import io

import pytest
import torch
from torch import nn

import lnfast
import torch_cells as tc


def saved(state) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def load_error(data, **kwargs) -> str:
    with pytest.raises(lnfast.LayoutError) as caught:
        lnfast.load(data, **kwargs)
    return str(caught.value)


# NeMo's BNRNNSum (nemo/collections/common/parts/rnn.py) in its shape: each
# list entry holds an optional BatchNorm1d wrapped in OverLastDim (``bn.module``)
# and a one-layer LSTM, the first without a norm unless norm_first_rnn.
class OverLastDim(nn.Module):
    def __init__(self, module):
        super().__init__()
        self.module = module


class LSTMDropout(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)


class RNNLayer(nn.Module):
    def __init__(self, input_size, hidden_size, batch_norm):
        super().__init__()
        if batch_norm:
            self.bn = OverLastDim(nn.BatchNorm1d(input_size))
            self.rnn = nn.LSTM(input_size, hidden_size, bias=False)
        else:
            self.rnn = LSTMDropout(input_size, hidden_size)


class BNRNNSum(nn.Module):
    def __init__(self, input_size, hidden_size, rnn_layers, norm_first_rnn=False):
        super().__init__()
        self.layers = nn.ModuleList(
            RNNLayer(input_size if k == 0 else hidden_size, hidden_size, norm_first_rnn or k > 0)
            for k in range(rnn_layers))


@pytest.mark.parametrize("layers, first", [(2, False), (3, False), (1, True)])
def test_nemo_batch_norm_between_layers_is_named(layers, first):
    module = BNRNNSum(4, 6, layers, norm_first_rnn=first)
    message = load_error(saved({"state_dict": {f"decoder.prediction.dec_rnn.{k}": v
                                               for k, v in module.state_dict().items()}}))
    assert "a norm between layers sits outside what lnfast runs" in message
    norm = "state_dict.decoder.prediction.dec_rnn.layers.1.bn.module." if layers > 1 else \
        "state_dict.decoder.prediction.dec_rnn.layers.0.bn.module."
    for key in ("running_mean", "running_var", "weight", "bias"):
        assert repr(norm + key) in message
    assert "found" not in message  # not "found 2 recurrent networks"


def test_a_batch_norm_elsewhere_does_not_stop_loading():
    state = {**{f"rnn.{k}": v for k, v in nn.GRU(4, 6, 2).state_dict().items()},
             **{f"frontend.0.bn.{k}": v for k, v in nn.BatchNorm1d(4).state_dict().items()}}
    assert lnfast.load(saved(state)).hidden_size == 6


def test_naming_one_network_loads_it_despite_the_norm():
    module = BNRNNSum(4, 6, 2)
    model = lnfast.load(saved(module.state_dict()), prefix="layers.1.rnn")
    assert (model.input_size, model.hidden_size) == (6, 6)


def test_keys_no_layout_explains_are_named():
    state = tc.IcefallLayerNormLSTM(1, 4, 6).state_dict()
    state["layers.0.cell.weight_extra"] = torch.zeros(6, 6)
    state["layers.0.cell.layernorm_q.weight"] = torch.ones(6)
    message = load_error(saved(state))
    assert "fit no known layout" in message
    assert "the closest, icefall LayerNormLSTMCell, holds no 'layernorm_q.weight', " \
           "'weight_extra'" in message


def test_icefall_model_and_model_avg_are_both_listed():
    stack = tc.IcefallLayerNormLSTM(2, 4, 6).state_dict()
    checkpoint = {"model": {f"encoder.rnn.{k}": v for k, v in stack.items()},
                  # a different average, not the same tensor objects (which the
                  # reader would list as aliases of the first)
                  "model_avg": {f"encoder.rnn.{k}": v * 0.5 for k, v in stack.items()}}
    message = load_error(saved(checkpoint))
    assert "found 2 recurrent networks" in message
    assert "model.encoder.rnn.layers." in message and "model_avg.encoder.rnn.layers." in message
    model = lnfast.load(saved(checkpoint), prefix="model_avg.encoder.rnn.layers")
    assert model.num_layers == 2
