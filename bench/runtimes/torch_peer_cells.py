"""The benchmarked cells as PyTorch modules, and their converter to lnfast.

Every cell steps batch 1 with nn.LSTMCell's calling convention, so one eager
timing loop serves the plain cells and the LN ones alike:

    h, c = cell(x, (h, c))       # ln_lstm, lstm
    h = cell(x, h)               # ln_gru, ln_rnn, gru

The LN cells are written the way a user would write them from the formulas
of README.md's "Variants" table (PyTorch fastrnns' LN-LSTM, haste's LN-GRU, Ba et al.'s
LN-RNN), with nn.LayerNorm and F.linear.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lnfast
from runtimes.cell_params import LN_EPS, Params, has_cell_state, lnfast_model


class LayerNormLSTMCell(nn.Module):
    """gates = LN_i(W_ih x) + LN_h(W_hh h); c' = LN_c(sig(f) c + sig(i) tanh(g));
    h' = sig(o) tanh(c'). The norms' shifts are the only biases."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.ln_i = nn.LayerNorm(4 * hidden_size, eps=LN_EPS)
        self.ln_h = nn.LayerNorm(4 * hidden_size, eps=LN_EPS)
        self.ln_c = nn.LayerNorm(hidden_size, eps=LN_EPS)

    def forward(self, x: torch.Tensor, state: Tuple[torch.Tensor, torch.Tensor]
                ) -> Tuple[torch.Tensor, torch.Tensor]:
        h, c = state
        gates = self.ln_i(F.linear(x, self.weight_ih)) + self.ln_h(F.linear(h, self.weight_hh))
        i, f, g, o = gates.chunk(4, 1)
        c = self.ln_c(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g))
        return torch.sigmoid(o) * torch.tanh(c), c


class LayerNormGRUCell(nn.Module):
    """xp = LN_x(W x) + b_x; hp = LN_h(U h) + b_h (gain-only norms over 3H);
    r, z = sig(xr + hr), sig(xz + hz); n = tanh(xn + r hn); h' = (1 - z) n + z h."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        rows = 3 * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows))
        self.bias_hh = nn.Parameter(torch.empty(rows))
        self.ln_x = nn.LayerNorm(rows, eps=LN_EPS, bias=False)
        self.ln_h = nn.LayerNorm(rows, eps=LN_EPS, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        xr, xz, xn = (self.ln_x(F.linear(x, self.weight_ih)) + self.bias_ih).chunk(3, 1)
        hr, hz, hn = (self.ln_h(F.linear(h, self.weight_hh)) + self.bias_hh).chunk(3, 1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1.0 - z) * n + z * h


class LayerNormRNNCell(nn.Module):
    """h' = tanh(LN(W x + U h))."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.ln = nn.LayerNorm(hidden_size, eps=LN_EPS)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.ln(F.linear(x, self.weight_ih) + F.linear(h, self.weight_hh)))


CELL_CLASSES = {"ln_lstm": LayerNormLSTMCell, "ln_gru": LayerNormGRUCell,
                "ln_rnn": LayerNormRNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


class FlatLSTMStep(nn.Module):
    """(x, h, c) -> (h', c'): a tuple-free signature for ONNX export."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor):
        return self.cell(x, (h, c))


class FlatStep(nn.Module):
    """(x, h) -> h' for the GRU and RNN cells."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.cell = cell

    def forward(self, x: torch.Tensor, h: torch.Tensor):
        return self.cell(x, h)


def torch_cell(kind: str, params: Params) -> nn.Module:
    """A float32 eval-mode cell holding ``params``, gradients off."""
    H, I = params["weight_hh"].shape[1], params["weight_ih"].shape[1]
    cell = CELL_CLASSES[kind](I, H)
    cell.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in params.items()})
    cell.requires_grad_(False)
    return cell.float().eval()


def kind_of(cell: nn.Module) -> str:
    for kind, cls in CELL_CLASSES.items():
        if type(cell) is cls:
            return kind
    raise TypeError(f"no lnfast conversion for {type(cell).__name__}")


def to_lnfast(cell: nn.Module) -> lnfast.Model:
    """The converter: the lnfast model equivalent to a PyTorch cell."""
    params = {k: np.ascontiguousarray(v.detach().cpu().numpy(), dtype=np.float32)
              for k, v in cell.state_dict().items()}
    return lnfast_model(kind_of(cell), params)


def flat_step_module(cell: nn.Module) -> nn.Module:
    return (FlatLSTMStep if has_cell_state(kind_of(cell)) else FlatStep)(cell).eval()
