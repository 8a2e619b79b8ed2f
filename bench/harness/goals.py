"""How a speed goal is judged on one run, for the latency and the
throughput sections alike.

Each goal covers a set of cases; it passes when its worst case does, and the
report names that case so a miss can be traced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

Case = Dict  # one entry of results["cases"]


def median_us(case: Case, runtime: str) -> Optional[float]:
    """The median latency of one runtime in one case, None if not measured."""
    stats = case["latency"].get(runtime)
    return None if stats is None else stats["median_us"]


def case_label(case: Case) -> str:
    return f"{case['cell']} I={case['input_size']} H={case['hidden_size']}"


@dataclass
class RatioGoal:
    """value(case) compared with a bound, over the cases ``applies`` selects."""

    title: str
    applies: Callable[[Case], bool]
    value: Callable[[Case], Optional[float]]
    bound: float
    at_least: bool  # True: value >= bound passes; False: value <= bound passes
    unit: str = "x"
    digits: int = 2  # enough to tell a value from the bound it is judged by
    # For peer ratios: the ratio lnfast would get running exactly at the
    # floor. Below the bound, the goal cannot be met on this machine by any
    # step that reads the weights once.
    ceiling: Optional[Callable[[Case], Optional[float]]] = None
    # Any other context worth printing next to a miss.
    note: Optional[Callable[[Case], Optional[str]]] = None

    def judge(self, cases: List[Case]) -> Dict:
        measured = [(c, self.value(c)) for c in cases if self.applies(c)]
        measured = [(c, v) for c, v in measured if v is not None]
        if not measured:
            return {"goal": self.title, "status": "N/A", "detail": "no case measured"}
        ok = (lambda v: v >= self.bound) if self.at_least else (lambda v: v <= self.bound)
        worst_case, worst = (min if self.at_least else max)(measured, key=lambda cv: cv[1])
        misses, unattainable = [], 0
        for c, v in measured:
            if ok(v):
                continue
            text = f"{case_label(c)}: {v:.{self.digits}f}{self.unit}"
            top = self.ceiling(c) if self.ceiling else None
            if top is not None:
                text += f" (at the floor it would be {top:.{self.digits}f}{self.unit})"
                unattainable += top < self.bound
            extra = self.note(c) if self.note else None
            if extra:
                text += f" ({extra})"
            misses.append(text)
        detail = (f"worst {worst:.{self.digits}f}{self.unit} ({case_label(worst_case)}) "
                  f"over {len(measured)} cases")
        if unattainable:
            detail += f"; {unattainable} of {len(misses)} misses unreachable even at the floor"
        return {"goal": self.title, "status": "PASS" if not misses else "MISS",
                "worst": worst, "worst_case": case_label(worst_case), "cases": len(measured),
                "misses": misses, "unreachable_at_floor": unattainable, "detail": detail}


def simple_verdict(title: str, passed: bool, detail: str) -> Dict:
    """A goal judged by one yes/no outside any table of cases."""
    return {"goal": title, "status": "PASS" if passed else "MISS", "detail": detail, "misses": []}


def format_goals(verdicts: List[Dict], header: str) -> str:
    lines = [header]
    for v in verdicts:
        lines.append(f"  {v['status']:<4}  {v['goal']:<58} {v['detail']}")
        for miss in v.get("misses", []):
            lines.append(f"          miss: {miss}")
    return "\n".join(lines)
