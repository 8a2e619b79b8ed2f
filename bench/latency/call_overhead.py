"""What a step costs when there is almost nothing to compute, and whether the
out= path allocates.

At H = 8 the LN-LSTM's arithmetic is a few dozen nanoseconds, so a step's
time is the price of calling from Python. It is timed over loops of many
calls (a perf_counter_ns pair around each call would be as costly as the
call itself); the loop's own iteration is included, as it is in user code.
"""
from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from typing import Dict, List

import numpy as np

from runtimes.contestants import build_contestants

HIDDEN = 8
CALLS_PER_LOOP = 1000
# torch's step is ~100x longer; a loop of 1000 would span scheduler time
# slices on a shared machine, and the median of loops would no longer
# exclude them. 20 calls keep its loops as short as lnfast's.
TORCH_CALLS_PER_LOOP = 20
ALLOC_STEPS = 10_000


def _loop_ns_per_call(step_loop, calls: int) -> float:
    t0 = time.perf_counter_ns()
    step_loop()
    return (time.perf_counter_ns() - t0) / calls


def _lnfast_loop(stream, xs: List[np.ndarray], out: np.ndarray):
    step = stream.step

    def loop():
        for x in xs:
            step(x, out)
    return loop


def _torch_loop(cell, xs, h, c):
    import torch

    def loop():
        hh, cc = h, c
        with torch.inference_mode():
            for x in xs:
                hh, cc = cell(x, (hh, cc))
    return loop


def measure_call_overhead(loops: int, with_torch: bool) -> Dict:
    """Median ns per step.out= call at H = 8 (and torch eager's, for scale),
    over ``loops`` interleaved loops of CALLS_PER_LOOP calls."""
    c = build_contestants("ln_lstm", HIDDEN, HIDDEN, ["torch"] if with_torch else [])
    pool = c.lnfast.inputs
    xs = [pool[k % len(pool)] for k in range(CALLS_PER_LOOP)]
    out = np.zeros(HIDDEN, dtype=np.float32)
    contenders = {"lnfast": (_lnfast_loop(c.model.stream(), xs, out), CALLS_PER_LOOP)}

    def empty():  # what the loop itself costs
        for x in xs:
            pass
    if with_torch:
        import torch
        txs = [torch.from_numpy(x.copy()).reshape(1, -1) for x in xs[:TORCH_CALLS_PER_LOOP]]
        zeros = torch.zeros(1, HIDDEN)
        contenders["torch"] = (_torch_loop(c.torch_cell, txs, zeros, zeros), TORCH_CALLS_PER_LOOP)
    results = {name: [] for name in contenders}
    for fn, _ in contenders.values():
        fn()  # warm up
    gc.disable()
    try:
        for _ in range(loops):
            for name, (fn, calls) in contenders.items():
                results[name].append(_loop_ns_per_call(fn, calls))
        empty_ns = float(np.median([_loop_ns_per_call(empty, CALLS_PER_LOOP) for _ in range(50)]))
    finally:
        gc.enable()
    report = {f"{name}_ns_per_step": float(np.median(v)) for name, v in results.items()}
    report["hidden_size"] = HIDDEN
    report["calls_per_loop"] = CALLS_PER_LOOP
    if with_torch:
        report["torch_calls_per_loop"] = TORCH_CALLS_PER_LOOP
    report["loops"] = loops
    report["empty_loop_ns_per_iteration"] = empty_ns
    return report


def _allocation_probe(loop) -> Dict:
    """Live-block delta and traced-byte growth over one call of ``loop``.

    getallocatedblocks catches anything kept; tracemalloc's peak also
    catches a transient allocation (NumPy reports its data buffers to it),
    though only the largest number of bytes alive at once."""
    loop()
    gc.collect()
    gc.disable()
    try:
        blocks_before = sys.getallocatedblocks()
        loop()
        blocks_delta = sys.getallocatedblocks() - blocks_before
        tracemalloc.start()
        try:
            loop()
            tracemalloc.reset_peak()
            current_before, _ = tracemalloc.get_traced_memory()
            loop()
            current_after, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        gc.enable()
    return {"allocated_blocks_delta": blocks_delta,
            "traced_peak_growth_bytes": peak - current_before,
            "traced_current_growth_bytes": current_after - current_before}


def _net(probe: Dict, baseline: Dict) -> Dict:
    return {k: v - baseline[k] for k, v in probe.items()}


def measure_allocations() -> Dict:
    """What ALLOC_STEPS calls of step(x, out) allocate, net of an empty loop
    over the same inputs (the probe's own int objects and iterator).

    The out= path must come out at zero; out=None is shown for contrast,
    proving the probe does see the one array such a step returns."""
    c = build_contestants("ln_lstm", HIDDEN, HIDDEN, [])
    pool = c.lnfast.inputs
    xs = [pool[k % len(pool)] for k in range(ALLOC_STEPS)]
    out = np.zeros(HIDDEN, dtype=np.float32)
    step = c.model.stream().step

    def empty():
        for x in xs:
            pass

    def with_out():
        for x in xs:
            step(x, out)

    def without_out():
        for x in xs:
            step(x)
    baseline = _allocation_probe(empty)
    return {"steps": ALLOC_STEPS, "empty_loop": baseline,
            "out_given": _net(_allocation_probe(with_out), baseline),
            "out_none": _net(_allocation_probe(without_out), baseline)}
