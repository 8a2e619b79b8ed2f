"""PyTorch versions of each published LN-RNN cell, and their maps to lnfast.

Each class computes one step the way its source's code does (docs/math.md),
with parameter names and shapes from docs/checkpoints.md#layouts, so that a
checkpoint test can ``torch.save`` their state_dicts and read them back with
lnfast. They are written from docs/math.md's formulas, not copied from the
sources.

Every module here offers the same small interface; ``stepper(module)``
gives it to a plain ``nn.LSTM``/``nn.GRU``/``nn.RNN`` too, and ``run_steps``
drives any of them through a sequence:

    state = module.initial_state(dtype)       # zeros, batch 1
    h, state = module.step(x, state)          # x: (1, input_size)
    outputs, state = module(inputs)           # inputs: (T, 1, input_size)
    module.layer_states(state)                # [{"h": ..., "c": ...}] per layer

The ``to_lnfast_<source>`` functions turn a module's parameters into lnfast
cells; they document how every source maps onto lnfast's options.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import lnfast

LSTM_CANONICAL_ORDER = "ifgo"
GRU_CANONICAL_ORDER = "rzn"


# --------------------------------------------------------------------------
# Shared pieces


def _uniform_parameter(shape: tuple, hidden_size: int) -> nn.Parameter:
    """A weight with torch's default recurrent init, U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / hidden_size ** 0.5
    return nn.Parameter(torch.empty(shape).uniform_(-bound, bound))


def _gain_only_layer_norm(z: torch.Tensor, gain: torch.Tensor, eps: float) -> torch.Tensor:
    """LN with a gain and no shift (haste's x/h norms, TF Addons)."""
    return F.layer_norm(z, z.shape[-1:], weight=gain, bias=None, eps=eps)


def _step_through(module, inputs: torch.Tensor, state=None):
    """Outputs (T, 1, H) and the final state for inputs (T, 1, I)."""
    if state is None:
        state = module.initial_state(inputs.dtype)
    outputs = []
    for x in inputs:
        h, state = module.step(x, state)
        outputs.append(h)
    return torch.stack(outputs), state


class RecurrentCell(nn.Module):
    """One layer stepped one time step at a time, batch 1.

    The state is a tuple ordered as ``state_names``; its first entry is h,
    which is also the layer's output.
    """

    state_names: Sequence[str] = ("h",)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size

    def initial_state(self, dtype=torch.float32) -> tuple:
        return tuple(torch.zeros(1, self.hidden_size, dtype=dtype) for _ in self.state_names)

    def step(self, x: torch.Tensor, state: tuple):
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor, state: Optional[tuple] = None):
        return _step_through(self, inputs, state)

    def layer_states(self, state: tuple) -> List[Dict[str, torch.Tensor]]:
        return [dict(zip(self.state_names, state))]


class _StackedLayer(nn.Module):
    """Holds one cell as ``.cell``: the sources' layer wrappers do, so their
    state_dict keys read ``layers.{k}.cell.<name>``."""

    def __init__(self, cell: RecurrentCell):
        super().__init__()
        self.cell = cell


class LayerStack(nn.Module):
    """Cells run bottom to top within each step (docs/math.md#stacks)."""

    def __init__(self, cells: Sequence[RecurrentCell]):
        super().__init__()
        self.layers = nn.ModuleList(_StackedLayer(cell) for cell in cells)

    @property
    def cells(self) -> List[RecurrentCell]:
        return [layer.cell for layer in self.layers]

    def initial_state(self, dtype=torch.float32) -> list:
        return [cell.initial_state(dtype) for cell in self.cells]

    def step(self, x: torch.Tensor, states: list):
        new_states = []
        for cell, state in zip(self.cells, states):
            x, state = cell.step(x, state)
            new_states.append(state)
        return x, new_states

    def forward(self, inputs: torch.Tensor, states: Optional[list] = None):
        return _step_through(self, inputs, states)

    def layer_states(self, states: list) -> List[Dict[str, torch.Tensor]]:
        return [cell.layer_states(state)[0] for cell, state in zip(self.cells, states)]


# --------------------------------------------------------------------------
# PyTorch fastrnns (benchmarks/fastrnns/custom_lstms.py) and NeMo


