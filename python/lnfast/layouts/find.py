"""Finding every recurrent network in a checkpoint, under any module prefix.

Cells of one layout at prefixes ``P0.``, ``P1.``, ... (or ``P0.cell.``, as
the fastrnns and icefall stacks nest them) whose sizes chain - each layer's
input size is the hidden size below it - are offered as one stack at ``P``.
"""
from __future__ import annotations

import dataclasses
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from . import dreamer_gru, fastrnns, haste, icefall, scaled_weights, torch_nn
from .bidirectional_cells import take_bidirectional
from .candidate import Candidate
from .cell_layout import CellLayout
from .tensor_set import TensorSet

CELL_LAYOUTS: Tuple[CellLayout, ...] = (
    torch_nn.CELL, fastrnns.CELL, haste.LSTM_CELL, haste.GRU_CELL,
    icefall.LSTM_CELL, icefall.GRU_CELL)

LAYOUT_NAMES = ("torch_nn", "fastrnns", "haste_lstm", "haste_gru", "icefall_lstm", "icefall_gru",
                scaled_weights.LAYOUT) + tuple(source.name for source in dreamer_gru.SOURCES)
# Names a user may also give to layout=: a source's name selects all its layouts.
LAYOUT_ALIASES = {
    "torch": ("torch_nn",), "nemo": ("fastrnns",),
    "haste": ("haste_lstm", "haste_gru"),
    "dreamer": tuple(source.name for source in dreamer_gru.SOURCES), "icefall": ("icefall_lstm", "icefall_gru", scaled_weights.LAYOUT),
}

# A cell prefix that is the k-th entry of a list: "P{k}." or "P{k}.cell.".
# At most 6 digits, like torch_nn's layer indices.
_LISTED_CELL = re.compile(r"^(?P<stack>(?:.*\.)?)(?P<index>\d{1,6})\.(?P<inner>(?:cell\.)?)$")


@dataclass
class Findings:
    candidates: List[Candidate] = field(default_factory=list)
    near_misses: List[str] = field(default_factory=list)


def find_networks(tensors: TensorSet) -> Findings:
    findings = Findings()
    stacks, near_misses = torch_nn.find_stacks(tensors)
    findings.candidates += stacks
    findings.near_misses += near_misses
    cells, near_misses, missed = _find_cells(tensors)
    bidirectional, cells = take_bidirectional(cells)
    findings.candidates += bidirectional
    findings.candidates += _stack_cells(cells, missed)
    findings.near_misses += near_misses
    dreamer_cells, near_misses = dreamer_gru.find_cells(tensors)
    findings.candidates += dreamer_cells
    findings.near_misses += near_misses
    findings.candidates.sort(key=lambda c: (c.prefix, c.layout))
    return findings


def _find_cells(tensors: TensorSet) -> Tuple[List[Candidate], List[str], List[tuple]]:
    """(cells, near-miss messages, (prefix, message) of each near miss)."""
    anchors = {layout.anchor for layout in CELL_LAYOUTS}
    prefixes = set()
    for name in tensors.names():
        head, _, leaf = name.rpartition(".")
        if leaf in anchors:
            prefixes.add((head + "." if head else "", leaf))
    cells, near_misses, missed = [], [], []
    for prefix, anchor in sorted(prefixes):
        names = tensors.names_under(prefix)
        layouts = [lay for lay in CELL_LAYOUTS if lay.anchor == anchor and lay.matches(names)]
        cells += [layout.candidate_at(tensors, prefix) for layout in layouts]
        if not layouts:
            near_misses.append(_near_miss(prefix, anchor, names))
            missed.append((prefix, near_misses[-1]))
    return cells, near_misses, missed


def _near_miss(prefix: str, anchor: str, names: List[str]) -> str:
    shown = ", ".join(repr(n) for n in sorted(names)[:8])
    more = f" (+{len(names) - 8} more)" if len(names) > 8 else ""
    # Name the keys no layout explains: those of the closest layout, the
    # one with the fewest names it never holds.
    closest = min((lay for lay in CELL_LAYOUTS if lay.anchor == anchor),
                  key=lambda lay: len(lay.foreign_names(names)))
    foreign = closest.foreign_names(names)
    unsupported = (f"; the closest, {closest.kind or closest.name}, holds no "
                   f"{', '.join(repr(n) for n in foreign[:5])}"
                   f"{f' (+{len(foreign) - 5} more)' if len(foreign) > 5 else ''}"
                   if foreign else "")
    return (f"{prefix or '(top level)'} holds {anchor!r} but its names {shown}{more} "
            f"fit no known layout{unsupported}")


def _stack_cells(cells: List[Candidate], missed: List[tuple]) -> List[Candidate]:
    groups: Dict[tuple, Dict[int, Candidate]] = defaultdict(dict)
    alone = []
    for cell in cells:
        match = _LISTED_CELL.match(cell.prefix)
        if match:
            key = (match["stack"], match["inner"], cell.layout, cell.family)
            groups[key][int(match["index"])] = cell
        else:
            alone.append(cell)
    # A recurrent-looking entry of the same list that fits no layout is a
    # layer of the stack lnfast cannot read: loading the others alone would
    # silently skip it.
    missed_in: Dict[tuple, List[str]] = defaultdict(list)
    for prefix, message in missed:
        match = _LISTED_CELL.match(prefix)
        if match:
            missed_in[match["stack"], match["inner"]].append(message)
    result = alone
    for (stack_prefix, inner, _, _), by_index in groups.items():
        members = [by_index[k] for k in sorted(by_index)]
        misses = missed_in.get((stack_prefix, inner))
        if misses:
            problem = (f"another layer of its list cannot be read, so it cannot load without "
                       f"it: {misses[0]}")
            result += [dataclasses.replace(m, problem=problem) for m in members]
        elif len(members) > 1 and sorted(by_index) == list(range(len(members))) and _chains(members):
            result.append(_stack_of(stack_prefix, members))
        else:
            result += members
    return result


def _chains(members: List[Candidate]) -> bool:
    return all(upper.sizes[0] is not None and upper.sizes[0] == lower.sizes[-1]
               for lower, upper in zip(members, members[1:]))


def _stack_of(prefix: str, members: List[Candidate]) -> Candidate:
    first = members[0]
    return Candidate(
        layout=first.layout, kind=first.kind, family=first.family, prefix=prefix,
        layer_prefixes=tuple(m.prefix for m in members),
        sizes=(first.sizes[0],) + tuple(m.sizes[-1] for m in members),
        converter=first.converter, members=tuple(members))
