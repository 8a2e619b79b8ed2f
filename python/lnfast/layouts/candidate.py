"""A network found in a checkpoint: which layout, where, and how big."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Candidate:
    """One recurrent network a checkpoint holds.

    layout:  the layout's name (what ``layout=`` selects), e.g. "torch_nn"
    kind:    what the keys look like, e.g. "nn.LSTM" or "haste LayerNormLSTM"
    family:  "LSTM", "GRU" or "RNN"; None when the shapes fit no family
    prefix:  the module prefix its tensors sit under (what ``prefix=`` selects)
    layer_prefixes: where each layer's tensors sit, bottom to top; for a
             bidirectional stack two per layer, forward then backward
    sizes:   (input_size, hidden_1, ..., hidden_n); None where unreadable
    problem: why it cannot be loaded (proj_size, layers missing), or None
    members: the single cells of a stack, each selectable by its own prefix
    directions: 2 for a bidirectional stack (loaded as lnfast.Bidirectional)
    """

    layout: str
    kind: str
    family: Optional[str]
    prefix: str
    layer_prefixes: Tuple[str, ...]
    sizes: Tuple[Optional[int], ...]
    converter: object = field(repr=False, compare=False)
    problem: Optional[str] = None
    members: Tuple["Candidate", ...] = field(default=(), repr=False, compare=False)
    directions: int = 1

    @property
    def num_layers(self) -> int:
        return len(self.layer_prefixes) // self.directions

    @property
    def shown_prefix(self) -> str:
        return self.prefix or "(top level)"

    @property
    def where(self) -> str:
        return f"at prefix {self.prefix!r}" if self.prefix else "at the top level"

    @property
    def short_problem(self) -> Optional[str]:
        """The problem's headline, before its explanation."""
        return self.problem.split(":")[0] if self.problem else None

    def sizes_text(self) -> str:
        return " -> ".join("?" if n is None else str(n) for n in self.sizes)

    def row(self) -> List[str]:
        """Columns of the candidate tables: layout, kind, family, layers, sizes, prefix."""
        return [self.layout, self.kind, self.family or "?", str(self.num_layers),
                self.sizes_text(), self.shown_prefix]

    def convert(self, tensors) -> list:
        """LayerPlans bottom to top (forward, backward of each layer when
        bidirectional); raises LayoutError on a shape that does not fit."""
        if self.problem:
            raise tensors.error(f"the {self.kind} {self.where} cannot be loaded: {self.problem}")
        return [self.converter.convert_layer(tensors, self, k)
                for k in range(len(self.layer_prefixes))]


CANDIDATE_HEADER = ["layout", "keys look like", "family", "layers", "sizes (input -> hidden)", "prefix"]


def table(rows: List[List[str]], indent: str = "  ") -> str:
    """Rows of text as left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in rows)


def candidate_table(candidates: List[Candidate], indent: str = "  ") -> str:
    rows = [CANDIDATE_HEADER] + [c.row() for c in candidates]
    lines = table(rows, indent).split("\n")
    for i, candidate in enumerate(candidates, start=1):
        if candidate.problem:
            lines[i] += f"   [cannot load: {candidate.short_problem}]"
    return "\n".join(lines)