class FastrnnsLayerNormLSTMCell(RecurrentCell):
    """gates = LN_i(W_ih x) + LN_h(W_hh h) (no bias; the LN shifts act as one),
    c' = LN_c(sig(f) c + sig(i) tanh(g)) kept as the state, h' = sig(o) tanh(c')."""

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.weight_ih = _uniform_parameter((4 * hidden_size, input_size), hidden_size)
        self.weight_hh = _uniform_parameter((4 * hidden_size, hidden_size), hidden_size)
        self.layernorm_i = nn.LayerNorm(4 * hidden_size, eps=eps)
        self.layernorm_h = nn.LayerNorm(4 * hidden_size, eps=eps)
        self.layernorm_c = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        h, c = state
        gates = (self.layernorm_i(x @ self.weight_ih.t())
                 + self.layernorm_h(h @ self.weight_hh.t()))
        i, f, g, o = gates.chunk(4, dim=1)
        c = self.layernorm_c(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g))
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, (h, c)


class FastrnnsStackedLSTM(LayerStack):
    def __init__(self, num_layers: int, input_size: int, hidden_size: int, eps: float = 1e-5):
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        super().__init__([FastrnnsLayerNormLSTMCell(size, hidden_size, eps) for size in sizes])


# --------------------------------------------------------------------------
# haste (haste_pytorch LayerNormLSTM / LayerNormGRU), at inference


class HasteLayerNormLSTM(RecurrentCell):
    """Kernels stored (in, 4H) in file order i, g, f, o.

    gates = LN(x K; gamma[0]) + LN(h R; gamma[1]) + bias (gain-only norms),
    c' = sig(f) c + sig(i) tanh(g) kept raw, h' = sig(o) tanh(LN(c'; gamma_h,
    beta_h)); zoneout p (not in the checkpoint) blends h at inference.
    """

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, zoneout: float = 0.0,
                 eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.zoneout = zoneout
        self.eps = eps
        self.kernel = _uniform_parameter((input_size, 4 * hidden_size), hidden_size)
        self.recurrent_kernel = _uniform_parameter((hidden_size, 4 * hidden_size), hidden_size)
        self.bias = nn.Parameter(torch.zeros(4 * hidden_size))
        self.gamma = nn.Parameter(torch.ones(2, 4 * hidden_size))
        self.gamma_h = nn.Parameter(torch.ones(hidden_size))
        self.beta_h = nn.Parameter(torch.zeros(hidden_size))

    def step(self, x, state):
        h, c = state
        gates = (_gain_only_layer_norm(x @ self.kernel, self.gamma[0], self.eps)
                 + _gain_only_layer_norm(h @ self.recurrent_kernel, self.gamma[1], self.eps)
                 + self.bias)
        i, g, f, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        normed_c = F.layer_norm(c, c.shape[-1:], self.gamma_h, self.beta_h, self.eps)
        new_h = torch.sigmoid(o) * torch.tanh(normed_c)
        h = self.zoneout * h + (1 - self.zoneout) * new_h
        return h, (h, c)


