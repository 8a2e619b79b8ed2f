"""Turning a Mapping and a checkpoint's tensors into LayerPlans."""
from __future__ import annotations

import re
from typing import List, Optional

import numpy as np

from ..cells import LayerNorm
from .gates import GATE_COUNT, gate_letter, to_canonical
from .layer_plan import LayerPlan
from .mapping import Mapping, NormKeys
from .tensor_set import TensorSet, format_shape, shape_fits

_ROW = re.compile(r"^(?P<name>.*)\[(?P<row>\d+)\]$")


def convert_mapping(mapping: Mapping, tensors: TensorSet, prefix: str) -> List[LayerPlan]:
    reader = _LayerReader(mapping, tensors, prefix)
    plans: List[LayerPlan] = []
    below: Optional[int] = None
    for k in range(reader.layer_count()):
        plan = reader.layer(k, below)
        below = plan.weights["w_hh"].shape[1]
        plans.append(plan)
    return plans


class _LayerReader:
    def __init__(self, mapping: Mapping, tensors: TensorSet, prefix: str):
        self.m = mapping
        self.tensors = tensors
        self.prefix = prefix
        self.k = 0

    # -- keys -----------------------------------------------------------------

    def key(self, template: str) -> str:
        return self.prefix + template.replace("{k}", str(self.k))

    def exists(self, template: str) -> bool:
        match = _ROW.match(self.key(template))
        return (match["name"] if match else self.key(template)) in self.tensors

    def fetch(self, template: str, expected, role: str) -> np.ndarray:
        """The tensor a key names (``name[i]`` = row i), checked against ``expected``."""
        key = self.key(template)
        match = _ROW.match(key)
        if not match:
            return self.tensors.get(key, expected, role)
        name, row = match["name"], int(match["row"])
        if name not in self.tensors:
            raise self.tensors.missing(name, role=role)
        whole = self.tensors.tensors[name]
        if whole.ndim != 2 or row >= whole.shape[0] or not shape_fits(whole.shape[1:], expected):
            raise self.tensors.error(
                f"tensor {name!r} ({role}) has shape {format_shape(whole.shape)}; {key!r} needs "
                f"at least {row + 1} rows of shape {format_shape(expected)}")
        return whole[row]

    def layer_count(self) -> int:
        if not any("{k}" in key for key in (self.m.w_ih, self.m.w_hh)):
            return 1
        if self.m.num_layers is not None:
            return self.m.num_layers
        count = 0
        while True:
            self.k = count
            if not self.exists(self.m.w_ih):
                break
            count += 1
        if count == 0:
            raise self.tensors.missing(self.key(self.m.w_ih), role="layer 0 input weights")
        return count

    # -- one layer ------------------------------------------------------------

    def layer(self, k: int, below: Optional[int]) -> LayerPlan:
        self.k = k
        m = self.m
        gates = GATE_COUNT[m.family]
        hidden = self._hidden()
        rows = gates * hidden
        inputs = below if below is not None else "input_size"
        if m.transposed:
            w_ih = self.fetch(m.w_ih, (inputs, rows), "input weights, stored (in, G*H)").T
            w_hh = self.fetch(m.w_hh, (hidden, rows), "recurrent weights, stored (H, G*H)").T
        else:
            w_ih = self.fetch(m.w_ih, (rows, inputs), "input weights")
            w_hh = self.fetch(m.w_hh, (rows, hidden), "recurrent weights")
        weights = {"w_ih": self._rows(w_ih), "w_hh": self._rows(w_hh),
                   "b_ih": self._rows(self._optional(m.b_ih, (rows,), "input bias")),
                   "b_hh": self._rows(self._optional(m.b_hh, (rows,), "recurrent bias"))}
        return LayerPlan(m.family, weights, self._options(hidden), source_prefix=self.prefix)

    def _hidden(self) -> int:
        key = self.key(self.m.w_hh)
        if key not in self.tensors:
            raise self.tensors.missing(key, role="recurrent weights")
        shape = self.tensors.shape(key)
        if len(shape) != 2:
            expected = "(H, G*H)" if self.m.transposed else "(G*H, H)"
            raise self.tensors.error(f"tensor {key!r} (recurrent weights) has shape "
                                     f"{format_shape(shape)}, expected a matrix {expected}")
        return shape[0] if self.m.transposed else shape[1]

    def _optional(self, template, expected, role):
        return None if template is None else self.fetch(template, expected, role)

    def _rows(self, array):
        return to_canonical(array, self.m.gate_order, self.m.family)

    def _options(self, hidden: int) -> dict:
        m = self.m
        rows = GATE_COUNT[m.family] * hidden
        options = {"norm": m.norm, "zoneout": m.zoneout}
        if m.norm == "separate":
            options["ln_x"] = self._all_gates_norm(m.ln_x, rows, "x norm")
            options["ln_h"] = self._all_gates_norm(m.ln_h, rows, "h norm")
        elif m.norm == "paper":
            options["ln_x"] = self._paper_pair(m.ln_x, hidden, "x")
            options["ln_h"] = self._paper_pair(m.ln_h, hidden, "h")
        elif m.norm == "per_gate" and m.family == "RNN":
            options["ln"] = self._gate_norms(hidden)[0]  # an RNN's one "gate"
        elif m.norm == "per_gate":
            options["ln_gates"] = self._gate_norms(hidden)
        elif m.norm == "joint":
            options["ln"] = self._all_gates_norm(m.ln_gates, rows, "norm over all gates")
        if m.family == "LSTM":
            options.update(cell_norm=m.cell_norm, forget_bias=m.forget_bias)
            if m.cell_norm != "none":
                options["ln_c"] = self.norm(m.ln_c, hidden, "cell norm")
        elif m.family == "GRU":
            options.update(update=m.update, reset=m.reset, update_bias=m.update_bias)
        else:
            options["activation"] = m.activation
        return options

    # -- norms ----------------------------------------------------------------

    def norm(self, spec, size: int, role: str, reorder=None) -> LayerNorm:
        """One norm over ``size`` units; ``reorder`` puts its gain/shift rows
        in the same order as the weights' rows."""
        if spec is None:
            return LayerNorm(eps=self.m.eps)
        if isinstance(spec, str):
            gamma_key, beta_key = f"{spec}.weight", f"{spec}.bias"
            if not (self.exists(gamma_key) or self.exists(beta_key)):
                raise self.tensors.error(
                    f"{role}: neither {self.key(gamma_key)!r} nor {self.key(beta_key)!r} is in "
                    f"the checkpoint (a str names an nn.LayerNorm module; use lnfast.NormKeys "
                    f"to name other tensors)")
            gamma = self.fetch(gamma_key, (size,), role + " gain") if self.exists(gamma_key) else None
            beta = self.fetch(beta_key, (size,), role + " shift") if self.exists(beta_key) else None
        elif isinstance(spec, NormKeys):
            gamma = self._optional(spec.gamma, (size,), role + " gain")
            beta = self._optional(spec.beta, (size,), role + " shift")
        else:
            raise TypeError(f"{role}: expected a module name, lnfast.NormKeys or None, "
                            f"got {type(spec).__name__}")
        if reorder is not None:
            gamma, beta = reorder(gamma), reorder(beta)
        return LayerNorm(gamma=gamma, beta=beta, eps=self.m.eps)

    def _all_gates_norm(self, spec, rows: int, role: str) -> LayerNorm:
        return self.norm(spec, rows, role, reorder=self._rows)

    def _paper_pair(self, pair, hidden: int, side: str) -> list:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise TypeError(f"Mapping.ln_{side} for norm='paper' must be a pair (norm of the r,z "
                            f"rows, norm of the n rows), got {pair!r}")
        rz_file_order = "".join(g for g in self.m.gate_order if g in "rz")

        def rz_rows(array):
            if array is None or rz_file_order == "rz":
                return array
            return np.concatenate(np.split(array, 2)[::-1])

        return [self.norm(pair[0], 2 * hidden, f"{side} norm of the r,z rows", reorder=rz_rows),
                self.norm(pair[1], hidden, f"{side} norm of the n rows")]

    def _gate_norms(self, hidden: int) -> list:
        m = self.m
        spec = m.ln_gates
        if spec is None:
            spec = [None] * len(m.gate_order)   # norms without gain or shift
        elif m.family == "RNN" and not isinstance(spec, (list, tuple, dict)):
            spec = [spec]
        if isinstance(spec, dict):
            by_gate = {gate_letter(g, m.family) if m.family != "RNN" else "h": s
                       for g, s in spec.items()}
        elif isinstance(spec, (list, tuple)):
            by_gate = dict(zip(m.gate_order, spec)) if len(spec) == len(m.gate_order) else None
        else:
            by_gate = None
        if by_gate is None or set(by_gate) != set(m.canonical_order):
            raise TypeError(
                f"Mapping.ln_gates for norm='per_gate' must give one norm per gate "
                f"({', '.join(m.gate_order)}), as a dict by gate letter or a sequence in "
                f"gate_order; got {spec!r}")
        return [self.norm(by_gate[g], hidden, f"norm of gate {g}") for g in m.canonical_order]
