"""One configurable cell per family: what a layer computes (docs/math.md).

Weights are given in lnfast's canonical gate order (LSTM: i, f, g, o; GRU:
r, z, n), as ``w_ih`` of shape (G*H, I) and ``w_hh`` of shape (G*H, H), the
way ``torch.nn.LSTM`` stores them. Loaders for other layouts permute and
transpose into this form once, at load time.
"""
from __future__ import annotations

import numbers
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator, Optional, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from . import _core

__all__ = ["LayerNorm", "LSTM", "GRU", "RNN"]

_CELL_NORMS = {"none": _core.CellNorm.NONE, "output": _core.CellNorm.OUTPUT,
               "state": _core.CellNorm.STATE}


def float32_array(value, name: str, shape: tuple) -> np.ndarray:
    """A C-contiguous float32 copy of ``value``, checked for dtype and shape."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _real_array(value, name: str, shape: tuple) -> np.ndarray:
    """float32_array, checked for NaN and Inf too."""
    arr = float32_array(value, name, shape)
    _check_finite(arr, name)
    return arr


def _check_finite(arr: np.ndarray, name: str) -> None:
    # A finite sum proves every element finite (a NaN or Inf would carry
    # through), in one pass with no temporary; only an overflowing or truly
    # non-finite array pays for the element-wise test.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum(dtype=np.float32)
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = int(np.flatnonzero(~np.isfinite(arr.ravel()))[0])
        raise ValueError(f"{name} holds a non-finite value at flat index {bad}")


# Inside matrices_checked_by_model(), cells leave their weight matrices'
# NaN/Inf check to the lnfast.Model they are built for.
_MATRICES_CHECKED_HERE: ContextVar[bool] = ContextVar("lnfast_matrices_checked_here", default=True)


@contextmanager
def matrices_checked_by_model() -> Iterator[None]:
    """For a loader that hands the cells it builds straight to lnfast.Model:
    the cells skip their pass over every weight-matrix element for NaN
    and Inf, because the core makes that very check while it packs them
    (same words, "holds a non-finite value"); a load then reads each
    weight once instead of twice. Cells built here must not be used
    otherwise until ``check_matrices()`` has passed. Shapes, dtypes, biases
    and norms are checked as always. Per thread and per task (a ContextVar)."""
    token = _MATRICES_CHECKED_HERE.set(False)
    try:
        yield
    finally:
        _MATRICES_CHECKED_HERE.reset(token)


def _matrix_array(value, name: str, shape: tuple) -> np.ndarray:
    arr = float32_array(value, name, shape)
    if _MATRICES_CHECKED_HERE.get():
        _check_finite(arr, name)
    return arr


def _optional_array(value, name: str, shape: tuple) -> Optional[np.ndarray]:
    return None if value is None else _real_array(value, name, shape)


def _float(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


@dataclass(frozen=True, eq=False)
class LayerNorm:
    """Parameters of one layer norm: optional gain and shift, and eps.

    ``LN(z) = gamma * (z - mean) / sqrt(var + eps) + beta`` over the units
    it covers (population variance). eps = 0 is allowed; a constant input
    then gives beta.
    """

    gamma: Optional[ArrayLike] = None
    beta: Optional[ArrayLike] = None
    eps: float = 1e-5

    def __post_init__(self) -> None:
        # Kept as the float32 values the core computes with, so that what a
        # cell reports is exactly what runs.
        for name in ("gamma", "beta"):
            value = getattr(self, name)
            if value is not None:
                arr = np.asarray(value)
                if arr.dtype.kind not in "fiu":
                    raise TypeError(f"LayerNorm.{name} must hold real numbers, got dtype {arr.dtype}")
                object.__setattr__(self, name, np.ascontiguousarray(arr, dtype=np.float32))

    def _core_norm(self, offset: int, size: int, name: str) -> "_core.Norm":
        eps = _float(self.eps, f"{name}.eps")
        if eps < 0:
            raise ValueError(f"{name}.eps must be >= 0, got {eps}")
        gamma = _optional_array(self.gamma, f"{name}.gamma", (size,))
        beta = _optional_array(self.beta, f"{name}.beta", (size,))
        return _core.Norm(offset, size, gamma, beta, eps)


def _norm_or_default(norm, name: str) -> LayerNorm:
    if norm is None:
        return LayerNorm()
    if not isinstance(norm, LayerNorm):
        raise TypeError(f"{name} must be an lnfast.LayerNorm, got {type(norm).__name__}")
    return norm


def _norm_list(norms, count: int, name: str) -> Sequence[LayerNorm]:
    if norms is None:
        return [LayerNorm()] * count
    if isinstance(norms, LayerNorm):
        norms = [norms]
    norms = list(norms)
    if len(norms) != count:
        raise ValueError(f"{name} must hold {count} LayerNorms, got {len(norms)}")
    return [_norm_or_default(n, f"{name}[{i}]") for i, n in enumerate(norms)]


def _core_norms(given, name: str, segments: Sequence[tuple], single: bool) -> list:
    """Core norms over ``segments`` [(offset, size), ...]: from one LayerNorm
    (or None) named ``name`` when ``single``, else from one per segment,
    named ``name[i]``."""
    if single:
        (offset, size), = segments
        return [_norm_or_default(given, name)._core_norm(offset, size, name)]
    norms = _norm_list(given, len(segments), name)
    return [n._core_norm(offset, size, f"{name}[{i}]")
            for i, (n, (offset, size)) in enumerate(zip(norms, segments))]


def _segment_list(kind: str, gates: int, hidden: int) -> list:
    """(offset, size) of each norm of a placement kind over G*H units."""
    return {"whole": [(0, gates * hidden)], "gates": [(g * hidden, hidden) for g in range(gates)],
            "paper": [(0, 2 * hidden), (2 * hidden, hidden)]}[kind]


def _layer_norm(norm: "_core.Norm") -> LayerNorm:
    return LayerNorm(gamma=norm.gamma, beta=norm.beta, eps=float(norm.eps))


def layer_repr(family: str, input_size: int, hidden_size: int, norm: str, options: str) -> str:
    """How a layer prints, whether a cell or a model's structure; options is
    the family's own text (_options_text)."""
    return (f"lnfast.{family}(input_size={input_size}, hidden_size={hidden_size}, "
            f"norm={norm!r}{options})")


