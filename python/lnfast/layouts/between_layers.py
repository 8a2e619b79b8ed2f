"""Norms between the layers of a stack, which lnfast does not run.

NeMo's ``rnn(norm="batch")`` (BNRNNSum) puts a BatchNorm1d before the
recurrent network of each list entry: ``layers.{k}.bn.module.*`` (weight,
bias, running_mean, running_var, num_batches_tracked) beside
``layers.{k}.rnn.*``. Its recurrent layers look like separate networks,
and loading one of them would silently drop the norm in front of it, so a
stack of networks with such a norm in any of its entries is refused,
naming the norm's keys, unless the caller names one network with prefix=.
lnfast runs the norms inside a cell only.
"""
from __future__ import annotations

import re
from typing import List, Optional

from .candidate import Candidate
from .tensor_set import TensorSet

# A module with running statistics is a BatchNorm (or InstanceNorm with
# track_running_stats): what normalizes between layers.
_RUNNING_STATS = ("running_mean", "running_var")
# A list index inside a dotted prefix; at most 6 digits like every layer index.
_INDEX = re.compile(r"(?:^|\.)(\d{1,6})\.")

def _entries(prefix: str) -> set:
    """Every (stack, k) list entry along ``prefix`` (nested lists give several)."""
    return {(prefix[: match.start(1)], int(match.group(1)))
            for match in _INDEX.finditer(prefix)}


def norm_between_layers(tensors: TensorSet, candidates: List[Candidate]) -> Optional[str]:
    """Why these networks cannot load if a running-statistics norm sits in a
    list entry that also holds one of them, or None."""
    entries = set()
    for candidate in candidates:
        entries |= _entries(candidate.prefix)
    if not entries:
        return None
    norms = sorted({name[: -len(stat)] for name in tensors.names() for stat in _RUNNING_STATS
                    if name.endswith("." + stat)})
    inside = [norm for norm in norms if _entries(norm) & entries]
    if not inside:
        return None
    shown = ", ".join(repr(norm + name) for norm, name in
                      ((n, k) for n in inside[:3] for k in tensors.names_under(n)))
    networks = ", ".join(c.shown_prefix for c in candidates)
    return (f"a norm between layers sits outside what lnfast runs: the recurrent networks at "
            f"{networks} have a norm with running statistics (a BatchNorm, as NeMo's "
            f"norm='batch' writes) beside them, keys {shown}"
            f"{' and more' if len(inside) > 3 else ''}; lnfast runs only the norms inside a "
            f"cell, so loading the recurrent layers alone would skip it (to load one anyway and "
            f"apply the norm yourself, name it with prefix=)")
