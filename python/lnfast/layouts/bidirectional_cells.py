"""Bidirectional stacks of single cells, as PyTorch's fastrnns writes them
(benchmarks/fastrnns/custom_lstms.py, StackedLSTM2 of BidirLSTMLayer):
``P{k}.directions.0.cell.`` runs forward and ``P{k}.directions.1.cell.``
backward over the sequence; layer k + 1 takes both outputs of layer k,
[forward, backward] concatenated, so its input size is twice the hidden
size below it. The cells may be of any cell layout.
"""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from .candidate import Candidate
from .layer_plan import LayerPlan
from .tensor_set import TensorSet

# At most 6 digits, like every other layer index.
_DIRECTION_CELL = re.compile(
    r"^(?P<stack>(?:.*\.)?)(?P<index>\d{1,6})\.directions\.(?P<direction>[01])\.cell\.$")


class BidirectionalCells:
    """Converts a stack found by ``take_bidirectional``: plans forward,
    backward of layer 0, then layer 1, ... (Candidate.layer_prefixes' order)."""

    def __init__(self, cell_layout):
        self.cell_layout = cell_layout
        self.name = cell_layout.name

    def convert_layer(self, tensors: TensorSet, candidate: Candidate, j: int) -> LayerPlan:
        prefix = candidate.layer_prefixes[j]
        plan = self.cell_layout.convert_cell(tensors, prefix)
        plan.source_prefix = prefix
        k = j // 2
        expected = candidate.sizes[0] if k == 0 else 2 * candidate.sizes[k]
        width = plan.weights["w_ih"].shape[1]
        if width != expected:
            below = "the input" if k == 0 else f"both directions of layer {k - 1} below it"
            raise tensors.error(f"layer {k} at {prefix!r} takes inputs of size {width}, "
                                f"but {below} give {expected}")
        return plan


def take_bidirectional(cells: List[Candidate]) -> Tuple[List[Candidate], List[Candidate]]:
    """(bidirectional stacks, the cells that are in none)."""
    groups: Dict[tuple, Dict[Tuple[int, int], Candidate]] = defaultdict(dict)
    rest = []
    for cell in cells:
        match = _DIRECTION_CELL.match(cell.prefix)
        if match:
            key = (match["stack"], cell.layout, cell.family)
            groups[key][int(match["index"]), int(match["direction"])] = cell
        else:
            rest.append(cell)
    stacks = [_stack(stack, by_place) for (stack, _, _), by_place in groups.items()]
    return stacks, rest


def _stack(prefix: str, by_place: Dict[Tuple[int, int], Candidate]) -> Candidate:
    layers = sorted({k for k, _ in by_place})
    members = [by_place[place] for place in sorted(by_place)]
    first = members[0]
    problem = _problem(by_place, layers)
    hidden = [by_place[k, 0].sizes[-1] if (k, 0) in by_place else None for k in layers]
    return Candidate(
        layout=first.layout, kind=f"{first.kind}, bidirectional (directions.0/1)",
        family=first.family, prefix=prefix, layer_prefixes=tuple(m.prefix for m in members),
        sizes=(first.sizes[0],) + tuple(hidden), converter=BidirectionalCells(first.converter),
        problem=problem, members=tuple(members), directions=2)


def _problem(by_place, layers) -> Optional[str]:
    if layers != list(range(len(layers))):
        return (f"bidirectional stack with layers missing: it has layers "
                f"{', '.join(map(str, layers[:8]))}")
    for k in layers:
        absent = [d for d in (0, 1) if (k, d) not in by_place]
        if absent:
            return (f"bidirectional stack incomplete: layer {k} lacks its "
                    f"{'forward' if absent[0] == 0 else 'backward'} direction "
                    f"(directions.{absent[0]}.cell)")
        forward, backward = by_place[k, 0], by_place[k, 1]
        if forward.sizes != backward.sizes:
            return (f"bidirectional stack whose layer {k} has directions of different sizes "
                    f"({forward.sizes_text()} forward, {backward.sizes_text()} backward)")
        if k > 0:
            below = by_place[k - 1, 0].sizes[-1]
            if below is not None and forward.sizes[0] is not None and forward.sizes[0] != 2 * below:
                return (f"bidirectional stack whose layer {k} takes inputs of size "
                        f"{forward.sizes[0]}, not the {2 * below} of both directions below it")
    return None
