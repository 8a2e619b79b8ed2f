"""The computation of a list of lnfast cells as a PyTorch eager module.

Used by `lnfast bench` to time what a PyTorch user would run for the same
checkpoint (one small op per formula term, batch 1). Imports torch, so only
code that has checked torch is importable may import this module.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .cells import LSTM, RNN, LayerNorm


def _tensor(array):
    return None if array is None else torch.from_numpy(array.copy())


class _Norm:
    def __init__(self, norm: LayerNorm, size: int):
        norm = norm if norm is not None else LayerNorm()
        self.size, self.eps = size, float(norm.eps)
        self.weight, self.bias = _tensor(norm.gamma), _tensor(norm.beta)

    def __call__(self, z):
        return F.layer_norm(z, (self.size,), self.weight, self.bias, self.eps)


def _list(norms, count):
    if norms is None:
        return [None] * count
    return [norms] if isinstance(norms, LayerNorm) else list(norms)


class _Layer:
    def __init__(self, cell):
        self.cell, self.H = cell, cell.hidden_size
        self.W, self.U = _tensor(cell.w_ih), _tensor(cell.w_hh)
        rows = self.W.shape[0]
        zeros = torch.zeros(rows)
        self.b_ih = _tensor(cell.b_ih) if cell.b_ih is not None else zeros
        self.b_hh = _tensor(cell.b_hh) if cell.b_hh is not None else zeros
        H, norm = self.H, cell.norm
        if norm == "separate":
            self.ln_x, self.ln_h = _Norm(cell.ln_x, rows), _Norm(cell.ln_h, rows)
        if norm == "paper":
            lx, lh = _list(cell.ln_x, 2), _list(cell.ln_h, 2)
            self.ln_x = [_Norm(lx[0], 2 * H), _Norm(lx[1], H)]
            self.ln_h = [_Norm(lh[0], 2 * H), _Norm(lh[1], H)]
        if norm == "per_gate":
            gates = cell.ln if isinstance(cell, RNN) else cell.ln_gates
            self.ln_g = [_Norm(n, H) for n in _list(gates, rows // H)]
        if norm == "joint":
            self.ln_all = _Norm(cell.ln, rows)
        if isinstance(cell, LSTM) and cell.cell_norm != "none":
            self.ln_c = _Norm(cell.ln_c, H)
        projected = isinstance(cell, LSTM) and cell.w_hr is not None
        self.W_hr = _tensor(cell.w_hr) if projected else None

    def zero_state(self):
        h = torch.zeros(self.cell.output_size)  # proj_size units when projected
        return (h, torch.zeros(self.H)) if isinstance(self.cell, LSTM) else (h,)

    def _summed(self, x, h):
        if self.cell.norm == "separate":
            return self.ln_x(self.W @ x) + self.ln_h(self.U @ h) + self.b_ih + self.b_hh
        return self.W @ x + self.b_ih + self.U @ h + self.b_hh

    def step(self, x, state):
        cell, H = self.cell, self.H
        h = state[0]
        if isinstance(cell, RNN):
            a = self._summed(x, h)
            if cell.norm == "per_gate":
                a = self.ln_g[0](a)
            h_new = torch.tanh(a) if cell.activation == "tanh" else torch.relu(a)
            new = (h_new,)
        elif isinstance(cell, LSTM):
            s = self._summed(x, h)
            gates = list(s.chunk(4))
            if cell.norm == "per_gate":
                gates = [norm(g) for norm, g in zip(self.ln_g, gates)]
            i, f, g, o = gates
            c = torch.sigmoid(f + cell.forget_bias) * state[1] + torch.sigmoid(i) * torch.tanh(g)
            if cell.cell_norm == "state":
                c = self.ln_c(c)
                h_new = torch.sigmoid(o) * torch.tanh(c)
            elif cell.cell_norm == "output":
                h_new = torch.sigmoid(o) * torch.tanh(self.ln_c(c))
            else:
                h_new = torch.sigmoid(o) * torch.tanh(c)
            if self.W_hr is not None:
                h_new = self.W_hr @ h_new
            new = (h_new, c)
        else:
            wx, uh = self.W @ x, self.U @ h
            if cell.norm == "separate":
                wx, uh = self.ln_x(wx), self.ln_h(uh)
            elif cell.norm == "paper":
                wx = torch.cat([self.ln_x[0](wx[:2 * H]), self.ln_x[1](wx[2 * H:])])
                uh = torch.cat([self.ln_h[0](uh[:2 * H]), self.ln_h[1](uh[2 * H:])])
            xp, hp = wx + self.b_ih, uh + self.b_hh
            if cell.reset == "candidate":
                s = xp + hp
                if cell.norm == "joint":
                    s = self.ln_all(s)
                if cell.norm == "per_gate":
                    s = torch.cat([norm(part) for norm, part in zip(self.ln_g, s.chunk(3))])
                r, z = torch.sigmoid(s[:H]), torch.sigmoid(s[H:2 * H] + cell.update_bias)
                n = torch.tanh(r * s[2 * H:])
            else:
                r_pre, z_pre = xp[:H] + hp[:H], xp[H:2 * H] + hp[H:2 * H]
                if cell.norm == "per_gate":
                    r_pre, z_pre = self.ln_g[0](r_pre), self.ln_g[1](z_pre)
                r, z = torch.sigmoid(r_pre), torch.sigmoid(z_pre + cell.update_bias)
                n_pre = xp[2 * H:] + r * hp[2 * H:]
                if cell.norm == "per_gate":
                    n_pre = self.ln_g[2](n_pre)
                n = torch.tanh(n_pre)
            h_new = (1 - z) * h + z * n if cell.update == "paper" else (1 - z) * n + z * h
            new = (h_new,)
        if cell.zoneout:
            new = (cell.zoneout * h + (1 - cell.zoneout) * new[0],) + new[1:]
        return new


class TorchStack:
    """step(x, state) -> (h_top, state) for 1-D float32 tensors."""

    def __init__(self, cells):
        self.layers = [_Layer(c) for c in cells]

    def zero_state(self):
        return [layer.zero_state() for layer in self.layers]

    def step(self, x, state):
        new_state = []
        for layer, layer_state in zip(self.layers, state):
            layer_state = layer.step(x, layer_state)
            new_state.append(layer_state)
            x = layer_state[0]
        return x, new_state
