"""The benchmarked cells' weights as plain NumPy arrays, and their lnfast model.

The arrays are the single source of truth for a case: the PyTorch peers load
them (torch_peer_cells.py) and lnfast is built from them here, so the
benchmark still runs lnfast and the floor on a machine without PyTorch.
Names follow the PyTorch modules' state_dict keys.
"""
from __future__ import annotations

from typing import Dict

import numpy as np

import lnfast

CELL_KINDS = ("ln_lstm", "ln_gru", "ln_rnn", "lstm", "gru")
GATES = {kind: lnfast._core.GATE_COUNTS[family] for kind, family in
         {"ln_lstm": "LSTM", "lstm": "LSTM", "ln_gru": "GRU", "gru": "GRU", "ln_rnn": "RNN"}.items()}
LN_EPS = 1e-5  # nn.LayerNorm's default

Params = Dict[str, np.ndarray]


def random_params(kind: str, input_size: int, hidden_size: int, seed: int = 0) -> Params:
    """Weights at torch's recurrent init scale; norm gains and shifts are
    deliberately not 1 and 0, so a converter that dropped one would fail the
    agreement check."""
    if kind not in GATES:
        raise ValueError(f"unknown cell {kind!r}; choose from {CELL_KINDS}")
    rng = np.random.default_rng(seed)
    rows, H = GATES[kind] * hidden_size, hidden_size
    bound = H ** -0.5
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    p = {"weight_ih": f32(rng.uniform(-bound, bound, (rows, input_size))),
         "weight_hh": f32(rng.uniform(-bound, bound, (rows, H)))}
    gain = lambda n: f32(rng.uniform(0.5, 1.5, n))  # noqa: E731
    shift = lambda n: f32(rng.normal(0.0, 0.1, n))  # noqa: E731
    if kind in ("lstm", "gru"):
        p["bias_ih"], p["bias_hh"] = f32(rng.uniform(-bound, bound, rows)), f32(rng.uniform(-bound, bound, rows))
    elif kind == "ln_lstm":
        for name, n in (("ln_i", rows), ("ln_h", rows), ("ln_c", H)):
            p[f"{name}.weight"], p[f"{name}.bias"] = gain(n), shift(n)
    elif kind == "ln_gru":
        p["bias_ih"], p["bias_hh"] = shift(rows), shift(rows)
        p["ln_x.weight"], p["ln_h.weight"] = gain(rows), gain(rows)
    else:  # ln_rnn
        p["ln.weight"], p["ln.bias"] = gain(H), shift(H)
    return p


def _norm(p: Params, name: str) -> lnfast.LayerNorm:
    return lnfast.LayerNorm(p[f"{name}.weight"], p.get(f"{name}.bias"), eps=LN_EPS)


def lnfast_model(kind: str, p: Params) -> lnfast.Model:
    """The lnfast model computing what the PyTorch cell of ``kind`` computes."""
    w_ih, w_hh = p["weight_ih"], p["weight_hh"]
    if kind == "ln_lstm":  # fastrnns: separate norms over 4H, LN_c on the state
        layer = lnfast.LSTM(w_ih, w_hh, norm="separate", ln_x=_norm(p, "ln_i"),
                            ln_h=_norm(p, "ln_h"), cell_norm="state", ln_c=_norm(p, "ln_c"))
    elif kind == "ln_gru":  # haste: gain-only norms over 3H, biases after
        layer = lnfast.GRU(w_ih, w_hh, p["bias_ih"], p["bias_hh"], norm="separate",
                           ln_x=_norm(p, "ln_x"), ln_h=_norm(p, "ln_h"))
    elif kind == "ln_rnn":  # Ba et al. eq. 4: one norm over W x + U h
        layer = lnfast.RNN(w_ih, w_hh, norm="per_gate", ln=_norm(p, "ln"))
    elif kind == "lstm":
        layer = lnfast.LSTM(w_ih, w_hh, p["bias_ih"], p["bias_hh"])
    elif kind == "gru":
        layer = lnfast.GRU(w_ih, w_hh, p["bias_ih"], p["bias_hh"])
    else:
        raise ValueError(f"unknown cell {kind!r}; choose from {CELL_KINDS}")
    return lnfast.Model(layer)


def has_cell_state(kind: str) -> bool:
    return GATES[kind] == 4