# Norm placements: (spec field, cell attribute, name in messages, segments).
_SEPARATE = (("x_norms", "ln_x", "ln_x", "whole"), ("h_norms", "ln_h", "ln_h", "whole"))


class _Cell:
    """Shared construction: weight shapes, biases, zoneout."""

    gates: int = 1
    family: str = ""
    _norm_choices: tuple = ("none",)
    # The names stream.state gives the parts of this layer's state.
    state_parts: tuple = ("h",)

    w_hr: Optional[np.ndarray] = None  # (P, H) when projected (LSTM only)

    @property
    def output_size(self) -> int:
        """Units of h and of the layer's output: proj_size, or hidden_size."""
        return self.hidden_size if self.w_hr is None else int(self.w_hr.shape[0])

    def state_part_sizes(self) -> tuple:
        """Units of each of state_parts: h has output_size, c hidden_size."""
        return part_sizes(self.state_parts, self.output_size, self.hidden_size)

    def __init__(self, w_ih, w_hh, b_ih, b_hh, norm: str, zoneout, w_hr=None):
        w_ih_arr = np.asarray(w_ih)
        w_hh_arr = np.asarray(w_hh)
        recurrent = "P" if w_hr is not None else "H"
        if w_hh_arr.ndim != 2 or w_hh_arr.shape[0] % self.gates or w_hh_arr.shape[0] == 0:
            raise ValueError(
                f"{self.family}: w_hh must have shape ({self.gates}*H, {recurrent}), "
                f"got {w_hh_arr.shape}")
        hidden = w_hh_arr.shape[0] // self.gates
        # h has proj_size units when projected: w_hr is (P, H), w_hh (G*H, P).
        self.w_hr = None
        if w_hr is not None:
            w_hr_arr = np.asarray(w_hr)
            if w_hr_arr.ndim != 2 or w_hr_arr.shape[0] == 0 or w_hr_arr.shape[1] != hidden:
                raise ValueError(f"{self.family}: w_hr must have shape (proj_size, {hidden}) "
                                 f"to match w_hh's hidden size {hidden}, got {w_hr_arr.shape}")
            self.w_hr = _matrix_array(w_hr_arr, f"{self.family}.w_hr", w_hr_arr.shape)
        if w_ih_arr.ndim != 2 or w_ih_arr.shape[0] != self.gates * hidden or w_ih_arr.shape[1] == 0:
            raise ValueError(
                f"{self.family}: w_ih must have shape ({self.gates * hidden}, input_size) "
                f"to match w_hh's hidden size {hidden}, got {w_ih_arr.shape}")
        self.hidden_size = hidden
        self.input_size = int(w_ih_arr.shape[1])
        rows = self.gates * hidden
        self.w_ih = _matrix_array(w_ih_arr, f"{self.family}.w_ih", (rows, self.input_size))
        self.w_hh = _matrix_array(w_hh_arr, f"{self.family}.w_hh", (rows, self.output_size))
        self.b_ih = _optional_array(b_ih, f"{self.family}.b_ih", (rows,))
        self.b_hh = _optional_array(b_hh, f"{self.family}.b_hh", (rows,))
        if norm not in self._norm_choices:
            raise ValueError(
                f"{self.family}: norm must be one of {self._norm_choices}, got {norm!r}")
        self.norm = norm
        self.zoneout = _float(zoneout, f"{self.family}.zoneout")  # its range: the core's check

    def _base_spec(self, cell_type) -> "_core.LayerSpec":
        # The structure only: the matrices are lent to the core beside it
        # (matrices()), so they are never copied into the spec.
        spec = _core.LayerSpec()
        spec.type = cell_type
        spec.input_size = self.input_size
        spec.hidden_size = self.hidden_size
        spec.b_ih = self.b_ih
        spec.b_hh = self.b_hh
        spec.zoneout = self.zoneout
        if self.w_hr is not None:
            spec.proj_size = self.output_size
        return spec

    # norm option -> the placements it fills (see _SEPARATE).
    _placements: dict = {}

    def _segments(self, kind: str) -> list:
        return _segment_list(kind, self.gates, self.hidden_size)

    def _normed_spec(self, cell_type) -> "_core.LayerSpec":
        """The base spec with the norms self.norm places."""
        spec = self._base_spec(cell_type)
        for field, attr, name, kind in self._placements.get(self.norm, ()):
            setattr(spec, field, _core_norms(getattr(self, attr), name, self._segments(kind),
                                             single=kind == "whole"))
        return spec

    def _build(self) -> "_core.LayerSpec":
        raise NotImplementedError

    def _set_core_spec(self) -> None:
        """Builds the core spec and has the core check it now, not when a
        Model is made."""
        spec = self._build()
        _core.validate_layer(spec, self.matrices(), self.family)
        self._core_spec = spec

    def to_core(self) -> "_core.LayerSpec":
        """This layer's structure as the compiled core's spec: norms, biases
        and options; its matrices are lent beside it (``matrices()``)."""
        return self._core_spec

    def matrices(self) -> tuple:
        """(w_ih, w_hh, w_hr): the arrays lnfast.Model packs in place, w_hr
        None without a projection."""
        return self.w_ih, self.w_hh, self.w_hr

    def check_matrices(self) -> None:
        """The NaN/Inf check of the weight matrices that a cell built inside
        matrices_checked_by_model() left out: ValueError naming the first."""
        for name in ("w_ih", "w_hh", "w_hr"):
            if getattr(self, name) is not None:
                _check_finite(getattr(self, name), f"{self.family}.{name}")

    # The core spec is derived data: pickles carry the arrays and options.
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_core_spec", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._set_core_spec()

    def __repr__(self) -> str:
        proj = self.output_size if self.w_hr is not None else 0
        return layer_repr(type(self).__name__, self.input_size, self.hidden_size, self.norm,
                          self._options_text({**vars(self), "proj_size": proj}))

    @classmethod
    def _spec_options(cls, spec) -> dict:
        """The family's own keywords, read back from a core spec."""
        return {}

    @classmethod
    def _options_text(cls, o: dict) -> str:
        """The family's options in repr, from keywords (and "proj_size")."""
        return ""


