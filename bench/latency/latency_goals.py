"""The speed goals of the latency table and its extras (fp32, one thread,
batch 1), judged on one run by harness/goals.py's rules."""
from __future__ import annotations

from typing import Dict, List, Optional

from harness.goals import Case, RatioGoal, median_us, simple_verdict

HEADER = "Goals (fp32, one thread, batch 1; medians):"


def _peer_ratio(peer: str):
    def value(case):
        p, ln = median_us(case, peer), median_us(case, "lnfast")
        return None if p is None or not ln else p / ln
    return value


def _peer_over_floor(peer: str):
    def value(case):
        p, fl = median_us(case, peer), median_us(case, "floor")
        return None if p is None or not fl else p / fl
    return value


def _floor_ratio(case):
    ln, fl = median_us(case, "lnfast"), median_us(case, "floor")
    return None if ln is None or not fl else ln / fl


def _floor_gap(case):
    ln, fl = median_us(case, "lnfast"), median_us(case, "floor")
    return None if ln is None or fl is None else ln - fl


def _without_call(call_ns: Optional[float]):
    """How far from the floor the step is once the Python call's cost (as
    measured at H = 8, an upper bound) is taken out."""
    def note(case):
        ln, fl = median_us(case, "lnfast"), median_us(case, "floor")
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


def extras_goals(extras: Dict) -> List[Dict]:
    out = []
    call = extras.get("call_overhead")
    if call:
        ns = call["lnfast_ns_per_step"]
        out.append(simple_verdict("Python call overhead <= 0.5 us (H = 8 LN-LSTM step, out=)",
                           ns <= 500.0, f"{ns:.0f} ns per step"))
    alloc = extras.get("allocations")
    if alloc:
        a = alloc["out_given"]
        out.append(simple_verdict(
            "step(x, out=) allocates nothing",
            a["allocated_blocks_delta"] == 0 and a["traced_peak_growth_bytes"] == 0,
            f"{a['allocated_blocks_delta']} blocks, {a['traced_peak_growth_bytes']} traced bytes "
            f"over {alloc['steps']} steps (net of an empty loop)"))
    rvs = extras.get("run_vs_step")
    if rvs:
        parts = [f"H={h}: run {r['run_us_per_step']:.1f} us vs step {r['step_us_per_step']:.1f} us"
                 for h, r in rvs.items()]
        out.append(simple_verdict("run(X) per step faster than step-by-step",
                           all(r["run_us_per_step"] < r["step_us_per_step"] for r in rvs.values()),
                           "; ".join(parts)))
    return out


def judge_all(cases: List[Case], extras: Dict) -> List[Dict]:
    call_ns = extras.get("call_overhead", {}).get("lnfast_ns_per_step")
    return [g.judge(cases) for g in latency_goals(call_ns)] + extras_goals(extras)
