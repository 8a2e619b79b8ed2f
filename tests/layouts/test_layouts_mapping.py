"""lnfast.Mapping: loading a module lnfast does not recognise by its names."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (TOLERANCE_VS_FLOAT64, IfogLSTMCell, max_abs_error,  # noqa: E402
                                 random_inputs, randomize, run_lnfast, run_torch)

IFOG = dict(family="LSTM", w_ih="weight_ih", w_hh="weight_hh", b_ih="bias_ih", b_hh="bias_hh",
            gate_order="ifog")


def saved(tmp_path, module, hidden_size, wrap=None, name="net.pt"):
    torch.manual_seed(9)
    randomize(module, hidden_size, seed=9)
    state = module.state_dict()
    if wrap:
        state = {f"{wrap}.{k}": v for k, v in state.items()}
    path = tmp_path / name
    torch.save(state, path)
    return path, module


def torch_error(model, module, input_size, steps=200):
    inputs = random_inputs(steps, input_size)
    return max_abs_error(run_lnfast(model, inputs), run_torch(module, inputs, torch.float64))


def same_outputs(a, b, input_size):
    inputs = random_inputs(50, input_size)
    return np.array_equal(run_lnfast(a, inputs), run_lnfast(b, inputs))


def test_ifog_cell_needs_the_mapping(tmp_path):
    path, cell = saved(tmp_path, IfogLSTMCell(7, 13), 13, wrap="cell")
    # Its names are nn.LSTMCell's, so without a Mapping it loads as one -
    # with the o and g gates swapped. This is why the Mapping exists.
    assert torch_error(lnfast.load(path), cell, 7) > 1e-2
    mapped = lnfast.load(path, prefix="cell", layout=lnfast.Mapping(**IFOG))
    assert torch_error(mapped, cell, 7) <= TOLERANCE_VS_FLOAT64
    absolute = {k: (f"cell.{v}" if k in ("w_ih", "w_hh", "b_ih", "b_hh") else v) for k, v in IFOG.items()}
    assert same_outputs(lnfast.load(path, layout=lnfast.Mapping(**absolute)), mapped, 7)


def test_transposed_kernels_gate_order_and_gain_rows_reproduce_haste_gru(tmp_path):
    path, _ = saved(tmp_path, tc.HasteLayerNormGRU(5, 11), 11)
    mapping = lnfast.Mapping(
        family="GRU", w_ih="kernel", w_hh="recurrent_kernel", b_ih="bias", b_hh="recurrent_bias",
        transposed=True, gate_order="zrn", norm="separate",
        ln_x=lnfast.NormKeys(gamma="gamma[0]"), ln_h=lnfast.NormKeys(gamma="gamma[1]"))
    assert same_outputs(lnfast.load(path, layout=mapping), lnfast.load(path), 5)


def test_layer_placeholder_loads_a_stack(tmp_path):
    path, _ = saved(tmp_path, tc.FastrnnsStackedLSTM(3, 5, 9), 9)
    cell = "layers.{k}.cell."
    fields = dict(family="LSTM", w_ih=cell + "weight_ih", w_hh=cell + "weight_hh", norm="separate",
                  ln_x=cell + "layernorm_i", ln_h=cell + "layernorm_h",
                  cell_norm="state", ln_c=cell + "layernorm_c")
    model = lnfast.load(path, layout=lnfast.Mapping(**fields))
    assert model.num_layers == 3
    assert same_outputs(model, lnfast.load(path), 5)
    assert lnfast.load(path, layout=lnfast.Mapping(**fields, num_layers=2)).num_layers == 2


@pytest.mark.parametrize("ln_gates", [
    {"r": "layernorm_r", "z": "layernorm_i", "n": "layernorm_n"},
    {"r": "layernorm_r", "u": "layernorm_i", "n": "layernorm_n"},   # the paper's letter for z
    ["layernorm_r", "layernorm_i", "layernorm_n"],                  # in gate_order
])
def test_per_gate_norms_by_letter_or_in_file_order(tmp_path, ln_gates):
    path, _ = saved(tmp_path, tc.IcefallLayerNormGRUCell(5, 7), 7, wrap="gru")
    mapping = lnfast.Mapping(family="GRU", w_ih="weight_ih", w_hh="weight_hh", b_ih="bias_ih",
                             b_hh="bias_hh", norm="per_gate", ln_gates=ln_gates)
    assert same_outputs(lnfast.load(path, prefix="gru", layout=mapping), lnfast.load(path), 5)


def test_paper_gru_four_norms_and_reversed_update(tmp_path):
    path, cell = saved(tmp_path, tc.PaperLayerNormGRUCell(5, 7), 7)
    mapping = lnfast.Mapping(
        family="GRU", w_ih="weight_ih", w_hh="weight_hh", gate_order="run", norm="paper",
        ln_x=("layernorm_ih_ru", "layernorm_ih_n"), ln_h=("layernorm_hh_ru", "layernorm_hh_n"),
        update="paper")
    assert torch_error(lnfast.load(path, layout=mapping), cell, 5) <= TOLERANCE_VS_FLOAT64


def test_ln_rnn_with_relu(tmp_path):
    path, cell = saved(tmp_path, tc.PaperLayerNormRNNCell(5, 7, activation="relu"), 7)
    mapping = lnfast.Mapping(family="RNN", w_ih="weight_ih", w_hh="weight_hh", norm="per_gate",
                             ln_gates="layernorm", activation="relu")
    assert torch_error(lnfast.load(path, layout=mapping), cell, 5) <= TOLERANCE_VS_FLOAT64


def test_load_options_override_the_mapping(tmp_path):
    path, _ = saved(tmp_path, IfogLSTMCell(5, 7), 7)
    mapping = lnfast.Mapping(**IFOG, zoneout=0.1, forget_bias=0.5)
    model = lnfast.load(path, layout=mapping, zoneout=0.2)
    # model.layers reports the float32 values the core computes with.
    assert (model.layers[0].zoneout, model.layers[0].forget_bias) == (float(np.float32(0.2)), 0.5)


def test_a_missing_key_is_named_with_similar_names(tmp_path):
    path, _ = saved(tmp_path, IfogLSTMCell(5, 7), 7)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path, layout=lnfast.Mapping(**{**IFOG, "w_hh": "weight_hhh"}))
    assert "'weight_hhh'" in str(error.value) and "'weight_hh'" in str(error.value)


def test_a_wrong_shape_is_named(tmp_path):
    path, _ = saved(tmp_path, nn.GRUCell(5, 7), 7)
    with pytest.raises(lnfast.LayoutError) as error:
        lnfast.load(path, layout=lnfast.Mapping(**IFOG))   # a GRU's weights as an LSTM's
    assert "'weight_ih'" in str(error.value) and "(21, 5)" in str(error.value)
    assert "(28, input_size)" in str(error.value)


def test_a_norm_module_that_is_not_there(tmp_path):
    path, _ = saved(tmp_path, IfogLSTMCell(5, 7), 7)
    mapping = lnfast.Mapping(**IFOG, cell_norm="output", ln_c="ln_c")
    with pytest.raises(lnfast.LayoutError, match="neither 'ln_c.weight' nor 'ln_c.bias'"):
        lnfast.load(path, layout=mapping)


@pytest.mark.parametrize("fields, error, match", [
    ({**IFOG, "gate_order": "ifox"}, ValueError, "not an order of the LSTM gates"),
    (dict(family="GRU", w_ih="a", w_hh="b", cell_norm="state"), ValueError,
     "cell_norm applies to LSTM"),
    (dict(family="GRU", w_ih="a", w_hh="b", activation="relu"), ValueError,
     "activation applies to RNN"),
    ({**IFOG, "norm": "paper"}, ValueError, "norm for a LSTM"),
    ({**IFOG, "num_layers": 2}, ValueError, "needs '{k}'"),
    ({**IFOG, "family": "CNN"}, ValueError, "family must be"),
])
def test_mapping_mistakes_are_caught_when_it_is_made(fields, error, match):
    with pytest.raises(error, match=match):
        lnfast.Mapping(**fields)


def test_per_gate_norms_must_cover_every_gate(tmp_path):
    path, _ = saved(tmp_path, IfogLSTMCell(5, 7), 7)
    mapping = lnfast.Mapping(**IFOG, norm="per_gate", ln_gates={"i": None, "f": None})
    with pytest.raises(TypeError, match="one norm per gate"):
        lnfast.load(path, layout=mapping)


def test_the_docstring_stack_example(tmp_path):
    class HasteGruStack(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnns = nn.ModuleList([tc.HasteLayerNormGRU(5, 9), tc.HasteLayerNormGRU(9, 9)])

    path, _ = saved(tmp_path, HasteGruStack(), 9)
    mapping = lnfast.Mapping(
        family="GRU", w_ih="rnns.{k}.kernel", w_hh="rnns.{k}.recurrent_kernel",
        b_ih="rnns.{k}.bias", b_hh="rnns.{k}.recurrent_bias", transposed=True,
        gate_order="zrn", norm="separate",
        ln_x=lnfast.NormKeys(gamma="rnns.{k}.gamma[0]"),
        ln_h=lnfast.NormKeys(gamma="rnns.{k}.gamma[1]"))
    model = lnfast.load(path, layout=mapping)
    assert model.num_layers == 2
    assert same_outputs(model, lnfast.load(path), 5)