class HasteLayerNormGRU(RecurrentCell):
    """Kernels stored (in, 3H) in file order z, r, n; reset after the matmul.

    x part = LN(x K; gamma[0]) + bias, h part = LN(h R; gamma[1]) +
    recurrent_bias; n = tanh(xn + r hn); h' = z h + (1 - z) n; zoneout as
    in the LSTM.
    """

    def __init__(self, input_size: int, hidden_size: int, zoneout: float = 0.0,
                 eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.zoneout = zoneout
        self.eps = eps
        self.kernel = _uniform_parameter((input_size, 3 * hidden_size), hidden_size)
        self.recurrent_kernel = _uniform_parameter((hidden_size, 3 * hidden_size), hidden_size)
        self.bias = nn.Parameter(torch.zeros(3 * hidden_size))
        self.recurrent_bias = nn.Parameter(torch.zeros(3 * hidden_size))
        self.gamma = nn.Parameter(torch.ones(2, 3 * hidden_size))

    def step(self, x, state):
        (h,) = state
        x_part = _gain_only_layer_norm(x @ self.kernel, self.gamma[0], self.eps) + self.bias
        h_part = (_gain_only_layer_norm(h @ self.recurrent_kernel, self.gamma[1], self.eps)
                  + self.recurrent_bias)
        xz, xr, xn = x_part.chunk(3, dim=1)
        hz, hr, hn = h_part.chunk(3, dim=1)
        z = torch.sigmoid(xz + hz)
        r = torch.sigmoid(xr + hr)
        n = torch.tanh(xn + r * hn)
        new_h = z * h + (1 - z) * n
        h = self.zoneout * h + (1 - self.zoneout) * new_h
        return h, (h,)


# --------------------------------------------------------------------------
# icefall (LayerNormLSTMCell / LayerNormGRUCell)


class IcefallLayerNormLSTMCell(RecurrentCell):
    """s = W_ih x + b_ih + W_hh h + b_hh; each gate's H units normed on
    their own (i, f, g=cx, o); c' = LN_cy(sig(f) c + sig(i) tanh(g)) kept as
    the state; h' = sig(o) tanh(c'), then weight_hr h' when proj_size > 0
    (h then has proj_size units, c hidden_size)."""

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 eps: float = 1e-5, proj_size: int = 0):
        super().__init__(input_size, hidden_size)
        self.output_size = proj_size or hidden_size
        self.weight_ih = _uniform_parameter((4 * hidden_size, input_size), hidden_size)
        self.weight_hh = _uniform_parameter((4 * hidden_size, self.output_size), hidden_size)
        if proj_size:
            self.weight_hr = _uniform_parameter((proj_size, hidden_size), hidden_size)
        else:
            self.register_parameter("weight_hr", None)
        if bias:
            self.bias_ih = _uniform_parameter((4 * hidden_size,), hidden_size)
            self.bias_hh = _uniform_parameter((4 * hidden_size,), hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.layernorm_i = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_f = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_cx = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_o = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_cy = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        h, c = state
        gates = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)
        i, f, g, o = gates.chunk(4, dim=1)
        i = torch.sigmoid(self.layernorm_i(i))
        f = torch.sigmoid(self.layernorm_f(f))
        g = torch.tanh(self.layernorm_cx(g))
        o = torch.sigmoid(self.layernorm_o(o))
        c = self.layernorm_cy(f * c + i * g)
        h = o * torch.tanh(c)
        if self.weight_hr is not None:
            h = h @ self.weight_hr.t()
        return h, (h, c)

    def initial_state(self, dtype=torch.float32) -> tuple:
        return (torch.zeros(1, self.output_size, dtype=dtype),
                torch.zeros(1, self.hidden_size, dtype=dtype))


class IcefallLayerNormGRUCell(RecurrentCell):
    """r = sig(LN_r(xr + hr)), z = sig(LN_i(xz + hz)), n = tanh(LN_n(xn +
    r hn)), h' = (1 - z) n + z h; every x*/h* part includes its bias."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.weight_ih = _uniform_parameter((3 * hidden_size, input_size), hidden_size)
        self.weight_hh = _uniform_parameter((3 * hidden_size, hidden_size), hidden_size)
        if bias:
            self.bias_ih = _uniform_parameter((3 * hidden_size,), hidden_size)
            self.bias_hh = _uniform_parameter((3 * hidden_size,), hidden_size)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.layernorm_r = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_i = nn.LayerNorm(hidden_size, eps=eps)  # icefall's name for z
        self.layernorm_n = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        (h,) = state
        xr, xz, xn = F.linear(x, self.weight_ih, self.bias_ih).chunk(3, dim=1)
        hr, hz, hn = F.linear(h, self.weight_hh, self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(self.layernorm_r(xr + hr))
        z = torch.sigmoid(self.layernorm_i(xz + hz))
        n = torch.tanh(self.layernorm_n(xn + r * hn))
        h = (1 - z) * n + z * h
        return h, (h,)


class IcefallLayerNormLSTM(LayerStack):
    def __init__(self, num_layers: int, input_size: int, hidden_size: int,
                 bias: bool = True, eps: float = 1e-5, proj_size: int = 0):
        sizes = [input_size] + [proj_size or hidden_size] * (num_layers - 1)
        super().__init__([IcefallLayerNormLSTMCell(size, hidden_size, bias, eps, proj_size)
                          for size in sizes])


class IcefallLayerNormGRU(LayerStack):
    def __init__(self, num_layers: int, input_size: int, hidden_size: int,
                 bias: bool = True, eps: float = 1e-5):
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        super().__init__([IcefallLayerNormGRUCell(size, hidden_size, bias, eps) for size in sizes])


class IcefallScaledLSTM(nn.LSTM):
    """icefall's ScaledLSTM (pruned_transducer_stateless2/scaling.py): an
    nn.LSTM (any proj_size) where every flat weight and bias ``name`` has a
    0-d learned log-scale ``name_scale`` and the recurrence runs on
    ``name * exp(name_scale)``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self._flat_weights_names:
            self.register_parameter(name + "_scale", nn.Parameter(torch.zeros(())))

    def scaled_weights(self) -> List[torch.Tensor]:
        return [getattr(self, name) * getattr(self, name + "_scale").exp()
                for name in self._flat_weights_names]

    def forward(self, inputs, state=None):
        if state is None:
            shape = (self.num_layers, inputs.size(1))
            state = (inputs.new_zeros(shape + (self.proj_size or self.hidden_size,)),
                     inputs.new_zeros(shape + (self.hidden_size,)))
        output, h, c = torch._VF.lstm(inputs, state, self.scaled_weights(), self.bias,
                                      self.num_layers, 0.0, False, False, False)
        return output, (h, c)


