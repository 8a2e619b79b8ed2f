"""torch.nn.LSTM / GRU / RNN (keys ``weight_ih_l{k}``) and their single-step
cells nn.LSTMCell / GRUCell / RNNCell (keys ``weight_ih``, ``weight_hh``).

Already lnfast's layout: rows in i,f,g,o / r,z,n order, (G*H, in) weights,
no norms. The family follows from weight_hh's shape (G*H, H): G = 4, 3, 1.
nn.RNN's nonlinearity is not in the state_dict; it is the ``activation``
load option (tanh unless told otherwise).
"""
from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from . import scaled_weights
from .candidate import Candidate
from .cell_layout import CellLayout, dim_of
from .gates import GATE_COUNT, family_of_ratio
from .layer_plan import LayerPlan
from .tensor_set import TensorSet, format_shape

NAME = "torch_nn"
_STACK_KEY = re.compile(
    r"^(?P<prefix>(?:.*\.)?)(?P<param>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
    r"_l(?P<layer>\d{1,6})(?P<reverse>_reverse)?(?P<scaled>_scale)?$")
_LAYER_PARAM = re.compile(
    r"^(?:weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l\d{1,6}(?:_reverse)?(?:_scale)?$")
# Layer indices have at most 6 digits: no real stack is deeper, and a longer
# number from a hostile file must not reach int() or range().



def expected_weight_hh(family: Optional[str], hidden) -> str:
    """weight_hh's expected shape; ``hidden`` is "H" when it cannot be read."""
    if family is None:
        return f"(G*{hidden}, {hidden}) with G = 4 (LSTM), 3 (GRU) or 1 (RNN)"
    return f"({GATE_COUNT[family]}*H, H)" if isinstance(hidden, str) else \
        format_shape((GATE_COUNT[family] * hidden, hidden))


def _family_checked(tensors: TensorSet, key: str, family) -> Tuple[str, int]:
    """The family and hidden size weight_hh ``key`` implies (it must agree
    with ``family`` when that is known), or a LayoutError."""
    if key not in tensors:
        raise tensors.missing(key, role="recurrent weights")
    shape = tensors.shape(key)
    hidden = shape[1] if len(shape) == 2 else "H"
    found = family_of_ratio(shape[0], hidden) if len(shape) == 2 else None
    if found is None or (family is not None and found != family):
        raise tensors.error(f"tensor {key!r} (recurrent weights) has shape {format_shape(shape)}, "
                            f"expected {expected_weight_hh(family, hidden)}")
    return found, hidden


def plain_layer(tensors: TensorSet, keys: Dict[str, str], family: Optional[str],
                input_size: Optional[int]) -> LayerPlan:
    """A layer with no norms from keys w_ih, w_hh, b_ih, b_hh (biases optional)."""
    family, hidden = _family_checked(tensors, keys["w_hh"], family)
    rows = GATE_COUNT[family] * hidden
    if input_size is None:
        input_size = "input_size"
    weights = {
        "w_ih": tensors.get(keys["w_ih"], (rows, input_size), "input weights"),
        "w_hh": tensors.get(keys["w_hh"], (rows, hidden), "recurrent weights"),
        "b_ih": tensors.get_optional(keys["b_ih"], (rows,), "input bias"),
        "b_hh": tensors.get_optional(keys["b_hh"], (rows,), "recurrent bias"),
    }
    return LayerPlan(family, weights)


def projected_lstm_layer(tensors: TensorSet, keys: Dict[str, str],
                         input_size: Optional[int]) -> LayerPlan:
    """An LSTM layer with a projection of h (torch's proj_size and the
    sources that follow it): w_hh (4H, P) gives H and P, w_hr is (P, H)."""
    if keys["w_hh"] not in tensors:
        raise tensors.missing(keys["w_hh"], role="recurrent weights")
    shape = tensors.shape(keys["w_hh"])
    gates = GATE_COUNT["LSTM"]
    if len(shape) != 2 or 0 in shape or shape[0] % gates:
        raise tensors.error(f"tensor {keys['w_hh']!r} (recurrent weights) has shape "
                            f"{format_shape(shape)}, expected (4*H, proj_size)")
    rows, proj = shape
    hidden = rows // gates
    weights = {
        "w_ih": tensors.get(keys["w_ih"], (rows, input_size or "input_size"), "input weights"),
        "w_hh": tensors.get(keys["w_hh"], (rows, proj), "recurrent weights"),
        "b_ih": tensors.get_optional(keys["b_ih"], (rows,), "input bias"),
        "b_hh": tensors.get_optional(keys["b_hh"], (rows,), "recurrent bias"),
        "w_hr": tensors.get(keys["w_hr"], (proj, hidden), "projection weights"),
    }
    return LayerPlan("LSTM", weights)