class LSTM(_Cell):
    """An LSTM layer: LN-LSTM in any placement, or the plain LSTM.

    norm:
      "none"      gates = W x + b_ih + U h + b_hh
      "separate"  gates = LN_x(W x) + LN_h(U h) + b_ih + b_hh (paper eq. 20;
                  fastrnns, NeMo, haste); ln_x, ln_h over all 4H units
      "per_gate"  s = W x + U h + b; gate_k = LN_k(s_k) (TF contrib, Magenta,
                  icefall); ln_gates = [LN_i, LN_f, LN_g, LN_o], H units each
    cell_norm:
      "none"      h' = sigma(o) tanh(c')
      "output"    h' = sigma(o) tanh(LN_c(c')), the state keeps raw c' (paper
                  eq. 22, haste, Magenta)
      "state"     c' <- LN_c(c'); h' = sigma(o) tanh(c') (fastrnns, NeMo, TF
                  Addons, TF contrib, icefall)
    forget_bias is added to f after the norms (TF contrib/Magenta use 1.0);
    zoneout p gives h' = p h + (1 - p) h' (haste at inference).
    w_hr (P, H): a projection (torch's proj_size): h' = w_hr (sigma(o) tanh(.))
    with the cell norm as above; h and the output have P units, w_hh is
    (4H, P), the state is {"h": (P,), "c": (H,)}.
    """

    family = "LSTM"
    gates = _core.GATE_COUNTS[family]
    state_parts = ("h", "c")
    _norm_choices = ("none", "separate", "per_gate")
    _placements = {"separate": _SEPARATE, "per_gate": (("gate_norms", "ln_gates", "ln_gates", "gates"),)}

    def __init__(self, w_ih: ArrayLike, w_hh: ArrayLike, b_ih: Optional[ArrayLike] = None,
                 b_hh: Optional[ArrayLike] = None, *, norm: str = "none",
                 ln_x: Optional[LayerNorm] = None, ln_h: Optional[LayerNorm] = None,
                 ln_gates: Optional[Sequence[LayerNorm]] = None,
                 cell_norm: str = "none", ln_c: Optional[LayerNorm] = None,
                 forget_bias: float = 0.0, zoneout: float = 0.0,
                 w_hr: Optional[ArrayLike] = None) -> None:
        super().__init__(w_ih, w_hh, b_ih, b_hh, norm, zoneout, w_hr)
        if cell_norm not in ("none", "output", "state"):
            raise ValueError(f"LSTM: cell_norm must be 'none', 'output' or 'state', got {cell_norm!r}")
        self.ln_x, self.ln_h, self.ln_gates = ln_x, ln_h, ln_gates
        self.cell_norm, self.ln_c = cell_norm, ln_c
        self.forget_bias = _float(forget_bias, "LSTM.forget_bias")
        self._set_core_spec()

    @classmethod
    def _options_text(cls, o: dict) -> str:
        options = f", cell_norm={o['cell_norm']!r}" if o["cell_norm"] != "none" else ""
        if o["proj_size"]:
            options += f", proj_size={o['proj_size']}"
        return options

    @classmethod
    def _spec_options(cls, spec) -> dict:
        cell_norm = {v: k for k, v in _CELL_NORMS.items()}[spec.cell_norm]
        options = {"cell_norm": cell_norm, "forget_bias": float(spec.forget_bias)}
        if cell_norm != "none":
            options["ln_c"] = _layer_norm(spec.c_norm)
        return options

    def _build(self):
        spec = self._normed_spec(_core.CellType.LSTM)
        spec.cell_norm = _CELL_NORMS[self.cell_norm]
        if self.cell_norm != "none":
            spec.c_norm, = _core_norms(self.ln_c, "ln_c", [(0, self.hidden_size)], single=True)
        spec.forget_bias = self.forget_bias
        return spec