# --------------------------------------------------------------------------
# DreamerV2/V3's LN-GRU: sheeprl and dreamerv3-torch


class _DreamerGRUCell(RecurrentCell):
    """s = LN(W [x, h] (+ b)) over all 3H units, split r, c, u (in that
    order); n = tanh(sig(r) * c); z = sig(u - 1); h' = z n + (1 - z) h."""

    hidden_first = False

    def _joined(self, joined):
        """The normalized projection of the concatenated [x, h] or [h, x]."""
        raise NotImplementedError

    def step(self, x, state):
        (h,) = state
        joined = torch.cat((h, x) if self.hidden_first else (x, h), dim=-1)
        reset, cand, update = self._joined(joined).chunk(3, dim=-1)
        n = torch.tanh(torch.sigmoid(reset) * cand)
        z = torch.sigmoid(update - 1)
        h = z * n + (1 - z) * h
        return h, (h,)


class SheeprlLayerNormGRUCell(_DreamerGRUCell):
    """sheeprl's LayerNormGRUCell: ``linear`` over torch.cat((h, x)), h
    first, then ``layer_norm`` (DreamerV3: bias=False, eps 1e-3)."""

    hidden_first = True

    def __init__(self, input_size: int, hidden_size: int, bias: bool = False, eps: float = 1e-3):
        super().__init__(input_size, hidden_size)
        self.linear = nn.Linear(input_size + hidden_size, 3 * hidden_size, bias=bias)
        self.layer_norm = nn.LayerNorm(3 * hidden_size, eps=eps)

    def _joined(self, joined):
        return self.layer_norm(self.linear(joined))


class Dreamerv3TorchGRUCell(_DreamerGRUCell):
    """dreamerv3-torch's GRUCell: ``layers`` = GRU_linear (no bias) over
    torch.cat([x, h]), x first, then GRU_norm (eps 1e-3) when norm=True."""

    def __init__(self, input_size: int, hidden_size: int, norm: bool = True):
        super().__init__(input_size, hidden_size)
        self.layers = nn.Sequential()
        self.layers.add_module("GRU_linear", nn.Linear(input_size + hidden_size, 3 * hidden_size,
                                                       bias=False))
        if norm:
            self.layers.add_module("GRU_norm", nn.LayerNorm(3 * hidden_size, eps=1e-3))

    def _joined(self, joined):
        return self.layers(joined)


# --------------------------------------------------------------------------
# The paper (Ba, Kiros and Hinton 2016) and TF Addons


