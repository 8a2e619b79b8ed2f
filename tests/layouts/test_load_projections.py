"""LSTM projections (h' = W_hr (o * tanh(c))) in the layouts that write them:
icefall's LayerNormLSTMCell(proj_size) and NeMo's prediction network
(rnn(norm=None, proj_size), an nn.LSTM). Parity over 500 steps is in
test_load_parity.py; here: sizes, state, names and refusals."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402
from layout_test_support import (random_inputs, randomize, run_torch,  # noqa: E402
                                 torch_bytes as saved)
from variants import stepped_outputs_agreeing  # noqa: E402


@pytest.fixture
def icefall_proj():
    torch.manual_seed(3)
    return randomize(tc.IcefallLayerNormLSTM(2, 5, 9, proj_size=4), 9, seed=3)


def test_icefall_projection_gives_the_model_proj_size_outputs(icefall_proj):
    model = lnfast.load(saved(icefall_proj.state_dict()))
    assert model.hidden_size == 4 and [c.output_size for c in model.layers] == [4, 4]
    assert [c.hidden_size for c in model.layers] == [9, 9]
    stream = model.stream()
    inputs = random_inputs(40, 5)
    assert stream.step(inputs[0]).shape == (4,)
    assert stream.run(inputs[1:]).shape == (39, 4)
    state = stream.state
    assert [(s["h"].shape, s["c"].shape) for s in state] == [((4,), (9,))] * 2
    reference = run_torch(icefall_proj, inputs, torch.float64)
    for isa in lnfast.supported_isas():
        ours = stepped_outputs_agreeing(lnfast.load(saved(icefall_proj.state_dict()), isa=isa), inputs)
        assert np.abs(ours - reference).max() <= 1e-5, isa


def test_inspect_names_the_icefall_projection(icefall_proj):
    report = str(lnfast.inspect(saved(icefall_proj.state_dict())))
    assert "icefall LayerNormLSTMCell(proj_size)" in report
    assert "5 -> 4 -> 4" in report


def test_a_projection_of_the_wrong_width_names_weight_hr(icefall_proj):
    state = icefall_proj.state_dict()
    state["layers.1.cell.weight_hr"] = state["layers.1.cell.weight_hr"][:, :8].clone()
    with pytest.raises(lnfast.LayoutError, match=r"'layers\.1\.cell\.weight_hr' \(projection"):
        lnfast.load(saved(state))


def test_another_unknown_key_beside_the_projection_is_named(icefall_proj):
    state = icefall_proj.state_dict()
    state["layers.0.cell.weight_peephole"] = torch.zeros(9)
    with pytest.raises(lnfast.LayoutError) as caught:
        lnfast.load(saved(state))
    message = str(caught.value)
    assert "fit no known layout" in message and "'weight_peephole'" in message
