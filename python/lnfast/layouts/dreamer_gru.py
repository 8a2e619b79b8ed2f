"""DreamerV2/V3's LN-GRU as PyTorch users write it: one linear over the
concatenated [x, h], one LayerNorm over all 3H units of that sum, the reset
gate inside the candidate and a constant update bias of -1:

    s = LN(W [x, h] + b);  r, c, u = s split in three (file order r, n, z)
    r = sig(r);  n = tanh(r * c);  z = sig(u - 1);  h' = z n + (1 - z) h

which is lnfast.GRU(norm="joint", reset="candidate", update_bias=-1,
update="paper"); the [x, h] matrix splits into w_ih and w_hh by columns.

sheeprl LayerNormGRUCell (sheeprl/models/models.py): ``linear.weight``
(3H, H + I) over torch.cat((h, x)), h first; ``linear.bias`` (3H) when
bias=True; ``layer_norm.weight``/``.bias`` (3H). Its DreamerV3 agent builds it
with bias=False and eps 1e-3 (the config's layer_norm.kw), its DreamerV2
agent with bias=True and nn.LayerNorm's 1e-5: eps follows the bias, and the
``eps`` load option overrides it. Without a norm (nn.Identity) its keys are
a bare nn.Linear's and are not taken for a GRU.

dreamerv3-torch GRUCell (networks.py): ``layers.GRU_linear.weight``
(3H, I + H) over torch.cat([x, h]), x first, no bias;
``layers.GRU_norm.weight``/``.bias`` (3H, eps 1e-3) unless norm=False.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

from .candidate import Candidate
from .gates import to_canonical
from .layer_plan import LayerPlan, module_norm
from .tensor_set import TensorSet

FILE_ORDER = "rnz"  # reset, candidate, update
GRU_OPTIONS = {"reset": "candidate", "update_bias": -1.0, "update": "paper"}


class DreamerGRU:
    name = ""
    kind = ""
    linear = ""          # the linear module, relative to the cell prefix
    norm = ""            # the LayerNorm module
    hidden_first = False  # whether h precedes x in the concatenation
    norm_required = True

    def eps(self, has_bias: bool) -> float:
        raise NotImplementedError

    def _names(self) -> set:
        return {f"{self.linear}.weight", f"{self.linear}.bias", f"{self.norm}.weight",
                f"{self.norm}.bias"}

    def find(self, tensors: TensorSet) -> Tuple[List[Candidate], List[str]]:
        """(candidates, near misses)."""
        anchor = f"{self.linear}.weight"
        found, near_misses = [], []
        for name in tensors.names():
            if name != anchor and not name.endswith("." + anchor):
                continue
            prefix = name[: -len(anchor)]
            names = set(tensors.names_under(prefix))
            has_norm = bool(names & {f"{self.norm}.weight", f"{self.norm}.bias"})
            if names <= self._names() and (has_norm or not self.norm_required):
                candidate = self._candidate(tensors, prefix)
                # A Linear and LayerNorm by these common names are a GRU only
                # if their shapes are one; GRU_linear is name enough, and a
                # bad shape is then an error naming it.
                if candidate.sizes[0] is not None or not self.norm_required:
                    found.append(candidate)
                elif candidate.sizes[1] is not None:
                    near_misses.append(
                        f"{prefix or '(top level)'} holds {self.linear} and {self.norm} "
                        f"over {3 * candidate.sizes[1]} units like a {self.kind}, but "
                        f"{name!r} has shape {tensors.shape(name)}, not (3H, H + input_size)")
        return found, near_misses

    def _hidden(self, tensors: TensorSet, prefix: str) -> Optional[int]:
        """H from the norm's size when there is one, else from the rows."""
        shape = tensors.shape(f"{prefix}{self.linear}.weight")
        rows = shape[0] if len(shape) == 2 else None
        for key in (f"{prefix}{self.norm}.weight", f"{prefix}{self.norm}.bias"):
            if key in tensors and tensors.shape(key) != (rows,):
                return None
        return rows // 3 if rows and rows % 3 == 0 else None

    def _candidate(self, tensors: TensorSet, prefix: str) -> Candidate:
        hidden = self._hidden(tensors, prefix)
        shape = tensors.shape(f"{prefix}{self.linear}.weight")
        inputs = shape[1] - hidden if hidden and len(shape) == 2 and shape[1] > hidden else None
        return Candidate(layout=self.name, kind=self.kind, family="GRU", prefix=prefix,
                         layer_prefixes=(prefix,), sizes=(inputs, hidden), converter=self)

    def convert_layer(self, tensors: TensorSet, candidate: Candidate, k: int) -> LayerPlan:
        prefix = candidate.prefix
        hidden = candidate.sizes[1]
        key = f"{prefix}{self.linear}.weight"
        rows = "3*H" if hidden is None else 3 * hidden
        order = "(3H, H + input_size), over [h, x]" if self.hidden_first else \
            "(3H, input_size + H), over [x, h]"
        joined = tensors.get(key, (rows, "H + input_size"), f"joined weights {order}")
        if hidden is None or joined.shape[1] <= hidden:
            raise tensors.error(f"tensor {key!r} (joined weights {order}) has shape "
                                f"{tuple(joined.shape)}, which fits no hidden size H with a "
                                f"norm over 3H units and at least one input")
        inputs = joined.shape[1] - hidden
        w_h, w_x = (joined[:, :hidden], joined[:, hidden:]) if self.hidden_first else \
            (joined[:, inputs:], joined[:, :inputs])
        bias = tensors.get_optional(f"{prefix}{self.linear}.bias", (rows,), "bias")
        weights = {"w_ih": to_canonical(w_x, FILE_ORDER, "GRU"),
                   "w_hh": to_canonical(w_h, FILE_ORDER, "GRU"),
                   "b_ih": to_canonical(bias, FILE_ORDER, "GRU"), "b_hh": None}
        options = dict(GRU_OPTIONS, norm="none")
        if any(f"{prefix}{self.norm}.{p}" in tensors for p in ("weight", "bias")):
            norm = module_norm(tensors, prefix + self.norm, rows, self.eps(bias is not None),
                               "norm over all 3H units")
            options.update(norm="joint", ln=type(norm)(
                gamma=to_canonical(norm.gamma, FILE_ORDER, "GRU"),
                beta=to_canonical(norm.beta, FILE_ORDER, "GRU"), eps=norm.eps))
        plan = LayerPlan("GRU", weights, options)
        plan.source_prefix = prefix
        return plan


class SheeprlGRU(DreamerGRU):
    name = "sheeprl_gru"
    kind = "sheeprl LayerNormGRUCell (DreamerV2/V3)"
    linear, norm = "linear", "layer_norm"
    hidden_first = True

    def eps(self, has_bias: bool) -> float:
        return 1e-5 if has_bias else 1e-3


class Dreamerv3TorchGRU(DreamerGRU):
    name = "dreamerv3_torch_gru"
    kind = "dreamerv3-torch GRUCell"
    linear, norm = "layers.GRU_linear", "layers.GRU_norm"
    norm_required = False  # GRU_linear is name enough

    def eps(self, has_bias: bool) -> float:
        return 1e-3


SOURCES: Tuple[DreamerGRU, ...] = (SheeprlGRU(), Dreamerv3TorchGRU())


def find_cells(tensors: TensorSet) -> Tuple[List[Candidate], List[str]]:
    """(candidates, near misses) of every source."""
    found, near_misses = [], []
    for source in SOURCES:
        candidates, misses = source.find(tensors)
        found += candidates
        near_misses += misses
    return found, near_misses