class PaperLayerNormGRUCell(RecurrentCell):
    """Eq. 26-28: four norms and no bias, rows ordered r, u, n like the
    paper's own code.

    [r, u] = sig(LN(W_ru x) + LN(U_ru h)), n = tanh(LN(W_n x) + r LN(U_n h)),
    h' = (1 - u) h + u n: the update gate's sense is the reverse of PyTorch's.
    """

    def __init__(self, input_size: int, hidden_size: int, eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.weight_ih = _uniform_parameter((3 * hidden_size, input_size), hidden_size)
        self.weight_hh = _uniform_parameter((3 * hidden_size, hidden_size), hidden_size)
        self.layernorm_ih_ru = nn.LayerNorm(2 * hidden_size, eps=eps)
        self.layernorm_hh_ru = nn.LayerNorm(2 * hidden_size, eps=eps)
        self.layernorm_ih_n = nn.LayerNorm(hidden_size, eps=eps)
        self.layernorm_hh_n = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        (h,) = state
        H = self.hidden_size
        wx = x @ self.weight_ih.t()
        uh = h @ self.weight_hh.t()
        ru = torch.sigmoid(self.layernorm_ih_ru(wx[:, :2 * H]) + self.layernorm_hh_ru(uh[:, :2 * H]))
        r, u = ru.chunk(2, dim=1)
        n = torch.tanh(self.layernorm_ih_n(wx[:, 2 * H:]) + r * self.layernorm_hh_n(uh[:, 2 * H:]))
        h = (1 - u) * h + u * n
        return h, (h,)


class PaperLayerNormRNNCell(RecurrentCell):
    """Eq. 4: h' = f(LN(W x + U h; g, b)), no other bias."""

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh",
                 eps: float = 1e-5):
        super().__init__(input_size, hidden_size)
        self.activation = activation
        self.weight_ih = _uniform_parameter((hidden_size, input_size), hidden_size)
        self.weight_hh = _uniform_parameter((hidden_size, hidden_size), hidden_size)
        self.layernorm = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        (h,) = state
        a = x @ self.weight_ih.t() + h @ self.weight_hh.t()
        h = _ACTIVATIONS[self.activation](self.layernorm(a))
        return h, (h,)


class TfaLayerNormSimpleRNNCell(RecurrentCell):
    """TF Addons LayerNormSimpleRNNCell: h' = f(LN(x K + h R; gamma) + bias),
    Keras layout (kernels stored (in, H)), gain-only norm, eps 1e-3."""

    def __init__(self, input_size: int, hidden_size: int, activation: str = "tanh",
                 eps: float = 1e-3):
        super().__init__(input_size, hidden_size)
        self.activation = activation
        self.eps = eps
        self.kernel = _uniform_parameter((input_size, hidden_size), hidden_size)
        self.recurrent_kernel = _uniform_parameter((hidden_size, hidden_size), hidden_size)
        self.bias = nn.Parameter(torch.zeros(hidden_size))
        self.gamma = nn.Parameter(torch.ones(hidden_size))

    def step(self, x, state):
        (h,) = state
        a = x @ self.kernel + h @ self.recurrent_kernel
        h = _ACTIVATIONS[self.activation](_gain_only_layer_norm(a, self.gamma, self.eps) + self.bias)
        return h, (h,)


_ACTIVATIONS: Dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh, "relu": torch.relu}


# --------------------------------------------------------------------------
# TF contrib LayerNormBasicLSTMCell and Magenta's sketch-rnn LayerNormLSTMCell


class PerGateLayerNormLSTMCell(RecurrentCell):
    """One kernel over [x, h] stored (in + H, 4H) in file order i, j, f, o
    (j is the candidate g); each gate's H units normed on their own; a
    constant forget bias (outside the checkpoint) added to f after its norm.

    cell_norm "state" (TF contrib, eps 1e-12, no bias): c' <- LN(c'),
    h' = sig(o) tanh(c'). cell_norm "output" (Magenta, eps 1e-3): the state
    keeps raw c', h' = sig(o) tanh(LN(c')).
    """

    state_names = ("h", "c")

    def __init__(self, input_size: int, hidden_size: int, cell_norm: str = "state",
                 forget_bias: float = 1.0, bias: bool = False, eps: float = 1e-12):
        super().__init__(input_size, hidden_size)
        if cell_norm not in ("state", "output"):
            raise ValueError(f"cell_norm must be 'state' or 'output', got {cell_norm!r}")
        self.cell_norm = cell_norm
        self.forget_bias = forget_bias
        self.kernel = _uniform_parameter((input_size + hidden_size, 4 * hidden_size), hidden_size)
        if bias:
            self.bias = nn.Parameter(torch.zeros(4 * hidden_size))
        else:
            self.register_parameter("bias", None)
        self.ln_input = nn.LayerNorm(hidden_size, eps=eps)
        self.ln_transform = nn.LayerNorm(hidden_size, eps=eps)
        self.ln_forget = nn.LayerNorm(hidden_size, eps=eps)
        self.ln_output = nn.LayerNorm(hidden_size, eps=eps)
        self.ln_state = nn.LayerNorm(hidden_size, eps=eps)

    def step(self, x, state):
        h, c = state
        gates = torch.cat([x, h], dim=1) @ self.kernel
        if self.bias is not None:
            gates = gates + self.bias
        i, j, f, o = gates.chunk(4, dim=1)
        i, j = self.ln_input(i), self.ln_transform(j)
        f, o = self.ln_forget(f) + self.forget_bias, self.ln_output(o)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(j)
        if self.cell_norm == "state":
            c = self.ln_state(c)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            h = torch.sigmoid(o) * torch.tanh(self.ln_state(c))
        return h, (h, c)


