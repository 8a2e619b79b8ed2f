"""The throughput goals (weight formats, step_many, threads), judged on one run.

Same rules as harness/goals.py: a goal covers a set of cases and passes when its
worst case does. A miss gets a one-line reason where the numbers can tell
one: whether the kernel was compute-bound (it took longer than reading its
bytes) or the bytes themselves were the limit, and where they lived (L2 or
beyond), or that the second core was busy with other work.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional

from harness.goals import RatioGoal, median_us
from harness.machine_info import cache_bytes
from throughput.throughput_formats import BYTES_PER_WEIGHT, floor_name

Case = Dict
BIG = 1 << 30
CLOSE_TO_FLOOR = 1.2  # the goal: "within 1.2x of its own floor"
INT8A8_TO_FLOOR = 1.3  # int8 activations also quantize each input per step
PEAK_FRACTION = 0.75  # step_many's share of one core's fp32 FMA peak


def l2_bytes(machine: Dict) -> Optional[int]:
    return cache_bytes((machine.get("caches_per_cpu0") or {}).get("L2"))


def _where(nbytes: int, l2: Optional[int]) -> str:
    if l2 is None:
        return "L2 size unknown"
    return "L2-resident" if nbytes <= l2 else "beyond L2"


def _stream_text(case: Case, fmt: str, l2: Optional[int]) -> str:
    """'int8 reads 1040 KiB at 92 GB/s (L2-resident)', from its floor."""
    nbytes, floor = case["weight_bytes"][fmt], median_us(case, floor_name(fmt))
    rate = f" at {nbytes / floor / 1e3:.0f} GB/s" if floor else ""
    return f"{fmt} reads {nbytes >> 10} KiB{rate} ({_where(nbytes, l2)})"


def _compute_bound_text(case: Case, fmt: str, l2: Optional[int]) -> Optional[str]:
    over = case["ratios"].get(f"{fmt}/floor")
    if over is None or over <= CLOSE_TO_FLOOR:
        return None
    work = {"int8": "dequantizing int8 to fp32",
            "int8a8": "quantizing the inputs and the integer dot products"}.get(fmt, f"widening {fmt} to fp32")
    return (f"compute-bound: {work} takes {over:.2f}x the time of just "
            f"reading its bytes; {_stream_text(case, fmt, l2)}")


def _speedup_note(fmt: str, bound: float, l2: Optional[int]) -> Callable[[Case], Optional[str]]:
    def note(case):
        parts = [_compute_bound_text(case, fmt, l2)]
        f32, low = median_us(case, floor_name("fp32")), median_us(case, floor_name(fmt))
        if parts[0]:  # where fp32 reads from says how much fewer bytes could save
            parts.append(_stream_text(case, "fp32", l2))
        elif f32 and low and f32 / low < bound:
            shrink = BYTES_PER_WEIGHT["fp32"] / BYTES_PER_WEIGHT[fmt]
            parts.append(f"even the floors differ only {f32 / low:.2f}x for {shrink:.0f}x fewer "
                         f"bytes: {_stream_text(case, 'fp32', l2)}, {_stream_text(case, fmt, l2)}")
        return "; ".join(p for p in parts if p) or None
    return note


def _floor_note(fmt: str, l2: Optional[int]) -> Callable[[Case], Optional[str]]:
    return lambda case: _compute_bound_text(case, fmt, l2)


def _peer_note(peer: str, fmt: str) -> Callable[[Case], Optional[str]]:
    def note(case):
        p, f32 = median_us(case, peer), median_us(case, floor_name("fp32"))
        low = median_us(case, floor_name(fmt))
        over = case["ratios"].get(f"{fmt}/floor")
        if not (p and f32 and low and over):
            return None
        return (f"{peer} runs at {p / f32:.2f}x the fp32 floor and lnfast-{fmt} at {over:.2f}x "
                f"its own; the floors differ {f32 / low:.2f}x")
    return note


def _ratio(key: str) -> Callable[[Case], Optional[float]]:
    return lambda case: case["ratios"].get(key)


def _over_floor(num: str, fmt: str) -> Callable[[Case], Optional[float]]:
    def value(case):
        n, fl = median_us(case, num), median_us(case, floor_name(fmt))
        return None if n is None or not fl else n / fl
    return value


def format_goals_list(l2: Optional[int]) -> List[RatioGoal]:
    H = lambda lo, hi: (lambda c: lo <= c["hidden_size"] <= hi)  # noqa: E731
    goals = []
    for fmt, bound in (("bf16", 1.8), ("int8", 3.0)):
        goals.append(RatioGoal(f"{fmt} >= {bound:g}x faster than fp32 at H >= 256", H(256, BIG),
                               _ratio(f"fp32/{fmt}"), bound, True,
                               ceiling=_over_floor("fp32", fmt), note=_speedup_note(fmt, bound, l2)))
    for fmt in ("bf16", "int8"):
        goals.append(RatioGoal(f"{fmt} / its own floor <= {CLOSE_TO_FLOOR:g} at H >= 256", H(256, BIG),
                               _ratio(f"{fmt}/floor"), CLOSE_TO_FLOOR, False, digits=3,
                               note=_floor_note(fmt, l2)))
    # int8 by int8 activations: integer dot products read a quarter of
    # fp32's bytes with no widening, so they must beat bf16 and near their floor.
    goals.append(RatioGoal("int8a8 faster than bf16 at H >= 256", H(256, BIG), _ratio("bf16/int8a8"),
                           1.0, True, ceiling=_over_floor("bf16", "int8a8"),
                           note=_floor_note("int8a8", l2)))
    goals.append(RatioGoal(f"int8a8 / its own floor <= {INT8A8_TO_FLOOR:g} at H >= 512", H(512, BIG),
                           _ratio("int8a8/floor"), INT8A8_TO_FLOOR, False, digits=3,
                           note=_floor_note("int8a8", l2)))
    for peer, short, bound in (("onnxruntime", "onnxruntime (fp32)", 2.4), ("torch", "torch eager", 5.0)):
        goals.append(RatioGoal(f"{short} / lnfast-bf16 >= {bound:g}x at H >= 512", H(512, BIG),
                               _ratio(f"{peer}/bf16"), bound, True,
                               ceiling=_over_floor(peer, "bf16"), note=_peer_note(peer, "bf16")))
    return goals


def _step_many_note(bound: float, l2: Optional[int]) -> Callable[[Case], Optional[str]]:
    def note(case):
        gflops, ratio = case["step_many_gflops"], case["ratio"]
        regime = _where(case["weight_bytes"], l2)
        return (f"step_many computes {gflops:.0f} GFLOP/s (2 flops per weight per stream), "
                f"{bound:g}x would need {gflops * bound / ratio:.0f}; a single step is "
                f"{case['single_over_floor']:.2f}x its floor, weights {case['weight_bytes'] >> 10} "
                f"KiB {regime}")
    return note


def _peak_note(case: Case) -> Optional[str]:
    return (f"{case['step_many_gflops']:.0f} GFLOP/s of a measured {case['peak_gops']:.0f}; "
            f"weights {case['weight_bytes'] >> 10} KiB")


def _threads_note(case: Case) -> Optional[str]:
    one, two = median_us(case, "1_thread"), median_us(case, "2_threads")
    load, cpus = case.get("load_average_after"), os.cpu_count() or 1
    parts = []
    cores = case.get("cores_used", {})
    busy = load is not None and load > cpus - 1
    if busy:
        parts.append(f"load average {load:.1f} on {cpus} CPUs: the second core was not free")
    if cores:
        parts.append(f"the bursts got {cores.get('1_thread', 0):.2f} cores with one thread, "
                     f"{cores.get('2_threads', 0):.2f} with two")
    if one and two:
        nbytes = case["weight_bytes"]
        parts.append(f"weights stream at {nbytes / one / 1e3:.0f} GB/s on one thread, "
                     f"{nbytes / two / 1e3:.0f} GB/s on two")
    return "; ".join(parts) or None


def judge_throughput(results: Dict, machine: Dict) -> List[Dict]:
    l2 = l2_bytes(machine)
    verdicts = [g.judge(results.get("formats", [])) for g in format_goals_list(l2)]
    many = RatioGoal("step_many B=16 >= 6x the steps/s of 16 single steps",
                     lambda c: c["batch"] == 16 and c.get("mode", "fp32") == "fp32",
                     lambda c: c["ratio"], 6.0, True, note=_step_many_note(6.0, l2))
    verdicts.append(many.judge(results.get("step_many", [])))
    peak = RatioGoal(f"step_many fp32 B >= 16, H >= 256 >= {PEAK_FRACTION:.0%} of the FMA peak",
                     lambda c: c.get("mode") == "fp32" and c["batch"] >= 16 and c["hidden_size"] >= 256,
                     lambda c: c.get("fraction_of_peak"), PEAK_FRACTION, True, unit="",
                     note=_peak_note)
    verdicts.append(peak.judge(results.get("step_many", [])))
    for H, bound in ((256, 1.5), (1024, 1.6)):
        threads = RatioGoal(f"two threads >= {bound:g}x one thread at H = {H}",
                            lambda c, H=H: c["hidden_size"] == H, lambda c: c["ratio"], bound, True,
                            note=_threads_note)
        verdicts.append(threads.judge(results.get("threads", [])))
    return verdicts