# --------------------------------------------------------------------------
# nn.LSTM / nn.GRU / nn.RNN: all layers under one prefix


class TorchStack:
    """Converts a stack found by ``find_stacks``."""

    name = NAME

    def convert_layer(self, tensors: TensorSet, candidate: Candidate, k: int) -> LayerPlan:
        p = candidate.prefix
        keys = {"w_ih": f"{p}weight_ih_l{k}", "w_hh": f"{p}weight_hh_l{k}",
                "b_ih": f"{p}bias_ih_l{k}", "b_hh": f"{p}bias_hh_l{k}"}
        if f"{p}weight_hr_l{k}" in tensors:
            keys["w_hr"] = f"{p}weight_hr_l{k}"
        plan = self._layer(tensors, candidate, k, keys)
        plan.source_prefix = p
        return plan

    def _layer(self, tensors, candidate, k, keys) -> LayerPlan:
        # Every layer takes the size below it: layer 0 the input, then H.
        if "w_hr" in keys:
            return projected_lstm_layer(tensors, keys, candidate.sizes[k])
        return plain_layer(tensors, keys, candidate.family if k else None, candidate.sizes[k])


class ScaledStack(TorchStack):
    """icefall's ScaledLSTM: an nn.LSTM's keys, each with a log-scale."""

    name = scaled_weights.LAYOUT

    def _layer(self, tensors, candidate, k, keys) -> LayerPlan:
        return scaled_weights.fold_scales(tensors, super()._layer(tensors, candidate, k, keys), keys)


STACK = TorchStack()
SCALED_STACK = ScaledStack()


def find_stacks(tensors: TensorSet) -> Tuple[List[Candidate], List[str]]:
    """nn.LSTM/GRU/RNN modules, and near misses (prefixes with such keys
    next to names no nn.RNNBase has)."""
    layers_at = defaultdict(set)
    flags_at = defaultdict(set)
    for name in tensors.names():
        match = _STACK_KEY.match(name)
        if match:
            layers_at[match["prefix"]].add(int(match["layer"]))
            if match["reverse"]:
                flags_at[match["prefix"]].add("reverse")
            if match["param"] == "weight_hr":
                flags_at[match["prefix"]].add("projection")
            if match["scaled"]:
                flags_at[match["prefix"]].add("scaled")
    candidates, near_misses = [], []
    for prefix, layers in layers_at.items():
        extra = [n for n in tensors.names_under(prefix) if not _LAYER_PARAM.match(n)]
        if extra:
            near_misses.append(
                f"{prefix or '(top level)'} has nn.LSTM/GRU/RNN keys but also "
                f"{', '.join(repr(n) for n in extra[:3])}, which those modules do not hold")
            continue
        candidates.append(_stack_candidate(tensors, prefix, sorted(layers), flags_at[prefix]))
    return candidates, near_misses


def _first_missing(layers: List[int], count: int) -> List[int]:
    """The first ``count`` indices absent from sorted ``layers``, in time
    O(len(layers) + count), however large the largest index is."""
    missing, expected = [], 0
    for k in layers:
        while expected < k and len(missing) < count:
            missing.append(expected)
            expected += 1
        expected = k + 1
    return missing


