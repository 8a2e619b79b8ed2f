"""DreamerV2/V3's LN-GRU from sheeprl and dreamerv3-torch, loaded with no
options (parity over 500 steps: test_load_parity.py): names, eps, the
[x, h] split, every weight format and ISA, and refusals."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (random_inputs, randomize, run_torch,  # noqa: E402
                                 torch_bytes as saved)
from variants import stepped_outputs_agreeing  # noqa: E402

# Bounds of each weight format against float64 over these steps, as in
# tests/model/test_weight_formats.py: fp32 is float32 rounding, bf16 and
# int8 the storage error of the weights.
BOUNDS = {"fp32": 1e-5, "bf16": 5e-2, "int8": 5e-2}


def sheeprl(bias=False, eps=1e-3):
    torch.manual_seed(2)
    return randomize(tc.SheeprlLayerNormGRUCell(6, 10, bias=bias, eps=eps), 10, seed=2)


def dreamerv3_torch(norm=True):
    torch.manual_seed(3)
    return randomize(tc.Dreamerv3TorchGRUCell(6, 10, norm=norm), 10, seed=3)


@pytest.mark.parametrize("make, layout, kind", [
    (sheeprl, "sheeprl_gru", "sheeprl LayerNormGRUCell (DreamerV2/V3)"),
    (dreamerv3_torch, "dreamerv3_torch_gru", "dreamerv3-torch GRUCell"),
])
def test_named_by_inspect_and_selected_by_layout(make, layout, kind):
    data = saved({"agent": {f"world_model.rnn.{k}": v for k, v in make().state_dict().items()}})
    report = str(lnfast.inspect(data))
    assert layout in report and kind in report and "6 -> 10" in report
    for name in (layout, "dreamer"):
        model = lnfast.load(data, layout=name)
        assert (model.input_size, model.hidden_size) == (6, 10)
    (cell,) = model.layers
    assert (cell.norm, cell.reset, cell.update_bias, cell.update) == \
        ("joint", "candidate", -1.0, "paper")


def test_eps_follows_sheeprls_agents_and_the_option_overrides_it():
    assert lnfast.load(saved(sheeprl().state_dict())).layers[0].ln.eps == pytest.approx(1e-3)
    assert lnfast.load(saved(sheeprl(bias=True).state_dict())).layers[0].ln.eps == \
        pytest.approx(1e-5)
    module = sheeprl(eps=1e-5)
    model = lnfast.load(saved(module.state_dict()), eps=1e-5)
    inputs = random_inputs(200, 6)
    assert np.abs(model.run(inputs) - run_torch(module, inputs, torch.float64)).max() <= 1e-5


def test_dreamerv3_torch_without_a_norm():
    module = dreamerv3_torch(norm=False)
    (cell,) = lnfast.load(saved(module.state_dict())).layers
    assert cell.norm == "none" and cell.reset == "candidate"


@pytest.mark.parametrize("weights", sorted(BOUNDS))
@pytest.mark.parametrize("make", [sheeprl, dreamerv3_torch], ids=["sheeprl", "dreamerv3_torch"])
def test_every_weight_format_and_isa_steps_runs_and_batches_alike(make, weights):
    module = make()
    inputs = random_inputs(300, 6)
    reference = run_torch(module, inputs, torch.float64)
    for isa in lnfast.supported_isas():
        model = lnfast.load(saved(module.state_dict()), weights=weights, isa=isa)
        assert np.abs(stepped_outputs_agreeing(model, inputs) - reference).max() <= BOUNDS[weights]


def test_joined_weights_that_fit_no_hidden_size_are_named():
    state = sheeprl().state_dict()
    state["linear.weight"] = state["linear.weight"][:, :10].clone()  # no input columns left
    with pytest.raises(lnfast.LayoutError, match=r"'linear\.weight' has shape \(30, 10\), not "
                                                 r"\(3H, H \+ input_size\)"):
        lnfast.load(saved(state))
    state = dreamerv3_torch(norm=False).state_dict()
    state["layers.GRU_linear.weight"] = state["layers.GRU_linear.weight"][:29].clone()
    with pytest.raises(lnfast.LayoutError, match=r"'layers\.GRU_linear\.weight' \(joined weights"):
        lnfast.load(saved(state))


def test_a_linear_and_norm_without_a_gru_shape_is_not_a_gru():
    """An MLP block's Linear(8, 5) + LayerNorm(5) has no 3H rows to split."""
    state = {"block.linear.weight": torch.zeros(5, 8), "block.layer_norm.weight": torch.ones(5)}
    with pytest.raises(lnfast.LayoutError, match="no recurrent network in a known layout"):
        lnfast.load(saved(state))


def test_a_mapping_describes_the_same_gru_with_separate_matrices():
    """A user's DreamerV3-style cell storing W_x and W_h apart loads through
    lnfast.Mapping with the same options, to the same bits."""
    module = sheeprl(bias=True, eps=1e-3)
    state = module.state_dict()
    joined = state.pop("linear.weight")
    split = {"w_x": joined[:, 10:].clone(), "w_h": joined[:, :10].clone(), "b": state.pop("linear.bias"),
             "ln.weight": state.pop("layer_norm.weight"), "ln.bias": state.pop("layer_norm.bias")}
    mapping = lnfast.Mapping(family="GRU", w_ih="w_x", w_hh="w_h", b_ih="b", gate_order="rnz",
                             norm="joint", ln_gates="ln", eps=1e-3, reset="candidate",
                             update_bias=-1.0, update="paper")
    inputs = random_inputs(100, 6)
    np.testing.assert_array_equal(lnfast.load(saved(split), layout=mapping).run(inputs),
                                  lnfast.load(saved(module.state_dict()), eps=1e-3).run(inputs))
    with pytest.raises(ValueError, match="Mapping.update_bias applies to GRU cells"):
        lnfast.Mapping(family="LSTM", w_ih="a", w_hh="b", update_bias=-1.0)
