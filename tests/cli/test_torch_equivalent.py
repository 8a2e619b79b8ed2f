"""The PyTorch rendering used by `lnfast bench` computes what lnfast does."""
import numpy as np
import pytest

import lnfast
from variants import VARIANTS, make_stack

torch = pytest.importorskip("torch")
from lnfast.torch_equivalent import TorchStack  # noqa: E402


@pytest.mark.parametrize("kind", VARIANTS)
def test_torch_stack_matches_lnfast(kind):
    cells = make_stack(kind, (5, 17, 9), np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((200, 5)).astype(np.float32)
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
