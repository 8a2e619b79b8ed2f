"""Gate orders: the row blocks of a file's weights, and lnfast's canonical order."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .. import _core

GATE_COUNT = dict(_core.GATE_COUNTS)
CANONICAL_ORDER = {"LSTM": "ifgo", "GRU": "rzn", "RNN": "h"}

# Other names sources give the same gate: TensorFlow's "j" and icefall's "cx"
# are the LSTM candidate g; the paper's "u" is the GRU update gate z.
_SYNONYMS = {"LSTM": {"j": "g", "c": "g"}, "GRU": {"u": "z"}, "RNN": {}}


def normalize_family(family: str) -> str:
    name = str(family).upper()
    if name not in GATE_COUNT:
        raise ValueError(f"family must be 'LSTM', 'GRU' or 'RNN', got {family!r}")
    return name


def gate_letter(letter: str, family: str) -> str:
    """lnfast's letter for a gate a source may spell otherwise."""
    letter = str(letter).lower()
    return _SYNONYMS[family].get(letter, letter)


def normalize_order(order: Optional[str], family: str) -> str:
    """``order`` spelled with lnfast's gate letters; the canonical order if None."""
    canonical = CANONICAL_ORDER[family]
    if order is None:
        return canonical
    spelled = "".join(gate_letter(letter, family) for letter in str(order))
    if sorted(spelled) != sorted(canonical):
        raise ValueError(
            f"gate_order {order!r} is not an order of the {family} gates "
            f"{', '.join(canonical)} (lnfast's canonical order is {canonical!r})")
    return spelled


def to_canonical(rows: Optional[np.ndarray], file_order: str, family: str) -> Optional[np.ndarray]:
    """Rows (axis 0) stacked as equal gate blocks in ``file_order``, re-stacked
    in lnfast's order. Norm gains over all gates move with their rows: the
    statistics of a norm do not depend on the order of its units."""
    if rows is None or file_order == CANONICAL_ORDER[family]:
        return rows
    blocks = dict(zip(file_order, np.split(rows, len(file_order), axis=0)))
    return np.concatenate([blocks[gate] for gate in CANONICAL_ORDER[family]], axis=0)


def family_of_ratio(rows: int, hidden: int) -> Optional[str]:
    """Which family has weight_hh of shape (rows, hidden): G*H rows for G gates."""
    if hidden <= 0 or rows % hidden:
        return None
    return {4: "LSTM", 3: "GRU", 1: "RNN"}.get(rows // hidden)
