"""Random cells for every variant of docs/math.md, shared by the tests."""
from __future__ import annotations

import numpy as np

import lnfast


def _norm(rng, size, gain=True, shift=True, eps=1e-5, gain_scale=1.0):
    gamma = gain_scale * (1.0 + 0.3 * rng.standard_normal(size)) if gain else None
    beta = 0.3 * rng.standard_normal(size) if shift else None
    return lnfast.LayerNorm(gamma, beta, eps)


def _weights(rng, gates, I, H, bias=True):
    # PyTorch's default init for the recurrent matrix. Larger random
    # recurrent weights make some variants chaotic (a 1e-7 nudge to h grows
    # to O(1) in float64 alone within 1,000 steps), and then no float32
    # implementation can track a float64 reference.
    scale = 1.0 / np.sqrt(H)
    w_ih = rng.uniform(-scale, scale, (gates * H, I)) * 2
    w_hh = rng.uniform(-scale, scale, (gates * H, H))
    b_ih = rng.uniform(-scale, scale, gates * H) if bias else None
    b_hh = rng.uniform(-scale, scale, gates * H) if bias else None
    return w_ih, w_hh, b_ih, b_hh


def make_cell(kind: str, I: int, H: int, rng) -> "lnfast.cells._Cell":
    family = kind.split("_")[0]
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[family]
    w_ih, w_hh, b_ih, b_hh = _weights(rng, gates, I, H)
    n = lambda size, **kw: _norm(rng, size, **kw)  # noqa: E731
    # A norm on U h rescales it to unit spread whatever U's scale, so the
    # recurrent gain lives in that norm's gamma. Gains near 1 make several
    # separate-norm variants chaotic with random weights (see _weights);
    # trained models sit in the contracting regime that 0.5 gives.
    nh = lambda size, **kw: _norm(rng, size, gain_scale=0.5, **kw)  # noqa: E731
    G = gates * H
    if kind == "rnn_plain":
        return lnfast.RNN(w_ih, w_hh, b_ih, b_hh)
    if kind == "rnn_relu_plain":
        return lnfast.RNN(w_ih * 0.5, w_hh * 0.5, b_ih, b_hh, activation="relu")
    if kind == "rnn_ln":  # paper eq. 4
        return lnfast.RNN(w_ih, w_hh, norm="per_gate", ln=n(H))
    if kind == "rnn_ln_relu":
        return lnfast.RNN(w_ih, w_hh, b_ih, b_hh, norm="per_gate", ln=n(H, eps=1e-3), activation="relu")
    if kind == "rnn_separate":
        return lnfast.RNN(w_ih, w_hh, b_ih, b_hh, norm="separate", ln_x=n(H), ln_h=nh(H, shift=False))
    if kind == "lstm_plain":
        return lnfast.LSTM(w_ih, w_hh, b_ih, b_hh)
    if kind == "lstm_plain_nobias":
        return lnfast.LSTM(w_ih, w_hh)
    if kind == "lstm_separate_state":  # fastrnns, NeMo
        return lnfast.LSTM(w_ih, w_hh, norm="separate", ln_x=n(G), ln_h=nh(G), cell_norm="state", ln_c=n(H))
    if kind == "lstm_separate_output_gainonly":  # haste (+ zoneout)
        return lnfast.LSTM(w_ih, w_hh, b_ih, None, norm="separate", ln_x=n(G, shift=False),
                           ln_h=nh(G, shift=False), cell_norm="output", ln_c=n(H), zoneout=0.1)
    if kind == "lstm_separate_nocellnorm":
        return lnfast.LSTM(w_ih, w_hh, b_ih, b_hh, norm="separate", ln_x=n(G, eps=0.0), ln_h=nh(G, eps=1e-12))
    if kind == "lstm_per_gate_state":  # icefall
        return lnfast.LSTM(w_ih, w_hh, b_ih, b_hh, norm="per_gate", ln_gates=[n(H) for _ in range(4)],
                           cell_norm="state", ln_c=n(H))
    if kind == "lstm_per_gate_output_forget":  # TF contrib / Magenta
        return lnfast.LSTM(w_ih, w_hh, b_ih, None, norm="per_gate", ln_gates=[n(H, eps=1e-3) for _ in range(4)],
                           cell_norm="output", ln_c=n(H, eps=1e-3), forget_bias=1.0)
    if kind == "gru_plain":
        return lnfast.GRU(w_ih, w_hh, b_ih, b_hh)
    if kind == "gru_separate":  # haste
        return lnfast.GRU(w_ih, w_hh, b_ih, b_hh, norm="separate", ln_x=n(G, shift=False), ln_h=nh(G, shift=False))
    if kind == "gru_paper":
        return lnfast.GRU(w_ih, w_hh, norm="paper", ln_x=[n(2 * H), n(H)], ln_h=[nh(2 * H), nh(H)], update="paper")
    if kind == "gru_per_gate":  # icefall
        return lnfast.GRU(w_ih, w_hh, b_ih, b_hh, norm="per_gate", ln_gates=[n(H) for _ in range(3)])
    if kind == "gru_separate_zoneout":
        return lnfast.GRU(w_ih, w_hh, b_ih, b_hh, norm="separate", ln_x=n(G), ln_h=nh(G), zoneout=0.25)
    if kind == "gru_candidate_joint":  # DreamerV3 (sheeprl, dreamerv3-torch)
        return lnfast.GRU(w_ih, w_hh, b_ih, norm="joint", ln=nh(G), reset="candidate",
                          update_bias=-1.0, update="paper")
    if kind == "gru_candidate_plain":  # dreamerv3-torch GRUCell(norm=False)
        return lnfast.GRU(w_ih, w_hh, reset="candidate", update_bias=-1.0, update="paper")
    if kind == "gru_candidate_per_gate":
        return lnfast.GRU(w_ih, w_hh, b_ih, b_hh, norm="per_gate", ln_gates=[n(H) for _ in range(3)],
                          reset="candidate", update_bias=0.5)
    raise KeyError(kind)


