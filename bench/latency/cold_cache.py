"""Latency of one step whose weights are not in any cache.

A stream that steps rarely (a keyword spotter between utterances, a model
among many) finds its weights evicted. Before each timed step an untimed
pass over a buffer larger than the last-level cache pushes everything out;
then one step is timed. The floor is made cold the same way, so the ratio
still says how close to the memory system lnfast gets.
"""
from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from harness.machine_info import last_level_cache_bytes
from runtimes.contestants import build_contestants

KIND = "ln_lstm"
MIN_EVICT_BYTES = 64 << 20


def default_evict_bytes() -> int:
    # 1.5x the LLC: a non-inclusive L3 filled by L2 victims needs more than
    # its size streamed through it before the oldest lines are surely gone.
    llc = last_level_cache_bytes() or 0
    return max(MIN_EVICT_BYTES, int(1.5 * llc))


def measure_cold_steps(hidden_sizes: Sequence[int], samples: int, evict_bytes: int,
                       with_torch: bool, timer_ns: int) -> Dict:
    buffer = np.ones(evict_bytes // 8, dtype=np.float64)  # touched now: pages exist

    def evict() -> None:
        buffer.sum()
    out = {}
    for H in hidden_sizes:
        c = build_contestants(KIND, H, H, ["torch"] if with_torch else [])
        runtimes = [c.lnfast, c.floor, *c.peers]
        for rt in runtimes:
            rt.burst(5, 0)  # first-call costs are not cache effects
        cold = {rt.name: [] for rt in runtimes}
        for s in range(samples):
            shift = s % len(runtimes)
            for rt in runtimes[shift:] + runtimes[:shift]:
                evict()
                ns = rt.burst(1, 0)[0]
                cold[rt.name].append(max(0, ns - timer_ns) if rt.python_timed else ns)
        us = {name: np.asarray(v, dtype=np.float64) / 1e3 for name, v in cold.items()}
        # Memory shared with other tenants can make cold passes bimodal (a
        # fast and a ~2.5x slower mode), which puts the median anywhere
        # between the two; the lower quartile and every sample are kept too.
        out[str(H)] = {"cell": KIND, "input_size": H, "hidden_size": H, "samples": samples,
                       "weight_bytes": c.weight_bytes,
                       "median_us": {n: float(np.median(v)) for n, v in us.items()},
                       "p25_us": {n: float(np.percentile(v, 25)) for n, v in us.items()},
                       "min_us": {n: float(v.min()) for n, v in us.items()},
                       "p90_us": {n: float(np.percentile(v, 90)) for n, v in us.items()},
                       "samples_us": {n: [round(float(x), 2) for x in v] for n, v in us.items()}}
    return out