class GRU(_Cell):
    """A GRU layer: LN-GRU in any placement, or the plain GRU.

    reset:
      "recurrent" n = tanh(xn + r * hn), r scaling U_n h + b_hh_n (PyTorch,
                  haste, icefall)
      "candidate" s = [norms](W x + U h + b) in full, then n = tanh(r * s_n)
                  (DreamerV2/V3: sheeprl LayerNormGRUCell, dreamerv3-torch)
    norm:
      "none"      PyTorch's nn.GRU
      "separate"  LN_x over W x (3H), LN_h over U h (3H), biases after (haste)
      "paper"     four norms (eq. 26-28): ln_x = (LN over the r,z rows of W x,
                  LN over its n rows), ln_h likewise for U h
      "per_gate"  r = sigma(LN_r(xr + hr)), z = sigma(LN_z(xz + hz)),
                  n = tanh(LN_n(xn + r * hn)) (icefall); with reset="candidate"
                  n = tanh(r * LN_n(xn + hn))
      "joint"     one norm ``ln`` over all 3H units of W x + U h + b (DreamerV3);
                  needs reset="candidate", where the sum exists before any gate
    update: "pytorch" h' = (1 - z) n + z h; "paper" h' = (1 - z) h + z n.
    update_bias is added to z after the norms (DreamerV3: -1).
    """

    family = "GRU"
    gates = _core.GATE_COUNTS[family]
    _norm_choices = ("none", "separate", "paper", "per_gate", "joint")
    _placements = {"separate": _SEPARATE,
                   "paper": (("x_norms", "ln_x", "ln_x", "paper"), ("h_norms", "ln_h", "ln_h", "paper")),
                   "per_gate": (("gate_norms", "ln_gates", "ln_gates", "gates"),),
                   "joint": (("gate_norms", "ln", "ln", "whole"),)}
    _resets = {"recurrent": _core.GruReset.RECURRENT, "candidate": _core.GruReset.CANDIDATE}

    def __init__(self, w_ih: ArrayLike, w_hh: ArrayLike, b_ih: Optional[ArrayLike] = None,
                 b_hh: Optional[ArrayLike] = None, *, norm: str = "none",
                 ln_x: "LayerNorm | Sequence[LayerNorm] | None" = None,
                 ln_h: "LayerNorm | Sequence[LayerNorm] | None" = None,
                 ln_gates: Optional[Sequence[LayerNorm]] = None,
                 ln: Optional[LayerNorm] = None,
                 update: str = "pytorch", reset: str = "recurrent", update_bias: float = 0.0,
                 zoneout: float = 0.0) -> None:
        super().__init__(w_ih, w_hh, b_ih, b_hh, norm, zoneout)
        if update not in ("pytorch", "paper"):
            raise ValueError(f"GRU: update must be 'pytorch' or 'paper', got {update!r}")
        if reset not in self._resets:
            raise ValueError(f"GRU: reset must be 'recurrent' or 'candidate', got {reset!r}")
        if norm == "joint" and reset != "candidate":
            raise ValueError("GRU: norm='joint' needs reset='candidate': with the reset on "
                             "U_n h the candidate's sum depends on r, so one norm cannot "
                             "cover all three gates")
        self.ln_x, self.ln_h, self.ln_gates, self.ln = ln_x, ln_h, ln_gates, ln
        self.update, self.reset = update, reset
        self.update_bias = _float(update_bias, "GRU.update_bias")
        self._set_core_spec()

    @classmethod
    def _spec_options(cls, spec) -> dict:
        reset = {v: k for k, v in cls._resets.items()}[spec.gru_reset]
        return {"update": "paper" if spec.gru_paper_update else "pytorch", "reset": reset,
                "update_bias": float(spec.update_bias)}

    @classmethod
    def _options_text(cls, o: dict) -> str:
        options = f", update={o['update']!r}" if o["update"] != "pytorch" else ""
        options += f", reset={o['reset']!r}" if o["reset"] != "recurrent" else ""
        if o["update_bias"]:
            options += f", update_bias={o['update_bias']!r}"
        return options

    def _build(self):
        spec = self._normed_spec(_core.CellType.GRU)
        spec.gru_paper_update = self.update == "paper"
        spec.gru_reset = self._resets[self.reset]
        spec.update_bias = self.update_bias
        return spec

    def __setstate__(self, state):
        # Pickles from before reset/update_bias/ln existed.
        state = {"reset": "recurrent", "update_bias": 0.0, "ln": None, **state}
        super().__setstate__(state)