VARIANTS = [
    "rnn_plain", "rnn_relu_plain", "rnn_ln", "rnn_ln_relu", "rnn_separate",
    "lstm_plain", "lstm_plain_nobias", "lstm_separate_state", "lstm_separate_output_gainonly",
    "lstm_separate_nocellnorm", "lstm_per_gate_state", "lstm_per_gate_output_forget",
    "gru_plain", "gru_separate", "gru_paper", "gru_per_gate", "gru_separate_zoneout",
    "gru_candidate_joint", "gru_candidate_plain", "gru_candidate_per_gate",
]


def make_stack(kind: str, sizes, rng):
    """Layers of one variant: sizes = [input, h1, h2, ...]."""
    return [make_cell(kind, sizes[k], sizes[k + 1], rng) for k in range(len(sizes) - 1)]


# Every LSTM norm and cell-norm placement, each composed with a projection.
LSTM_VARIANTS = [kind for kind in VARIANTS if kind.startswith("lstm_")]


def make_projected_cell(kind: str, I: int, H: int, P: int, rng) -> "lnfast.LSTM":
    """make_cell's LSTM ``kind`` with h projected to P units: w_hh keeps its
    first P columns (scaled as for H = P inputs) and w_hr is (P, H)."""
    cell = make_cell(kind, I, H, rng)
    options = {name: getattr(cell, name) for name in
               ("norm", "ln_x", "ln_h", "ln_gates", "cell_norm", "ln_c", "forget_bias", "zoneout")}
    w_hh = cell.w_hh[:, :P] * np.sqrt(H / P)
    w_hr = rng.uniform(-1, 1, (P, H)).astype(np.float32) / np.sqrt(H)
    return lnfast.LSTM(cell.w_ih, w_hh, cell.b_ih, cell.b_hh, w_hr=w_hr, **options)


def stepped_outputs_agreeing(model, X):
    """Outputs of stepping X one row at a time, after asserting that run(X)
    and step_many (a stream in the last of three slots) give the very same
    bits: the identity every storage format and kernel path must keep."""
    stream = model.stream()
    stepped = np.stack([stream.step(x) for x in X])
    assert np.array_equal(stepped, model.stream().run(X))
    streams = [model.stream() for _ in range(3)]
    many = np.stack([model.step_many(streams, np.stack([x] * 3))[2] for x in X])
    assert np.array_equal(many, stepped)
    return stepped
