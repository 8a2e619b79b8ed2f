"""Per-step latency of several runtimes measured side by side.

The machine is shared and its load drifts, so runtimes are never timed one
after the other: each round gives every runtime a burst of steps, the order
rotating between rounds, so drift lands on all of them alike. Each burst
starts with a few untimed steps, because the runtime that ran just before
left other weights in the caches: the timed steps are the steady streaming
state. (Cold caches are measured on their own, in cold_cache.py.)
"""
from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np


def timer_overhead_ns(samples: int = 200_000) -> int:
    """Median width of an empty perf_counter_ns interval: what every
    Python-timed sample carries on top of the call it brackets."""
    clock = time.perf_counter_ns
    widths = [0] * samples
    for k in range(samples):
        t0 = clock()
        widths[k] = clock() - t0
    return int(np.median(widths))


@dataclass
class LatencyStats:
    samples: int
    median_us: float
    p99_us: float
    mean_us: float
    min_us: float
    p10_us: float
    p90_us: float
    max_us: float

    @classmethod
    def from_ns(cls, ns: Sequence[float]) -> "LatencyStats":
        us = np.asarray(ns, dtype=np.float64) / 1e3
        q = np.percentile(us, [50, 99, 10, 90])
        return cls(len(us), float(q[0]), float(q[1]), float(us.mean()), float(us.min()),
                   float(q[2]), float(q[3]), float(us.max()))


def pilot_step_seconds(runtimes: Sequence, steps: int = 8) -> Dict[str, float]:
    """A rough per-step cost of each runtime, to size the real run."""
    return {rt.name: float(np.median(rt.burst(steps, 2))) / 1e9 for rt in runtimes}


def plan_steps(costs: Dict[str, float], budget_s: float, min_steps: int, max_steps: int) -> int:
    """Steps per runtime so that all of them together fit in budget_s."""
    per_step_all = sum(costs.values()) or 1e-9
    return int(min(max_steps, max(min_steps, budget_s / per_step_all)))


def measure_interleaved(runtimes: Sequence, steps: int, rounds: int, warmup: int,
                        timer_ns: int) -> Dict[str, List[int]]:
    """About ``steps`` timed steps per runtime, in ``rounds`` rotating rounds.

    Python-timed samples have the empty-timer width subtracted (clamped at
    0), so they compare with the floor's, which C++ times around the pass.
    """
    burst = max(1, math.ceil(steps / rounds))
    samples: Dict[str, List[int]] = {rt.name: [] for rt in runtimes}
    order = list(runtimes)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside a burst would be charged to one runtime
    try:
        for r in range(rounds):
            shift = r % len(order)
            for rt in order[shift:] + order[:shift]:
                raw = rt.burst(burst, warmup)
                if rt.python_timed:
                    raw = [max(0, s - timer_ns) for s in raw]
                samples[rt.name].extend(raw)
    finally:
        if gc_was_enabled:
            gc.enable()
    return samples


def time_runtimes(runtimes: Sequence, effort: Dict, timer_ns: int, min_steps: Optional[int] = None,
                  pilot_steps: int = 8, after_pilot: Optional[Callable[[], None]] = None
                  ) -> Tuple[int, Dict[str, Dict]]:
    """The one timing sequence of every case: a pilot to learn each
    runtime's cost, steps sized to effort["budget"], the interleaved
    measurement, and each runtime's statistics.

    min_steps overrides effort["min_steps"] (a step_many sample is a whole
    tick of B steps, so it needs fewer); after_pilot runs before the real
    measurement, for runtimes that keep counters the pilot must not feed.
    Returns (steps per runtime, {name: LatencyStats as a dict})."""
    costs = pilot_step_seconds(runtimes, pilot_steps)
    if after_pilot is not None:
        after_pilot()
    steps = plan_steps(costs, effort["budget"], effort["min_steps"] if min_steps is None else min_steps,
                       effort["max_steps"])
    samples = measure_interleaved(runtimes, steps, effort["rounds"], effort["warmup"], timer_ns)
    return steps, {name: vars(LatencyStats.from_ns(ns)) for name, ns in samples.items()}
