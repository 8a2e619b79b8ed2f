"""An explicit description of a checkpoint lnfast does not recognise by itself.

Names alone do not reveal everything: a custom cell can reuse nn.LSTMCell's
names while slicing its gates i, f, o, g, and no file stores eps, zoneout or
an RNN's nonlinearity. A Mapping says all of it, and is given to
``lnfast.load(path, layout=Mapping(...), prefix=...)``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence, Union

from .gates import CANONICAL_ORDER, normalize_family, normalize_order


@dataclass(frozen=True)
class NormKeys:
    """Where one layer norm's gain and shift are stored, when they are not an
    nn.LayerNorm's ``<module>.weight`` / ``<module>.bias`` pair.

    Either may be None: that norm has no gain (or no shift). A key may end in
    ``[i]`` to take row i of a 2-D tensor, e.g. ``NormKeys(gamma="gamma[0]")``
    for haste-style cells that keep the x and h gains in one (2, 4H) tensor.
    """

    gamma: Optional[str] = None
    beta: Optional[str] = None


# One norm: an nn.LayerNorm module's name (its .weight/.bias, each optional),
# a NormKeys, or None for a norm with neither gain nor shift.
NormSpec = Union[None, str, NormKeys]

_NORMS = {"LSTM": ("none", "separate", "per_gate"),
          "GRU": ("none", "separate", "paper", "per_gate", "joint"),
          "RNN": ("none", "separate", "per_gate")}
# Options that mean something for one family only, with their neutral value.
_FAMILY_ONLY = {"cell_norm": ("LSTM", "none"), "ln_c": ("LSTM", None),
                "forget_bias": ("LSTM", 0.0), "update": ("GRU", "pytorch"),
                "reset": ("GRU", "recurrent"), "update_bias": ("GRU", 0.0),
                "activation": ("RNN", "tanh")}


@dataclass(frozen=True)
class Mapping:
    """Which tensor is which, and how the cell computes.

    Keys are tensor names relative to ``prefix=`` (given to load), e.g.
    "weight_ih" with prefix="model.cell". A "{k}" in a key stands for the
    layer index of a stack: w_ih="layers.{k}.weight_ih" with num_layers=None
    loads layers 0, 1, ... for as long as the key exists.

    family:     "LSTM", "GRU" or "RNN"
    w_ih, w_hh: input and recurrent weights, (G*H, in) and (G*H, H) with the
                G gate blocks stacked in ``gate_order``; (in, G*H) and
                (H, G*H) when ``transposed`` (Keras, haste)
    b_ih, b_hh: biases (G*H,), optional. norm "none"/"per_gate": inside the
                sum (before a per-gate norm); "separate": added after the
                norms. A GRU's b_hh is inside the reset: r * (U_n h + b_hh_n)
    gate_order: the file's gate order; default lnfast's own, "ifgo" (LSTM)
                or "rzn" (GRU). "j" or "c" may spell the LSTM candidate g,
                "u" the GRU update gate z. E.g. "ifog", "igfo" (haste),
                "zrn" (haste GRU)
    norm:       "none"; "separate": gates = LN_x(W x) + LN_h(U h) + b with
                ln_x, ln_h over all G*H units; "per_gate": each gate's H units
                normed on the sum, ln_gates; GRU "paper": ln_x and ln_h each a
                pair (norm of the r,z rows (2H), norm of the n rows (H)); GRU
                "joint": one norm over all 3H units of the sum, ln_gates=spec
                (needs reset="candidate")
    ln_x, ln_h: NormSpec (or a pair of them for GRU "paper"); gains are in
                file gate order, like the rows
    ln_gates:   {gate letter: NormSpec}, e.g. {"i": "ln_i", "f": "ln_f",
                "g": "ln_g", "o": "ln_o"}, or a sequence in the file's gate
                order, or None for norms without gain or shift; an RNN's one
                norm on W x + U h (+ b) is ln_gates=spec
    cell_norm:  LSTM "none", "output" (h' = sig(o) tanh(LN_c(c')), the state
                keeps raw c') or "state" (c' <- LN_c(c')); ln_c is its norm
    eps:        eps of every norm (not stored in checkpoints; 1e-5 is
                nn.LayerNorm's default)
    update:     GRU "pytorch" (h' = (1 - z) n + z h) or "paper" (h' = (1 - z) h + z n)
    reset:      GRU "recurrent" (n = tanh(xn + r * hn)) or "candidate"
                (n = tanh(r * s_n) on the whole, normalized sum: DreamerV3)
    update_bias: added to the GRU update gate z after its norm (DreamerV3: -1)
    activation: RNN "tanh" or "relu"
    forget_bias: added to the LSTM forget gate after its norm
    zoneout:    p in h' = p h + (1 - p) h' at inference

    A NormSpec is the name of an nn.LayerNorm module ("layernorm_i" reads
    "layernorm_i.weight" and "layernorm_i.bias", each if present), a
    NormKeys(gamma=..., beta=...) naming the tensors, or None (a norm
    without gain or shift).

    Example, a custom cell with nn.LSTMCell's names whose forward slices the
    gates i, f, o, g, saved as a submodule "cell" of the model:

        lnfast.load("my.pt", prefix="cell", layout=lnfast.Mapping(
            family="LSTM", w_ih="weight_ih", w_hh="weight_hh",
            b_ih="bias_ih", b_hh="bias_hh", gate_order="ifog"))

    A stack of haste-style GRU layers in an nn.ModuleList "rnns" (Keras-style
    kernels, gate order z, r, n, both norm gains in one (2, 3H) gamma):

        lnfast.Mapping(
            family="GRU", w_ih="rnns.{k}.kernel", w_hh="rnns.{k}.recurrent_kernel",
            b_ih="rnns.{k}.bias", b_hh="rnns.{k}.recurrent_bias", transposed=True,
            gate_order="zrn", norm="separate",
            ln_x=lnfast.NormKeys(gamma="rnns.{k}.gamma[0]"),
            ln_h=lnfast.NormKeys(gamma="rnns.{k}.gamma[1]"))

    lnfast.from_torch(module, layout=mapping) takes the same Mapping.
    """

    family: str
    w_ih: str
    w_hh: str
    b_ih: Optional[str] = None
    b_hh: Optional[str] = None
    gate_order: Optional[str] = None
    transposed: bool = False
    num_layers: Optional[int] = None
    norm: str = "none"
    ln_x: Union[NormSpec, Sequence[NormSpec]] = None
    ln_h: Union[NormSpec, Sequence[NormSpec]] = None
    ln_gates: Union[None, Dict[str, NormSpec], Sequence[NormSpec], str, NormKeys] = None
    cell_norm: str = "none"
    ln_c: NormSpec = None
    eps: float = 1e-5
    update: str = "pytorch"
    reset: str = "recurrent"
    update_bias: float = 0.0
    activation: str = "tanh"
    forget_bias: float = 0.0
    zoneout: float = 0.0

    def __post_init__(self):
        family = normalize_family(self.family)
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "gate_order", normalize_order(self.gate_order, family))
        for name in ("w_ih", "w_hh"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise TypeError(f"Mapping.{name} must be a tensor name (str)")
        if self.norm not in _NORMS[family]:
            raise ValueError(f"Mapping.norm for a {family} must be one of {_NORMS[family]}, "
                             f"got {self.norm!r}")
        for option, (owner, neutral) in _FAMILY_ONLY.items():
            if family != owner and getattr(self, option) != neutral:
                raise ValueError(f"Mapping.{option} applies to {owner} cells, not to a {family}")
        has_k = "{k}" in self.w_ih or "{k}" in self.w_hh
        if self.num_layers is not None:
            if isinstance(self.num_layers, bool) or not isinstance(self.num_layers, int) \
                    or self.num_layers < 1:
                raise ValueError(f"Mapping.num_layers must be a positive int, got {self.num_layers!r}")
            if self.num_layers > 1 and not has_k:
                raise ValueError("Mapping.num_layers > 1 needs '{k}' (the layer index) in the "
                                 "key names, e.g. w_ih='layers.{k}.weight_ih'")

    @property
    def canonical_order(self) -> str:
        """lnfast's gate order for this family ("ifgo" for LSTM, "rzn" for
        GRU): what gate_order is permuted into at load time."""
        return CANONICAL_ORDER[self.family]