class RNN(_Cell):
    """An Elman layer: the LN-RNN of paper eq. 4, or the plain RNN.

    norm:
      "none"      h' = f(W x + b_ih + U h + b_hh)
      "per_gate"  h' = f(LN(W x + U h + b)) (the paper; alias "sum").
                  TF Addons' f(LN(a; g) + b) is this with beta = b.
      "separate"  h' = f(LN_x(W x) + LN_h(U h) + b)
    activation: "tanh" or "relu".
    """

    family = "RNN"
    gates = _core.GATE_COUNTS[family]
    _norm_choices = ("none", "per_gate", "sum", "separate")
    _placements = {"separate": _SEPARATE, "per_gate": (("gate_norms", "ln", "ln_gates", "gates"),)}

    def __init__(self, w_ih: ArrayLike, w_hh: ArrayLike, b_ih: Optional[ArrayLike] = None,
                 b_hh: Optional[ArrayLike] = None, *, norm: str = "none",
                 ln_x: Optional[LayerNorm] = None, ln_h: Optional[LayerNorm] = None,
                 ln: Optional[LayerNorm] = None, activation: str = "tanh",
                 zoneout: float = 0.0) -> None:
        super().__init__(w_ih, w_hh, b_ih, b_hh, norm, zoneout)
        if self.norm == "sum":
            self.norm = "per_gate"
        if activation not in ("tanh", "relu"):
            raise ValueError(f"RNN: activation must be 'tanh' or 'relu', got {activation!r}")
        self.ln_x, self.ln_h, self.ln, self.activation = ln_x, ln_h, ln, activation
        self._set_core_spec()

    @classmethod
    def _spec_options(cls, spec) -> dict:
        return {"activation": "relu" if spec.activation == _core.Activation.RELU else "tanh"}

    def _build(self):
        spec = self._normed_spec(_core.CellType.RNN)
        spec.activation = _core.Activation.RELU if self.activation == "relu" else _core.Activation.TANH
        return spec


