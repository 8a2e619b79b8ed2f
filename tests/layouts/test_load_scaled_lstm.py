"""icefall's ScaledLSTM: every weight and bias times exp of its log-scale,
folded at load (parity over 500 steps: test_load_parity.py)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (random_inputs, randomize, run_lnfast, run_torch,  # noqa: E402
                                 torch_bytes as saved)
from variants import stepped_outputs_agreeing  # noqa: E402


@pytest.fixture
def scaled():
    torch.manual_seed(5)
    return randomize(tc.IcefallScaledLSTM(5, 9, 2, proj_size=4), 9, seed=5)


def test_loads_with_no_options_and_is_named(scaled):
    data = saved(scaled.state_dict())
    model = lnfast.load(data)
    assert model.hidden_size == 4 and model.num_layers == 2
    inputs = random_inputs(300, 5)
    reference = run_torch(scaled, inputs, torch.float64)
    for isa in lnfast.supported_isas():
        ours = stepped_outputs_agreeing(lnfast.load(data, isa=isa), inputs)
        assert np.abs(ours - reference).max() <= 1e-5, isa
    report = str(lnfast.inspect(data))
    assert "icefall_scaled_lstm" in report and "icefall ScaledLSTM(proj_size)" in report
    assert lnfast.load(data, layout="icefall").num_layers == 2


def test_every_scale_matters(scaled):
    """A scale of 0 leaves its weight alone; changing any one changes the output."""
    inputs = random_inputs(50, 5)
    base = run_lnfast(lnfast.load(saved(scaled.state_dict())), inputs)
    for name in scaled._flat_weights_names:
        state = scaled.state_dict()
        state[name + "_scale"] = state[name + "_scale"] + 0.1
        assert np.abs(run_lnfast(lnfast.load(saved(state)), inputs) - base).max() > 1e-4, name


def test_a_missing_scale_is_named(scaled):
    state = scaled.state_dict()
    del state["bias_hh_l1_scale"]
    with pytest.raises(lnfast.LayoutError, match=r"'bias_hh_l1_scale' \(log-scale of bias_hh_l1\)"
                                                 r".* is not in the checkpoint"):
        lnfast.load(saved(state))


def test_a_scale_without_its_weight_is_named(scaled):
    state = scaled.state_dict()
    del state["bias_ih_l0"]
    with pytest.raises(lnfast.LayoutError, match="'bias_ih_l0_scale' scales 'bias_ih_l0', which is not"):
        lnfast.load(saved(state))


@pytest.mark.parametrize("value, shape", [(float("nan"), ()), (800.0, ()), (120.0, ()), (0.0, (2,))])
def test_a_bad_scale_is_named(scaled, value, shape):
    state = scaled.state_dict()
    state["weight_hh_l0_scale"] = torch.full(shape, value)
    with pytest.raises(lnfast.LayoutError, match="'weight_hh_l0_scale'"):
        lnfast.load(saved(state))