# --------------------------------------------------------------------------
# Running any of the above, or a plain torch nn.LSTM / nn.GRU / nn.RNN


class TorchRNNStepper:
    """A plain nn.LSTM / nn.GRU / nn.RNN behind the same step interface; its
    state is the module's own (h_n[, c_n]), each (layers, 1, H)."""

    def __init__(self, module: nn.RNNBase):
        if module.batch_first or module.bidirectional:
            raise ValueError("expected a sequence-first, unidirectional module")
        self.module = module

    def initial_state(self, dtype=torch.float32):
        shape = (self.module.num_layers, 1, self.module.hidden_size)
        if isinstance(self.module, nn.LSTM):
            # With proj_size, h has proj_size units and c hidden_size.
            h_shape = (shape[0], 1, self.module.proj_size or shape[2])
            return torch.zeros(h_shape, dtype=dtype), torch.zeros(shape, dtype=dtype)
        return torch.zeros(shape, dtype=dtype)

    def step(self, x: torch.Tensor, state):
        output, state = self.module(x.unsqueeze(0), state)
        return output[0], state

    def layer_states(self, state) -> List[Dict[str, torch.Tensor]]:
        if isinstance(self.module, nn.LSTM):
            h_n, c_n = state
            return [{"h": h_n[k], "c": c_n[k]} for k in range(self.module.num_layers)]
        return [{"h": state[k]} for k in range(self.module.num_layers)]


def stepper(module: nn.Module):
    """The module itself if it steps, else its TorchRNNStepper."""
    return TorchRNNStepper(module) if isinstance(module, nn.RNNBase) else module


@torch.no_grad()
def run_steps(module: nn.Module, inputs: torch.Tensor, state=None):
    """Step ``module`` through inputs (T, I), one step at a time, in the
    module's own dtype. Returns outputs (T, H) and the final state per layer
    as ``[{"h": (H,), "c": (H,)}]``. ``state`` (the module's own structure)
    starts from zeros when not given."""
    steps = stepper(module)
    dtype = next(module.parameters()).dtype
    state = steps.initial_state(dtype) if state is None else state
    outputs = []
    for x in inputs.to(dtype):
        h, state = steps.step(x.unsqueeze(0), state)
        outputs.append(h.reshape(-1))
    layer_states = [{k: v.reshape(-1) for k, v in s.items()} for s in steps.layer_states(state)]
    return torch.stack(outputs), layer_states


# --------------------------------------------------------------------------
# Maps to lnfast cells (canonical gate order i, f, g, o / r, z, n)


def _numpy(tensor: Optional[torch.Tensor]) -> Optional[np.ndarray]:
    """float64 NumPy copy, so lnfast rounds each value to float32 only once."""
    return None if tensor is None else tensor.detach().to(torch.float64).cpu().numpy()


def reorder_gates(array: np.ndarray, file_order: str, canonical_order: str) -> np.ndarray:
    """Rows (axis 0) of stacked gate blocks, from ``file_order`` into
    ``canonical_order``; e.g. haste's "igfo" into "ifgo"."""
    if sorted(file_order) != sorted(canonical_order):
        raise ValueError(f"gate orders {file_order!r} and {canonical_order!r} name different gates")
    blocks = np.split(array, len(file_order), axis=0)
    by_name = dict(zip(file_order, blocks))
    return np.concatenate([by_name[gate] for gate in canonical_order], axis=0)


def _optional_reorder(array, file_order, canonical_order):
    return None if array is None else reorder_gates(array, file_order, canonical_order)


