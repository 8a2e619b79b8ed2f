"""What ``lnfast.inspect`` returns: a checkpoint's tensors and the networks found."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from .candidate import CANDIDATE_HEADER, Candidate, table
from .tensor_set import format_shape


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: Tuple[int, ...]
    dtype: str          # as stored in the file, e.g. "float16"


@dataclass
class CheckpointSummary:
    """A checkpoint as lnfast sees it. ``str()`` gives a readable report.

    candidates: the networks recognised, each loadable with
        ``lnfast.load(path, prefix=candidate.prefix)``; statuses[i] is "ok"
        or why candidates[i] cannot be loaded.
    skipped: tensors that are not floating point (name -> dtype).
    placeholders: Python globals the file names, kept inert (never imported).
    near_misses: prefixes that look recurrent but fit no known layout.
    """

    path: str
    format: str
    tensors: List[TensorInfo]
    candidates: List[Candidate]
    statuses: List[str]
    skipped: Dict[str, str] = field(default_factory=dict)
    placeholders: List[str] = field(default_factory=list)
    near_misses: List[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.format}, {len(self.tensors)} floating-point tensors", ""]
        if self.candidates:
            lines.append("recurrent networks found (select one with prefix= when there are several):")
            rows = [CANDIDATE_HEADER + ["status"]]
            rows += [c.row() + [status] for c, status in zip(self.candidates, self.statuses)]
            lines.append(table(rows))
        else:
            lines.append("no recurrent network in a known layout; load with layout=lnfast.Mapping(...)")
        if self.near_misses:
            lines += ["", "close, but not a known layout:"] + [f"  {m}" for m in self.near_misses]
        lines += ["", "tensors:"]
        rows = [["name", "shape", "dtype"]]
        rows += [[t.name, format_shape(t.shape), t.dtype] for t in self.tensors]
        lines.append(table(rows))
        if self.skipped:
            lines += ["", "not floating point (not loaded):"]
            lines.append(table([[name, dtype] for name, dtype in self.skipped.items()]))
        if self.placeholders:
            lines += ["", "Python objects named by the file (kept inert, never imported): "
                      + ", ".join(self.placeholders)]
        return "\n".join(lines)
