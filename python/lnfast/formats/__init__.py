"""Reading checkpoint files into named float32 numpy arrays, safely.

    from lnfast.formats import read_checkpoint
    checkpoint = read_checkpoint("model.pt")
    checkpoint.tensors["rnn.weight_ih_l0"]   # float32, C-contiguous

Supported: torch.save zip archives (any archive folder name), the legacy
torch.save format, TorchScript archives (torch.jit.save) and safetensors.
Pickles are read by an unpickler that never imports or runs anything the
file names; see safe_unpickler.py.
"""

from .checkpoint import FORMATS, Checkpoint
from .reader import mapped_checkpoint, read_checkpoint

__all__ = ["Checkpoint", "FORMATS", "mapped_checkpoint", "read_checkpoint"]