def _from_torch_layer_norm(norm: nn.LayerNorm) -> lnfast.LayerNorm:
    """nn.LayerNorm's weight/bias may be absent (elementwise_affine=False,
    bias=False); lnfast's gain and shift are each optional in the same way."""
    return lnfast.LayerNorm(gamma=_numpy(norm.weight), beta=_numpy(norm.bias), eps=norm.eps)


def _from_gain_rows(gain: np.ndarray, file_order: str, canonical_order: str,
                    eps: float) -> lnfast.LayerNorm:
    """A gain-only norm over all gate rows. LN statistics do not depend on the
    order of the units, so reordering the gain with the rows is enough."""
    return lnfast.LayerNorm(gamma=reorder_gates(gain, file_order, canonical_order), eps=eps)


def to_lnfast_torch_rnn(module: nn.RNNBase) -> list:
    """Plain nn.LSTM / nn.GRU / nn.RNN: already lnfast's layout, no norms."""
    if module.bidirectional:
        raise ValueError("bidirectional layers cannot stream (docs/math.md#stacks)")
    cells = []
    for k in range(module.num_layers):
        weights = [_numpy(getattr(module, f"{name}_l{k}", None))
                   for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        if isinstance(module, nn.LSTM):
            cells.append(lnfast.LSTM(*weights, w_hr=_numpy(getattr(module, f"weight_hr_l{k}", None))))
        elif isinstance(module, nn.GRU):
            cells.append(lnfast.GRU(*weights))
        else:
            activation = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[module.mode]
            cells.append(lnfast.RNN(*weights, activation=activation))
    return cells


def to_lnfast_fastrnns(stack: FastrnnsStackedLSTM) -> list:
    """Separate norms over 4H with shifts and no bias; cell norm on the state."""
    return [
        lnfast.LSTM(_numpy(cell.weight_ih), _numpy(cell.weight_hh), norm="separate",
                    ln_x=_from_torch_layer_norm(cell.layernorm_i),
                    ln_h=_from_torch_layer_norm(cell.layernorm_h),
                    cell_norm="state", ln_c=_from_torch_layer_norm(cell.layernorm_c))
        for cell in stack.cells
    ]


def to_lnfast_haste_lstm(module: HasteLayerNormLSTM) -> list:
    """Kernels transposed to (4H, in) and rows reordered i,g,f,o -> i,f,g,o;
    gamma row 0 is the x norm's gain, row 1 the h norm's; bias after both
    norms; cell norm on the output; zoneout carried over."""
    order = "igfo"
    w_ih = reorder_gates(_numpy(module.kernel).T, order, LSTM_CANONICAL_ORDER)
    w_hh = reorder_gates(_numpy(module.recurrent_kernel).T, order, LSTM_CANONICAL_ORDER)
    gamma = _numpy(module.gamma)
    return [lnfast.LSTM(
        w_ih, w_hh, reorder_gates(_numpy(module.bias), order, LSTM_CANONICAL_ORDER),
        norm="separate",
        ln_x=_from_gain_rows(gamma[0], order, LSTM_CANONICAL_ORDER, module.eps),
        ln_h=_from_gain_rows(gamma[1], order, LSTM_CANONICAL_ORDER, module.eps),
        cell_norm="output",
        ln_c=lnfast.LayerNorm(_numpy(module.gamma_h), _numpy(module.beta_h), module.eps),
        zoneout=module.zoneout)]


def to_lnfast_haste_gru(module: HasteLayerNormGRU) -> list:
    """Kernels transposed and rows reordered z,r,n -> r,z,n; ``bias`` follows
    the x norm and ``recurrent_bias`` the h norm (so it sits inside r * hn).
    haste's h' = z h + (1 - z) n is PyTorch's update sense."""
    order = "zrn"
    gamma = _numpy(module.gamma)
    return [lnfast.GRU(
        reorder_gates(_numpy(module.kernel).T, order, GRU_CANONICAL_ORDER),
        reorder_gates(_numpy(module.recurrent_kernel).T, order, GRU_CANONICAL_ORDER),
        reorder_gates(_numpy(module.bias), order, GRU_CANONICAL_ORDER),
        reorder_gates(_numpy(module.recurrent_bias), order, GRU_CANONICAL_ORDER),
        norm="separate",
        ln_x=_from_gain_rows(gamma[0], order, GRU_CANONICAL_ORDER, module.eps),
        ln_h=_from_gain_rows(gamma[1], order, GRU_CANONICAL_ORDER, module.eps),
        update="pytorch", zoneout=module.zoneout)]


def to_lnfast_icefall_lstm(stack: IcefallLayerNormLSTM) -> list:
    """Per-gate norms on the biased sum (layernorm_cx is the g gate's);
    layernorm_cy on the state."""
    return [
        lnfast.LSTM(_numpy(cell.weight_ih), _numpy(cell.weight_hh),
                    _numpy(cell.bias_ih), _numpy(cell.bias_hh), norm="per_gate",
                    ln_gates=[_from_torch_layer_norm(n) for n in (
                        cell.layernorm_i, cell.layernorm_f, cell.layernorm_cx, cell.layernorm_o)],
                    cell_norm="state", ln_c=_from_torch_layer_norm(cell.layernorm_cy),
                    w_hr=_numpy(cell.weight_hr))
        for cell in stack.cells
    ]


def to_lnfast_icefall_gru(stack: IcefallLayerNormGRU) -> list:
    """Per-gate norms; icefall's layernorm_i is the z (update) gate's."""
    return [
        lnfast.GRU(_numpy(cell.weight_ih), _numpy(cell.weight_hh),
                   _numpy(cell.bias_ih), _numpy(cell.bias_hh), norm="per_gate",
                   ln_gates=[_from_torch_layer_norm(n) for n in (
                       cell.layernorm_r, cell.layernorm_i, cell.layernorm_n)])
        for cell in stack.cells
    ]


def to_lnfast_paper_gru(cell: PaperLayerNormGRUCell) -> list:
    """Rows r, u, n are lnfast's r, z, n with the update sense flagged
    "paper"; the four norms pair up as (r,z rows, n rows) per side."""
    return [lnfast.GRU(
        _numpy(cell.weight_ih), _numpy(cell.weight_hh), norm="paper",
        ln_x=[_from_torch_layer_norm(cell.layernorm_ih_ru), _from_torch_layer_norm(cell.layernorm_ih_n)],
        ln_h=[_from_torch_layer_norm(cell.layernorm_hh_ru), _from_torch_layer_norm(cell.layernorm_hh_n)],
        update="paper")]


def to_lnfast_paper_rnn(cell: PaperLayerNormRNNCell) -> list:
    """One norm on the sum, no bias."""
    return [lnfast.RNN(_numpy(cell.weight_ih), _numpy(cell.weight_hh), norm="per_gate",
                       ln=_from_torch_layer_norm(cell.layernorm), activation=cell.activation)]


def to_lnfast_tfa_simple_rnn(cell: TfaLayerNormSimpleRNNCell) -> list:
    """Kernels transposed; the bias added after the gain-only norm is that
    norm's shift."""
    return [lnfast.RNN(
        _numpy(cell.kernel).T, _numpy(cell.recurrent_kernel).T, norm="per_gate",
        ln=lnfast.LayerNorm(gamma=_numpy(cell.gamma), beta=_numpy(cell.bias), eps=cell.eps),
        activation=cell.activation)]


def to_lnfast_per_gate_lstm(cell: PerGateLayerNormLSTMCell) -> list:
    """The [x, h] kernel splits into W (its first ``input_size`` rows) and U,
    both transposed; rows reordered i,j,f,o -> i,f,g,o with the norms to
    match; the forget bias is an lnfast option, not a weight."""
    order = "ijfo"
    canonical = "ifjo"  # lnfast's i, f, g, o, with g spelled as TF's j
    kernel = _numpy(cell.kernel)
    w_ih = reorder_gates(kernel[:cell.input_size].T, order, canonical)
    w_hh = reorder_gates(kernel[cell.input_size:].T, order, canonical)
    gate_norms = [cell.ln_input, cell.ln_forget, cell.ln_transform, cell.ln_output]
    return [lnfast.LSTM(
        w_ih, w_hh, _optional_reorder(_numpy(cell.bias), order, canonical), norm="per_gate",
        ln_gates=[_from_torch_layer_norm(n) for n in gate_norms],
        cell_norm=cell.cell_norm, ln_c=_from_torch_layer_norm(cell.ln_state),
        forget_bias=cell.forget_bias)]
