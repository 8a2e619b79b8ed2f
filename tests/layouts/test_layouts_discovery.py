"""Finding the network: module prefixes, wrappers, stacks of single cells,
several candidates, and files with none."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (CellList, Wrapped, random_inputs, randomize,  # noqa: E402
                                 run_lnfast)


def seeded(module, hidden_size, seed=3):
    torch.manual_seed(seed)
    return randomize(module, hidden_size, seed)


def assert_same_outputs(model_a, model_b, input_size):
    inputs = random_inputs(40, input_size)
    np.testing.assert_array_equal(run_lnfast(model_a, inputs), run_lnfast(model_b, inputs))


@pytest.fixture
def lstm():
    return seeded(nn.LSTM(7, 13, 2), 13)


def test_network_under_a_module_prefix_in_a_model_wrapper(tmp_path, lstm):
    path = tmp_path / "wrapped.pt"
    torch.save({"model": Wrapped(lstm, 13).state_dict(), "step": 10}, path)
    model = lnfast.load(path)
    assert_same_outputs(model, lnfast.Model(tc.to_lnfast_torch_rnn(lstm)), 7)
    assert [c.prefix for c in lnfast.inspect(path).candidates] == ["model.encoder.rnn."]


@pytest.mark.parametrize("prefix", ["model_ema.encoder.rnn", "model_ema.encoder.rnn.", "model_ema"])
def test_two_networks_are_ambiguous_until_a_prefix_picks_one(tmp_path, lstm, prefix):
    ema = seeded(nn.LSTM(7, 13, 2), 13, seed=4)
    path = tmp_path / "ema.pt"
    torch.save({"model": Wrapped(lstm, 13).state_dict(),
                "model_ema": Wrapped(ema, 13).state_dict()}, path)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path)
    message = str(error.value)
    assert str(path) in message
    for expected in ("found 2 recurrent networks", "prefix=", "model.encoder.rnn.",
                     "model_ema.encoder.rnn.", "torch_nn", "nn.LSTM", "7 -> 13 -> 13"):
        assert expected in message
    model = lnfast.load(path, prefix=prefix)
    assert_same_outputs(model, lnfast.Model(tc.to_lnfast_torch_rnn(ema)), 7)


def test_layout_picks_between_networks_of_different_sources(tmp_path, lstm):
    icefall = seeded(tc.IcefallLayerNormLSTM(2, 5, 9), 9)
    path = tmp_path / "two_sources.pt"
    torch.save({"encoder." + k: v for k, v in lstm.state_dict().items()}
               | {"decoder." + k: v for k, v in icefall.state_dict().items()}, path)
    with pytest.raises(lnfast.LayoutError, match="layout="):
        lnfast.load(path)
    model = lnfast.load(path, layout="icefall")
    assert_same_outputs(model, lnfast.Model(tc.to_lnfast_icefall_lstm(icefall)), 5)
    assert lnfast.load(path, layout="torch_nn").num_layers == 2


def test_single_cells_in_a_list_chain_into_a_stack_and_each_stays_selectable(tmp_path):
    stack = seeded(CellList([tc.HasteLayerNormLSTM(5, 9), tc.HasteLayerNormLSTM(9, 9)]), 9)
    path = tmp_path / "cells.pt"
    torch.save(stack.state_dict(), path)
    model = lnfast.load(path)
    expected = [tc.to_lnfast_haste_lstm(cell)[0] for cell in stack.cells]
    assert_same_outputs(model, lnfast.Model(expected), 5)
    top = lnfast.load(path, prefix="cells.1")
    assert (top.num_layers, top.input_size) == (1, 9)
    assert_same_outputs(top, lnfast.Model(expected[1]), 9)


def test_cells_whose_sizes_do_not_chain_are_separate_candidates(tmp_path):
    cells = seeded(CellList([nn.GRUCell(5, 11), nn.GRUCell(7, 11)]), 11)
    path = tmp_path / "unchained.pt"
    torch.save(cells.state_dict(), path)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path)
    assert "cells.0." in str(error.value) and "cells.1." in str(error.value)
    assert lnfast.load(path, prefix="cells.1").input_size == 7


def test_a_file_without_a_recurrent_network_lists_its_tensors(tmp_path):
    net = nn.Sequential(*[nn.Linear(5, 5) for _ in range(15)])
    path = tmp_path / "mlp.pt"
    torch.save(net.state_dict(), path)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path)
    message = str(error.value)
    assert "no recurrent network" in message
    assert "0.weight" in message and "(5, 5)" in message
    assert "... and 10 more" in message       # 30 tensors, the first 20 listed
    assert "lnfast.Mapping" in message


def test_a_custom_cell_with_extra_norms_is_a_near_miss_not_a_plain_lstm(tmp_path):
    """Names like nn.LSTMCell's plus a norm the loader does not know: loading
    it as nn.LSTMCell would silently drop the norm."""
    class OwnLNCell(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight_ih = nn.Parameter(torch.zeros(8, 3))
            self.weight_hh = nn.Parameter(torch.zeros(8, 2))
            self.ln_x = nn.LayerNorm(8)

    path = tmp_path / "own.pt"
    torch.save({f"net.cell.{k}": v for k, v in OwnLNCell().state_dict().items()}, path)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path)
    assert "net.cell." in str(error.value) and "ln_x.weight" in str(error.value)


def test_a_prefix_that_matches_nothing_lists_what_was_found(tmp_path, lstm):
    path = tmp_path / "one.pt"
    torch.save({"model": Wrapped(lstm, 13).state_dict()}, path)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path, prefix="model.decoder")
    assert "prefix='model.decoder'" in str(error.value)
    assert "model.encoder.rnn." in str(error.value)


def test_a_prefix_matches_whole_module_names_only(tmp_path, lstm):
    path = tmp_path / "one.pt"
    torch.save({"model": Wrapped(lstm, 13).state_dict()}, path)
    with pytest.raises(lnfast.LayoutError):
        lnfast.load(path, prefix="model.enc")


def test_unknown_layout_name(tmp_path, lstm):
    path = tmp_path / "one.pt"
    torch.save(lstm.state_dict(), path)
    with pytest.raises(ValueError, match="unknown layout 'keras'"):
        lnfast.load(path, layout="keras")
