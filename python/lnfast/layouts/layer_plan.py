"""One layer's weights in lnfast's canonical form, before it becomes a cell.

Layouts produce LayerPlans; load options then adjust them (eps, zoneout,
...) and only then are lnfast cells built, so every option is applied the
same way whatever the layout.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np

from ..cells import GRU, LSTM, RNN, LayerNorm
from .tensor_set import TensorSet

CELL_CLASSES = {"LSTM": LSTM, "GRU": GRU, "RNN": RNN}
# Keyword options of the cells that hold a LayerNorm or a list of them.
NORM_OPTIONS = ("ln_x", "ln_h", "ln_gates", "ln_c", "ln")
DEFAULT_EPS = 1e-5


@dataclass
class LayerPlan:
    family: str                      # "LSTM", "GRU" or "RNN"
    weights: Dict[str, Optional[np.ndarray]]  # w_ih, w_hh, b_ih, b_hh, canonical order
    options: Dict[str, object] = field(default_factory=dict)  # lnfast.LSTM/GRU/RNN keywords
    source_prefix: str = ""          # the module prefix its tensors came from

    def has_norms(self) -> bool:
        return self.options.get("norm", "none") != "none" or \
            self.options.get("cell_norm", "none") != "none"

    def with_eps(self, eps: float) -> "LayerPlan":
        options = dict(self.options)
        for name in NORM_OPTIONS:
            value = options.get(name)
            if isinstance(value, LayerNorm):
                options[name] = dataclasses.replace(value, eps=eps)
            elif isinstance(value, (list, tuple)):
                options[name] = [dataclasses.replace(n, eps=eps) for n in value]
        return dataclasses.replace(self, options=options)

    def to_cell(self):
        return CELL_CLASSES[self.family](**self.weights, **self.options)


def module_norm(tensors: TensorSet, module: str, size: int, eps: float = DEFAULT_EPS,
                role: str = "") -> LayerNorm:
    """An nn.LayerNorm stored as ``module.weight`` / ``module.bias``; either
    may be absent (elementwise_affine=False, bias=False)."""
    gamma = tensors.get_optional(f"{module}.weight", (size,), role)
    beta = tensors.get_optional(f"{module}.bias", (size,), role)
    return LayerNorm(gamma=gamma, beta=beta, eps=eps)
