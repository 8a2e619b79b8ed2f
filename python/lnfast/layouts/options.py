"""Load options: what a checkpoint does not store but the computation needs."""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import List, Mapping as MappingType, Optional

from .. import _core
from .layer_plan import LayerPlan

OPTION_HELP = {
    "zoneout": "zoneout probability p at inference, h' = p h + (1 - p) h' (haste); every layer",
    "forget_bias": "constant added to the LSTM forget gate after its norm (TF contrib, Magenta use 1.0)",
    "eps": "eps of every layer norm, replacing the layout's default",
    "activation": "'tanh' or 'relu' for RNN layers (nn.RNN's nonlinearity is not in the state_dict)",
    "isa": "instruction set for lnfast.Model: None (best available), 'scalar', 'avx2', 'avx512'",
    "weights": "weight storage for lnfast.Model: 'fp32' (default), 'bf16' or 'int8'",
    "activations": "GEMM inputs for lnfast.Model: 'fp32' (default) or 'int8' (with weights 'int8' only)",
}


@dataclass(frozen=True)
class LoadOptions:
    """None means: keep what the layout (or the Mapping) says."""

    zoneout: Optional[float] = None
    forget_bias: Optional[float] = None
    eps: Optional[float] = None
    activation: Optional[str] = None
    isa: Optional[str] = None
    weights: str = "fp32"
    activations: str = "fp32"

    def __post_init__(self):
        # Checked here so that an error from building a cell later is about
        # the checkpoint's data, never about an option.
        for name in ("zoneout", "forget_bias", "eps"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                                      or not math.isfinite(value)):
                raise TypeError(f"load option {name} must be a finite real number, got {value!r}")
        if self.zoneout is not None and not 0.0 <= self.zoneout <= 1.0:
            raise ValueError(f"load option zoneout must be in [0, 1], got {self.zoneout}")
        if self.eps is not None and self.eps < 0:
            raise ValueError(f"load option eps must be >= 0, got {self.eps}")
        if self.activation is not None and self.activation not in ("tanh", "relu"):
            raise ValueError(f"load option activation must be 'tanh' or 'relu', got {self.activation!r}")
        if self.weights not in _core.WEIGHT_FORMATS:
            *most, last = map(repr, _core.WEIGHT_FORMATS)
            raise ValueError(f"load option weights must be {', '.join(most)} or {last}, got {self.weights!r}")
        if self.activations not in _core.ACTIVATION_FORMATS:
            raise ValueError(f"load option activations must be 'fp32' or 'int8', got {self.activations!r}")
        if self.activations == "int8" and self.weights != "int8":
            raise ValueError(f"load option activations='int8' needs weights='int8', got {self.weights!r}")
        if self.isa is not None and not isinstance(self.isa, str):
            raise TypeError(f"load option isa must be a str or None, got {self.isa!r}")

    @classmethod
    def parse(cls, options: MappingType[str, object]) -> "LoadOptions":
        unknown = sorted(set(options) - set(OPTION_HELP))
        if unknown:
            known = "\n".join(f"  {name}: {text}" for name, text in OPTION_HELP.items())
            raise TypeError(f"unknown load option(s) {', '.join(unknown)}; the options are:\n{known}")
        return cls(**options)

    def apply(self, plans: List[LayerPlan], what: str = "this network") -> List[LayerPlan]:
        """The plans with these options in force; an option that cannot apply
        to any layer is an error rather than silently ignored."""
        families = {plan.family for plan in plans}
        if self.forget_bias is not None and "LSTM" not in families:
            raise ValueError(f"forget_bias applies to LSTM layers; {what} has {_names(families)} layers")
        if self.activation is not None and "RNN" not in families:
            raise ValueError(f"activation applies to RNN layers; {what} has {_names(families)} layers")
        if self.eps is not None and not any(plan.has_norms() for plan in plans):
            raise ValueError(f"eps applies to layer norms; {what} has none")
        return [self._apply_one(plan) for plan in plans]

    def _apply_one(self, plan: LayerPlan) -> LayerPlan:
        if self.eps is not None:
            plan = plan.with_eps(self.eps)
        updates = {"zoneout": self.zoneout}
        if plan.family == "LSTM":
            updates["forget_bias"] = self.forget_bias
        if plan.family == "RNN":
            updates["activation"] = self.activation
        options = dict(plan.options)
        options.update({name: value for name, value in updates.items() if value is not None})
        return dataclasses.replace(plan, options=options)


def _names(families) -> str:
    return "/".join(sorted(families))
