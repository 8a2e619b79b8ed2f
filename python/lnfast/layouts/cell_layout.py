"""Layouts whose module holds one cell (one layer) under a prefix.

A cell is recognised by the names under its prefix: all required names
present and nothing else there. Being strict matters: a custom LN-LSTM cell
that reuses nn.LSTMCell's names but adds its own norms must not be taken for
a plain LSTM cell with the norms silently dropped. Such cells are reported
as near misses, and lnfast.Mapping loads them.
"""
from __future__ import annotations

from typing import FrozenSet, Iterable, Optional, Tuple, Union

from .candidate import Candidate
from .layer_plan import LayerPlan
from .tensor_set import TensorSet

NORM_PARAMS = ("weight", "bias")


class CellLayout:
    name: str = ""          # public layout name
    kind: str = ""          # what the keys look like, for messages
    family: Optional[str] = None
    anchor: str = ""        # a name every cell of this layout has
    params: FrozenSet[str] = frozenset()           # tensors directly in the cell
    required_params: FrozenSet[str] = frozenset()
    norms: FrozenSet[str] = frozenset()            # nn.LayerNorm children, all required

    def matches(self, names: Iterable[str]) -> bool:
        """Whether exactly these names (relative to the cell prefix) are a cell."""
        names = set(names)
        if self.foreign_names(names):
            return False
        norms_seen = {name.partition(".")[0] for name in names if name not in self.params}
        return self.required_params <= names and norms_seen == set(self.norms)

    def foreign_names(self, names: Iterable[str]) -> list:
        """The names this layout's cell never holds, sorted (for messages)."""
        foreign = []
        for name in names:
            module, _, param = name.partition(".")
            if name not in self.params and not (module in self.norms and param in NORM_PARAMS):
                foreign.append(name)
        return sorted(foreign)

    def family_at(self, tensors: TensorSet, prefix: str) -> Optional[str]:
        return self.family

    def sizes_at(self, tensors: TensorSet, prefix: str) -> Tuple[Optional[int], Optional[int]]:
        """(input_size, hidden_size) read leniently: shapes are checked when
        the cell is converted, where the error can name the tensor."""
        raise NotImplementedError

    def convert_cell(self, tensors: TensorSet, prefix: str) -> LayerPlan:
        raise NotImplementedError

    # Candidate.convert calls this with the layer index of a stack.
    def convert_layer(self, tensors: TensorSet, candidate: Candidate, k: int) -> LayerPlan:
        prefix = candidate.layer_prefixes[k]
        plan = self.convert_cell(tensors, prefix)
        plan.source_prefix = prefix
        if k > 0:
            _check_chain(tensors, candidate, k, plan)
        return plan

    def candidate_at(self, tensors: TensorSet, prefix: str) -> Candidate:
        sizes = self.sizes_at(tensors, prefix)
        return Candidate(layout=self.name, kind=self.kind, family=self.family_at(tensors, prefix),
                         prefix=prefix, layer_prefixes=(prefix,), sizes=sizes, converter=self)


def _check_chain(tensors: TensorSet, candidate: Candidate, k: int, plan: LayerPlan) -> None:
    below = candidate.sizes[k]
    width = plan.weights["w_ih"].shape[1]
    if below is not None and width != below:
        raise tensors.error(
            f"layer {k} at {candidate.layer_prefixes[k]!r} takes inputs of size {width}, "
            f"but layer {k - 1} below it outputs {below}")


def hidden_and_rows(tensors: TensorSet, key: str, axis: int, gates: int) -> Tuple[Union[int, str], Union[int, str]]:
    """(H, G*H) read from axis ``axis`` of weight matrix ``key``, for shape
    checks; "H" and "G*H" stand for any size when the matrix is unreadable,
    so that checking it then names the tensor. 0 is a size (and then a
    shape error), not "unknown"."""
    hidden = dim_of(tensors, key, axis)
    if hidden is None:
        return "H", f"{gates}*H"
    return hidden, gates * hidden


def dim_of(tensors: TensorSet, key: str, axis: int) -> Optional[int]:
    """One dimension of weight matrix ``key``; None unless it is a matrix, so
    that sizes are never guessed from a malformed tensor."""
    if key not in tensors or len(tensors.shape(key)) != 2:
        return None
    return tensors.shape(key)[axis]
