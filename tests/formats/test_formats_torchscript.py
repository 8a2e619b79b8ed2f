"""TorchScript archives: weights come out of inert __torch__ objects, code is never read."""

import os
import re

import numpy as np
import pytest
import torch

from formats_test_support import rewrite_zip
from lnfast.formats import read_checkpoint

# torch 2.13 deprecates torch.jit; its archives still exist in the wild.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


class LstmTagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = torch.nn.LSTM(3, 4, num_layers=2)
        self.norm = torch.nn.LayerNorm(4)
        self.head = torch.nn.Linear(4, 2)
        self.register_buffer("scale", torch.full((2,), 0.5).half())

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(self.norm(y)) * self.scale.float()


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return LstmTagger().eval()


def check_weights(checkpoint, model):
    assert checkpoint.format == "torchscript"
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(checkpoint.tensors[name], value.float().numpy())
    assert checkpoint.dtypes["scale"] == "float16"
    # TorchScript mangles a class's name once another script of the same
    # class exists in the process (__torch__...rnn.___torch_mangle_0.LSTM):
    # which name is written depends on what other tests scripted first.
    lstm_classes = [name for name in checkpoint.extras["placeholders"]
                    if re.fullmatch(r"__torch__\.torch\.nn\.modules\.rnn\.(___torch_mangle_\d+\.)?LSTM", name)]
    assert len(lstm_classes) == 1, checkpoint.extras["placeholders"]


def test_scripted_module(tmp_path, model):
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(model), path)
    checkpoint = read_checkpoint(path)
    check_weights(checkpoint, model)
    # The LSTM's _flat_weights list repeats the parameters: reported, not duplicated.
    assert checkpoint.extras["aliases"]["rnn._flat_weights.0"] == "rnn.weight_ih_l0"


def test_traced_module_with_a_tensor_constant(tmp_path, model):
    class WithConstant(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x) + torch.tensor([1.5, -2.0])

    path = tmp_path / "traced.pt"
    with pytest.warns(torch.jit.TracerWarning):
        traced = torch.jit.trace(WithConstant(model), torch.randn(5, 1, 3))
    torch.jit.save(traced, path)
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "torchscript"
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(checkpoint.tensors[f"inner.{name}"], value.float().numpy())
    constants = [k for k in checkpoint.tensors if k.startswith("__constants__.")]
    assert any(np.array_equal(checkpoint.tensors[k], [1.5, -2.0]) for k in constants)


def test_code_records_are_never_needed(tmp_path, model):
    """Replacing every code file with garbage changes nothing: it is never read."""
    original = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(model), original)
    garbage = rewrite_zip(
        original,
        tmp_path / "garbage_code.pt",
        transform=lambda name, data: b"raise SystemExit(1)\n" if "/code/" in name else data,
    )
    check_weights(read_checkpoint(garbage), model)


def test_code_is_not_executed(tmp_path, model):
    marker = tmp_path / "ran"
    original = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(model), original)
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).touch()\n".encode()
    hostile = rewrite_zip(
        original,
        tmp_path / "hostile_code.pt",
        transform=lambda name, data: payload if name.endswith(".py") else data,
    )
    check_weights(read_checkpoint(hostile), model)
    assert not os.path.exists(marker)