def _stack_candidate(tensors: TensorSet, prefix: str, layers: List[int], flags) -> Candidate:
    problem = None
    if layers != list(range(len(layers))):
        missing_count = layers[-1] + 1 - len(layers)
        shown = ", ".join(map(str, _first_missing(layers, 5)))
        if missing_count > 5:
            shown += f" and {missing_count - 5} more"
        problem = (f"layers missing: keys for layer(s) {shown} are absent while "
                   f"layer {layers[-1]} is present")
    family = None
    w_hh0 = f"{prefix}weight_hh_l0"
    if "projection" in flags:
        family = "LSTM"  # the only one with proj_size; its weight_hh is (4H, proj_size)
    elif w_hh0 in tensors and len(tensors.shape(w_hh0)) == 2:
        family = family_of_ratio(*tensors.shape(w_hh0))
    sizes = [dim_of(tensors, f"{prefix}weight_ih_l0", -1)]
    sizes += [dim_of(tensors, f"{prefix}weight_hh_l{k}", -1) for k in layers]
    kind = f"nn.{family}" if family else "nn.LSTM/GRU/RNN"
    converter = STACK
    if "scaled" in flags:
        kind, converter = scaled_weights.KIND, SCALED_STACK
        if "reverse" in flags:  # ScaledLSTM asserts bidirectional=False
            problem = problem or "a bidirectional stack with *_scale keys, which no known module writes"
    if "projection" in flags:
        kind += "(proj_size)"
    if "reverse" in flags:
        return bidirectional_stack_candidate(prefix, kind, family, layers, sizes, problem,
                                             converter.name)
    return Candidate(layout=converter.name, kind=kind, family=family, prefix=prefix,
                     layer_prefixes=(prefix,) * len(layers), sizes=tuple(sizes),
                     converter=converter, problem=problem)


# --------------------------------------------------------------------------
# nn.LSTM / nn.GRU / nn.RNN (bidirectional=True): keys *_l{k} and *_l{k}_reverse


class TorchBidirectionalStack:
    """Converts a bidirectional stack: plans forward, backward of layer 0,
    then of layer 1, ...; layer k > 0 takes both directions below (2H)."""

    name = NAME

    def convert_layer(self, tensors: TensorSet, candidate: Candidate, j: int) -> LayerPlan:
        k, backward = divmod(j, 2)
        p, suffix = candidate.prefix, f"_l{k}" + ("_reverse" if backward else "")
        keys = {"w_ih": f"{p}weight_ih{suffix}", "w_hh": f"{p}weight_hh{suffix}",
                "b_ih": f"{p}bias_ih{suffix}", "b_hh": f"{p}bias_hh{suffix}"}
        below = candidate.sizes[k]
        input_size = below if k == 0 or below is None else 2 * below
        plan = plain_layer(tensors, keys, candidate.family if j else None, input_size)
        plan.source_prefix = p
        return plan


BIDIRECTIONAL_STACK = TorchBidirectionalStack()


def bidirectional_stack_candidate(prefix, kind, family, layers, sizes, problem,
                                  layout=NAME) -> Candidate:
    return Candidate(layout=layout, kind=f"{kind}, bidirectional", family=family, prefix=prefix,
                     layer_prefixes=(prefix,) * (2 * len(layers)), sizes=tuple(sizes),
                     converter=BIDIRECTIONAL_STACK, problem=problem, directions=2)


# --------------------------------------------------------------------------
# nn.LSTMCell / nn.GRUCell / nn.RNNCell


class TorchCell(CellLayout):
    name = NAME
    anchor = "weight_hh"
    params = frozenset({"weight_ih", "weight_hh", "bias_ih", "bias_hh"})
    required_params = frozenset({"weight_ih", "weight_hh"})

    def family_at(self, tensors, prefix):
        shape = tensors.shape(prefix + "weight_hh")
        return family_of_ratio(*shape) if len(shape) == 2 else None

    def candidate_at(self, tensors, prefix):
        candidate = super().candidate_at(tensors, prefix)
        family = candidate.family
        kind = f"nn.{family}Cell" if family else "nn.LSTMCell/GRUCell/RNNCell"
        return dataclasses.replace(candidate, kind=kind)

    def sizes_at(self, tensors, prefix):
        return (dim_of(tensors, prefix + "weight_ih", -1), dim_of(tensors, prefix + "weight_hh", -1))

    def convert_cell(self, tensors, prefix):
        keys = {"w_ih": f"{prefix}weight_ih", "w_hh": f"{prefix}weight_hh",
                "b_ih": f"{prefix}bias_ih", "b_hh": f"{prefix}bias_hh"}
        return plain_layer(tensors, keys, None, None)


CELL = TorchCell()
