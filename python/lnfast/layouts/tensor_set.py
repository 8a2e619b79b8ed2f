"""The named arrays of one checkpoint, with errors that say which tensor is wrong."""
from __future__ import annotations

import bisect
import difflib
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import LayoutError

Shape = Tuple[int, ...]


def format_shape(shape: Sequence) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_fits(shape: Sequence[int], expected: Sequence) -> bool:
    """Whether ``shape`` is ``expected``, where a str entry (e.g. "input_size")
    stands for any size."""
    return len(shape) == len(expected) and all(
        isinstance(want, str) or got == want for got, want in zip(shape, expected))


class TensorSet:
    """Flattened dotted names -> arrays, plus the name of where they came from
    (a file path, or a description of a live module) for error messages."""

    def __init__(self, origin: str, tensors: Dict[str, np.ndarray]):
        self.origin = origin
        self.tensors = tensors
        # Sorted once, so each prefix query is a binary search plus its own
        # results: a file with many module prefixes stays n log n, not n^2.
        self._sorted = sorted(tensors)

    def __contains__(self, key: str) -> bool:
        return key in self.tensors

    def names(self) -> List[str]:
        return list(self.tensors)

    def shape(self, key: str) -> Shape:
        return tuple(self.tensors[key].shape)

    def names_under(self, prefix: str) -> List[str]:
        """Names relative to ``prefix`` (a module prefix ending in '.' or '')."""
        # Indexing, not islice: islice steps through the first `start`
        # names one by one, which made every query cost O(n).
        index = bisect.bisect_left(self._sorted, prefix)
        out = []
        while index < len(self._sorted) and self._sorted[index].startswith(prefix):
            out.append(self._sorted[index][len(prefix):])
            index += 1
        return out

    def error(self, problem: str) -> LayoutError:
        return LayoutError(self.origin, problem)

    def get(self, key: str, expected: Sequence, role: str = "") -> np.ndarray:
        """The tensor ``key``, which must have shape ``expected`` (see shape_fits)."""
        if key not in self.tensors:
            raise self.missing(key, expected, role)
        array = self.tensors[key]
        if not shape_fits(array.shape, expected):
            what = f" ({role})" if role else ""
            raise self.error(
                f"tensor {key!r}{what} has shape {format_shape(array.shape)}, "
                f"expected {format_shape(expected)}")
        return array

    def get_optional(self, key: str, expected: Sequence, role: str = "") -> Optional[np.ndarray]:
        return self.get(key, expected, role) if key in self.tensors else None

    def missing(self, key: str, expected: Optional[Sequence] = None, role: str = "") -> LayoutError:
        what = f" ({role})" if role else ""
        shape = f" of shape {format_shape(expected)}" if expected is not None else ""
        close = difflib.get_close_matches(key, self.tensors, n=3, cutoff=0.6)
        hint = f"; similar names in the file: {', '.join(map(repr, close))}" if close else ""
        return self.error(f"tensor {key!r}{what}{shape} is not in the checkpoint{hint}")

    def listing(self, names: Iterable[str], limit: int = 20) -> str:
        """An indented name/shape list of at most ``limit`` tensors."""
        names = list(names)
        width = min(max((len(n) for n in names[:limit]), default=0), 60)
        lines = [f"  {name:<{width}}  {format_shape(self.shape(name))}" for name in names[:limit]]
        if len(names) > limit:
            lines.append(f"  ... and {len(names) - limit} more")
        return "\n".join(lines)
