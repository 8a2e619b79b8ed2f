"""A float64 NumPy reference for every lnfast cell, written from docs/math.md.

It reads the same lnfast.LSTM/GRU/RNN objects the core is built from, but
computes each formula directly, in double precision, with two-pass layer
norm statistics: nothing is shared with the C++ code paths.
"""
from __future__ import annotations

import numpy as np

import lnfast


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def layer_norm(z, ln: lnfast.LayerNorm):
    z = np.asarray(z, dtype=np.float64)
    mean = z.mean()
    var = ((z - mean) ** 2).mean()
    denom = var + ln.eps
    normed = (z - mean) / np.sqrt(denom) if denom > 0 else np.zeros_like(z)
    if ln.gamma is not None:
        normed = normed * np.asarray(ln.gamma, np.float64)
    if ln.beta is not None:
        normed = normed + np.asarray(ln.beta, np.float64)
    return normed


def _ln(norm):
    return norm if norm is not None else lnfast.LayerNorm()


def _gate_norms(norms, count):
    if norms is None:
        return [lnfast.LayerNorm()] * count
    if isinstance(norms, lnfast.LayerNorm):
        return [norms]
    return list(norms)


class ReferenceLayer:
    def __init__(self, cell):
        self.cell = cell
        self.H = cell.hidden_size
        self.W = cell.w_ih.astype(np.float64)
        self.U = cell.w_hh.astype(np.float64)
        rows = self.W.shape[0]
        self.b_ih = np.zeros(rows) if cell.b_ih is None else cell.b_ih.astype(np.float64)
        self.b_hh = np.zeros(rows) if cell.b_hh is None else cell.b_hh.astype(np.float64)
        # An LSTM projection maps the H units to the output_size of h.
        self.R = None if cell.w_hr is None else cell.w_hr.astype(np.float64)

    def zero_state(self):
        H, out = self.H, self.cell.output_size
        return {"h": np.zeros(out), "c": np.zeros(H)} if isinstance(self.cell, lnfast.LSTM) else {"h": np.zeros(H)}

    def step(self, x, state):
        cell = self.cell
        if isinstance(cell, lnfast.LSTM):
            return self._lstm(x, state)
        if isinstance(cell, lnfast.GRU):
            return self._gru(x, state)
        return self._rnn(x, state)

    def _separate(self, x, h):
        """LN_x(W x) + LN_h(U h) + biases, or the plain sum without norms."""
        cell = self.cell
        wx, uh = self.W @ x, self.U @ h
        if cell.norm == "separate":
            return layer_norm(wx, _ln(cell.ln_x)) + layer_norm(uh, _ln(cell.ln_h)) + self.b_ih + self.b_hh
        return wx + self.b_ih + uh + self.b_hh

    def _zoneout(self, h_new, h_old):
        p = self.cell.zoneout
        return p * h_old + (1 - p) * h_new

    def _rnn(self, x, state):
        cell = self.cell
        a = self._separate(x, state["h"])
        if cell.norm == "per_gate":
            a = layer_norm(a, _gate_norms(cell.ln, 1)[0])
        h = np.tanh(a) if cell.activation == "tanh" else np.maximum(a, 0.0)
        return {"h": self._zoneout(h, state["h"])}

    def _lstm(self, x, state):
        cell, H = self.cell, self.H
        s = self._separate(x, state["h"])
        if cell.norm == "per_gate":
            norms = _gate_norms(cell.ln_gates, 4)
            s = np.concatenate([layer_norm(s[k * H:(k + 1) * H], norms[k]) for k in range(4)])
        i, f, g, o = (s[k * H:(k + 1) * H] for k in range(4))
        f = f + cell.forget_bias
        c = sigmoid(f) * state["c"] + sigmoid(i) * np.tanh(g)
        if cell.cell_norm == "output":
            h = sigmoid(o) * np.tanh(layer_norm(c, _ln(cell.ln_c)))
        elif cell.cell_norm == "state":
            c = layer_norm(c, _ln(cell.ln_c))
            h = sigmoid(o) * np.tanh(c)
        else:
            h = sigmoid(o) * np.tanh(c)
        if self.R is not None:
            h = self.R @ h
        return {"h": self._zoneout(h, state["h"]), "c": c}

    def _gru(self, x, state):
        cell, H = self.cell, self.H
        h = state["h"]
        wx, uh = self.W @ x, self.U @ h
        if cell.norm == "separate":
            xp = layer_norm(wx, _ln(cell.ln_x)) + self.b_ih
            hp = layer_norm(uh, _ln(cell.ln_h)) + self.b_hh
        elif cell.norm == "paper":
            lx, lh = _gate_norms(cell.ln_x, 2), _gate_norms(cell.ln_h, 2)
            xp = np.concatenate([layer_norm(wx[:2 * H], lx[0]), layer_norm(wx[2 * H:], lx[1])]) + self.b_ih
            hp = np.concatenate([layer_norm(uh[:2 * H], lh[0]), layer_norm(uh[2 * H:], lh[1])]) + self.b_hh
        else:
            xp, hp = wx + self.b_ih, uh + self.b_hh
        gate_norms = _gate_norms(cell.ln_gates, 3) if cell.norm == "per_gate" else None
        if cell.reset == "candidate":
            s = xp + hp
            if cell.norm == "joint":
                s = layer_norm(s, _ln(cell.ln))
            if gate_norms:
                s = np.concatenate([layer_norm(s[k * H:(k + 1) * H], gate_norms[k]) for k in range(3)])
            r, z = sigmoid(s[:H]), sigmoid(s[H:2 * H] + cell.update_bias)
            n = np.tanh(r * s[2 * H:])
        else:
            r_pre, z_pre = xp[:H] + hp[:H], xp[H:2 * H] + hp[H:2 * H]
            if gate_norms:
                r_pre, z_pre = layer_norm(r_pre, gate_norms[0]), layer_norm(z_pre, gate_norms[1])
            r, z = sigmoid(r_pre), sigmoid(z_pre + cell.update_bias)
            n_pre = xp[2 * H:] + r * hp[2 * H:]
            if gate_norms:
                n_pre = layer_norm(n_pre, gate_norms[2])
            n = np.tanh(n_pre)
        h_new = (1 - z) * h + z * n if cell.update == "paper" else (1 - z) * n + z * h
        return {"h": self._zoneout(h_new, h)}


class ReferenceModel:
    def __init__(self, model_or_cells):
        layers = model_or_cells.layers if isinstance(model_or_cells, lnfast.Model) else model_or_cells
        self.layers = [ReferenceLayer(c) for c in layers]
        self.reset()

    def reset(self):
        self.state = [layer.zero_state() for layer in self.layers]

    def step(self, x):
        x = np.asarray(x, np.float64)
        for k, layer in enumerate(self.layers):
            self.state[k] = layer.step(x, self.state[k])
            x = self.state[k]["h"]
        return x

    def run(self, X):
        return np.stack([self.step(x) for x in X])
