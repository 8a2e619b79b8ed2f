"""The issue's speed goals (fp32, one thread, batch 1), judged on one run.

Each goal covers a set of cases; it passes when its worst case does, and the
report names that case so a miss can be traced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

Case = Dict  # one entry of results["cases"]


def _median(case: Case, runtime: str) -> Optional[float]:
    stats = case["latency"].get(runtime)
    return None if stats is None else stats["median_us"]


def _label(case: Case) -> str:
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
            text = f"{_label(c)}: {v:.{self.digits}f}{self.unit}"
            top = self.ceiling(c) if self.ceiling else None
            if top is not None:
                text += f" (at the floor it would be {top:.{self.digits}f}{self.unit})"
                unattainable += top < self.bound
            extra = self.note(c) if self.note else None
            if extra:
                text += f" ({extra})"
            misses.append(text)
        detail = (f"worst {worst:.{self.digits}f}{self.unit} ({_label(worst_case)}) "
                  f"over {len(measured)} cases")
        if unattainable:
            detail += f"; {unattainable} of {len(misses)} misses unreachable even at the floor"
        return {"goal": self.title, "status": "PASS" if not misses else "MISS",
                "worst": worst, "worst_case": _label(worst_case), "cases": len(measured),
                "misses": misses, "unreachable_at_floor": unattainable, "detail": detail}


def _peer_ratio(peer: str):
    def value(case):
        p, ln = _median(case, peer), _median(case, "lnfast")
        return None if p is None or not ln else p / ln
    return value


def _peer_over_floor(peer: str):
    def value(case):
        p, fl = _median(case, peer), _median(case, "floor")
        return None if p is None or not fl else p / fl
    return value


def _floor_ratio(case):
    ln, fl = _median(case, "lnfast"), _median(case, "floor")
    return None if ln is None or not fl else ln / fl


def _floor_gap(case):
    ln, fl = _median(case, "lnfast"), _median(case, "floor")
    return None if ln is None or fl is None else ln - fl


def _without_call(call_ns: Optional[float]):
    """How far from the floor the step is once the Python call's cost (as
    measured at H = 8, an upper bound) is taken out."""
    def note(case):
        ln, fl = _median(case, "lnfast"), _median(case, "floor")
        if call_ns is None or ln is None or not fl:
            return None
        return f"without the {call_ns:.0f} ns Python call: {(ln - call_ns / 1e3) / fl:.3f}x"
    return note


def latency_goals(call_ns: Optional[float] = None) -> List[RatioGoal]:
    H = lambda lo, hi: (lambda c: lo <= c["hidden_size"] <= hi)  # noqa: E731
    big = 1 << 30
    return [
        RatioGoal("lnfast / floor <= 1.2 at H >= 128", H(128, big), _floor_ratio, 1.2, False,
                  digits=3, note=_without_call(call_ns)),
        RatioGoal("lnfast <= floor + 1 us at H < 128", H(0, 127), _floor_gap, 1.0, False, " us"),
        RatioGoal("torch eager / lnfast >= 20x at H <= 128", H(0, 128), _peer_ratio("torch"), 20.0, True,
                  ceiling=_peer_over_floor("torch")),
        RatioGoal("torch eager / lnfast >= 4x at H = 256", H(256, 256), _peer_ratio("torch"), 4.0, True,
                  ceiling=_peer_over_floor("torch")),
        RatioGoal("torch eager / lnfast >= 2.5x at H >= 512", H(512, big), _peer_ratio("torch"), 2.5, True,
                  ceiling=_peer_over_floor("torch")),
        RatioGoal("onnxruntime / lnfast >= 5x at H <= 128", H(0, 128), _peer_ratio("onnxruntime"), 5.0, True,
                  ceiling=_peer_over_floor("onnxruntime")),
        RatioGoal("onnxruntime / lnfast >= 1.6x at H = 256", H(256, 256), _peer_ratio("onnxruntime"), 1.6, True,
                  ceiling=_peer_over_floor("onnxruntime")),
        RatioGoal("onnxruntime / lnfast >= 1.2x at H >= 512", H(512, big), _peer_ratio("onnxruntime"), 1.2, True,
                  ceiling=_peer_over_floor("onnxruntime")),
    ]


def _simple(title: str, passed: bool, detail: str) -> Dict:
    return {"goal": title, "status": "PASS" if passed else "MISS", "detail": detail, "misses": []}


def extras_goals(extras: Dict) -> List[Dict]:
    out = []
    call = extras.get("call_overhead")
    if call:
        ns = call["lnfast_ns_per_step"]
        out.append(_simple("Python call overhead <= 0.5 us (H = 8 LN-LSTM step, out=)",
                           ns <= 500.0, f"{ns:.0f} ns per step"))
    alloc = extras.get("allocations")
    if alloc:
        a = alloc["out_given"]
        out.append(_simple(
            "step(x, out=) allocates nothing",
            a["allocated_blocks_delta"] == 0 and a["traced_peak_growth_bytes"] == 0,
            f"{a['allocated_blocks_delta']} blocks, {a['traced_peak_growth_bytes']} traced bytes "
            f"over {alloc['steps']} steps (net of an empty loop)"))
    rvs = extras.get("run_vs_step")
    if rvs:
        parts = [f"H={h}: run {r['run_us_per_step']:.1f} us vs step {r['step_us_per_step']:.1f} us"
                 for h, r in rvs.items()]
        out.append(_simple("run(X) per step faster than step-by-step",
                           all(r["run_us_per_step"] < r["step_us_per_step"] for r in rvs.values()),
                           "; ".join(parts)))
    return out


def judge_all(cases: List[Case], extras: Dict) -> List[Dict]:
    call_ns = extras.get("call_overhead", {}).get("lnfast_ns_per_step")
    return [g.judge(cases) for g in latency_goals(call_ns)] + extras_goals(extras)


def format_goals(verdicts: List[Dict], header: str = "Goals (fp32, one thread, batch 1; medians):") -> str:
    lines = [header]
    for v in verdicts:
        lines.append(f"  {v['status']:<4}  {v['goal']:<58} {v['detail']}")
        for miss in v.get("misses", []):
            lines.append(f"          miss: {miss}")
    return "\n".join(lines)
