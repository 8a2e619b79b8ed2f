"""The PyTorch rendering used by `lnfast bench` computes what lnfast does."""
import numpy as np
import pytest

import lnfast
from variants import LSTM_VARIANTS, VARIANTS, make_projected_cell, make_stack

torch = pytest.importorskip("torch")
from lnfast.torch_equivalent import TorchStack  # noqa: E402


def steps_agree(cells, X):
    ours = lnfast.Model(cells).stream().run(X)
    module = TorchStack(cells)
    state = module.zero_state()
    theirs = []
    with torch.inference_mode():
        for x in torch.from_numpy(X):
            h, state = module.step(x, state)
            theirs.append(h.numpy().copy())
    # float32 on both sides: a few ulps per step, bounded states.
    assert np.abs(np.stack(theirs) - ours).max() <= 1e-4


@pytest.mark.parametrize("kind", VARIANTS)
def test_torch_stack_matches_lnfast(kind):
    cells = make_stack(kind, (5, 17, 9), np.random.default_rng(0))
    steps_agree(cells, np.random.default_rng(1).standard_normal((200, 5)).astype(np.float32))


@pytest.mark.parametrize("kind", LSTM_VARIANTS)
def test_projected_lstm_matches_lnfast(kind):
    rng = np.random.default_rng(2)
    cells = [make_projected_cell(kind, 5, 17, 6, rng), make_projected_cell(kind, 6, 9, 4, rng)]
    steps_agree(cells, np.random.default_rng(3).standard_normal((200, 5)).astype(np.float32))