_CELL_CLASSES = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}
_NORM_FIELDS = ("x_norms", "h_norms", "gate_norms")


def _norm_keywords(cls, spec) -> tuple:
    """(norm option, {cell attribute: LayerNorm or list}) whose placements
    give the spec's norms; ValueError when no option of the family does."""
    gates, hidden = cls.gates, spec.hidden_size
    present = {field: sorted(getattr(spec, field), key=lambda n: n.offset) for field in _NORM_FIELDS}
    if not any(present.values()):
        return "none", {}
    for norm, placements in cls._placements.items():
        keywords = {}
        for field, attr, _, kind in placements:
            segments = _segment_list(kind, gates, hidden)
            if [(n.offset, n.size) for n in present[field]] != segments:
                break
            norms = [_layer_norm(n) for n in present[field]]
            keywords[attr] = norms[0] if kind == "whole" or len(norms) == 1 else norms
        else:
            if all(not present[f] for f in _NORM_FIELDS if f not in {p[0] for p in placements}):
                return norm, keywords
    raise ValueError(f"a {cls.family} layer with these norms is no lnfast.{cls.family} option")


# layer_summary's norm for norms the core accepts but no option places
# (a model file may hold them: the core checks segments, not options).
CUSTOM_NORM = "custom"


def layer_summary(spec) -> tuple:
    """(family, norm option) of a core spec, its matrices not needed; the
    norm is CUSTOM_NORM when no option of the family gives its norms."""
    family = spec.type.name
    try:
        return family, _norm_keywords(_CELL_CLASSES[family], spec)[0]
    except ValueError:
        return family, CUSTOM_NORM


def state_layout(spec) -> tuple:
    """(part names, part sizes) of the stream state of the layer a core
    spec describes: the cell's state_parts, h with the layer's output size,
    an LSTM's c with its hidden size."""
    parts = state_parts_of(spec.type.name)
    return parts, part_sizes(parts, spec.proj_size or spec.hidden_size, spec.hidden_size)


def state_parts_of(family: str) -> tuple:
    """The names stream.state gives a layer's state parts, by family."""
    return _CELL_CLASSES[family].state_parts


def part_sizes(parts: tuple, output_size: int, hidden_size: int) -> tuple:
    """Units of each state part: h has the output size, c the hidden size."""
    return tuple(output_size if part == "h" else hidden_size for part in parts)


def spec_repr(spec) -> str:
    """repr() of the cell a core spec describes, without its matrices."""
    family, norm = layer_summary(spec)
    cls = _CELL_CLASSES[family]
    options = cls._options_text({**cls._spec_options(spec), "proj_size": spec.proj_size})
    return layer_repr(family, spec.input_size, spec.hidden_size, norm, options)


def cell_from_spec(spec) -> "Union[LSTM, GRU, RNN]":
    """The lnfast cell whose core spec is ``spec`` with its matrices filled
    (Model.unpacked_layer): how a model gives back its layers."""
    family, cls = spec.type.name, _CELL_CLASSES[spec.type.name]
    rows = cls.gates * spec.hidden_size
    output = spec.proj_size or spec.hidden_size
    norm, keywords = _norm_keywords(cls, spec)
    w_hr = spec.w_hr.reshape(spec.proj_size, spec.hidden_size) if spec.proj_size else None
    optional = {"b_ih": spec.b_ih, "b_hh": spec.b_hh}
    extra = {"w_hr": w_hr} if family == "LSTM" else {}
    return cls(spec.w_ih.reshape(rows, spec.input_size), spec.w_hh.reshape(rows, output),
               *(v if v.size else None for v in optional.values()),
               norm=norm, zoneout=float(spec.zoneout), **keywords, **cls._spec_options(spec), **extra)
