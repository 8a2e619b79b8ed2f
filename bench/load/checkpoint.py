"""The checkpoint both load benchmarks read: torch's nn.LSTM, 2 layers,
input and hidden size 1024, fp32 with biases (64 MiB of weight matrices),
saved by torch.save as a state_dict."""
from __future__ import annotations

import os

HIDDEN = 1024
LAYERS = 2


def write_lstm_checkpoint(path: str, hidden: int = HIDDEN, layers: int = LAYERS) -> str:
    """Writes the checkpoint (seeded, so every run reads the same bytes) and returns path."""
    import torch

    torch.manual_seed(0)
    module = torch.nn.LSTM(hidden, hidden, num_layers=layers)
    torch.save(module.state_dict(), path)
    return path


def torch_module(hidden: int = HIDDEN, layers: int = LAYERS):
    """An nn.LSTM of the checkpoint's shape, for load_state_dict."""
    import torch

    return torch.nn.LSTM(hidden, hidden, num_layers=layers)


def default_path(directory: str) -> str:
    return os.path.join(directory, f"lstm_{LAYERS}x{HIDDEN}.pt")
