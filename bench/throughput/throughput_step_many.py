"""Many streams of one model: model.step_many(streams, X) against the same B
streams stepped one call each, in steps per second, and against the CPU's
compute peak.

At batch 1 a step reads every weight to do two flops with it, so B single
steps read the weights B times; step_many reads them once for all B
streams (a matrix-matrix product), which is where the throughput comes
from. One sample is one "tick": all B streams advanced by one step. The
floor (one pass over the weights) is timed alongside, so a miss can say
whether single steps were already cheap (cache-resident weights) or
step_many ran out of arithmetic; so is the peak, a register-only loop of
the instruction the mode's GEMM runs on (lnfast._core.testing.compute_peak:
FMA for fp32, vdpbf16ps for bf16, vpdpbusd for int8 activations, each
where the CPU has it), so "fraction of peak" compares numbers measured
under the same load. The reduced modes are timed against their peak only.
"""
from __future__ import annotations

import time
from typing import Dict, List

import numpy as np

import lnfast
from lnfast._core import testing
from harness.agreement import DisagreementError
from runtimes.contestants import build_contestants
from harness.interleaved_timing import time_runtimes
from runtimes.runtime_lnfast import FloorRuntime
from throughput.throughput_formats import MODES

KIND = "ln_lstm"
POOL = 4  # distinct (B, I) inputs cycled through; a power of 2
STEP_MANY_MODES = ("fp32", "bf16", "int8a8")
# Rounds of the peak loop per sample: ~25 us, as long as a small tick and
# short enough that a busy machine rarely preempts one.
PEAK_ITERATIONS = 16384


def peak_kind(mode: str, isa: str) -> str:
    """The instruction a mode's GEMM runs on with this ISA's kernels: the
    dot products where the CPU has them, else FMA on widened weights."""
    if mode == "bf16" and testing.bf16_dot(isa):
        return "bf16"
    if mode == "int8a8" and testing.int8_activations_dot(isa):
        return "int8"
    return "fp32"


class PeakRuntime:
    """The compute peak of one instruction, timed in C++ like the floor."""

    python_timed = False

    def __init__(self, kind: str, isa: str):
        self.kind, self.isa = kind, isa
        self.name = f"peak_{kind}"
        self.ops_per_run = testing.compute_peak(kind, isa, PEAK_ITERATIONS, 0)[0]

    def burst(self, n: int, warmup: int) -> list:
        seconds = testing.compute_peak(self.kind, self.isa, PEAK_ITERATIONS, warmup + n)[1][warmup:]
        return [int(round(s * 1e9)) for s in seconds]


class StepManyTick:
    """model.step_many(streams, X, out) with out preallocated."""

    name = "step_many"
    python_timed = True

    def __init__(self, model: lnfast.Model, pool: List[np.ndarray]):
        self.call = model.step_many
        self.streams = [model.stream() for _ in range(pool[0].shape[0])]
        self.out = np.zeros((len(self.streams), model.hidden_size), dtype=np.float32)
        self.pool = pool

    def burst(self, n: int, warmup: int) -> list:
        call, streams, out, xs = self.call, self.streams, self.out, self.pool
        mask = len(xs) - 1
        clock = time.perf_counter_ns
        for k in range(warmup):
            call(streams, xs[k & mask], out)
        samples = [0] * n
        for k in range(n):
            X = xs[k & mask]
            t0 = clock()
            call(streams, X, out)
            samples[k] = clock() - t0
        return samples


class SingleStepsTick:
    """B calls of stream.step(x, out), one per stream, each with its own
    preallocated out: what a server does without step_many."""

    name = "singles"
    python_timed = True

    def __init__(self, model: lnfast.Model, pool: List[np.ndarray]):
        B = pool[0].shape[0]
        self.steps = [model.stream().step for _ in range(B)]
        self.outs = [np.zeros(model.hidden_size, dtype=np.float32) for _ in range(B)]
        self.rows = [list(X) for X in pool]  # row views made once, outside the timing

    def burst(self, n: int, warmup: int) -> list:
        steps, outs, rows = self.steps, self.outs, self.rows
        mask = len(rows) - 1
        clock = time.perf_counter_ns
        for k in range(warmup):
            for step, x, o in zip(steps, rows[k & mask], outs):
                step(x, o)
        samples = [0] * n
        for k in range(n):
            xs = rows[k & mask]
            t0 = clock()
            for step, x, o in zip(steps, xs, outs):
                step(x, o)
            samples[k] = clock() - t0
        return samples


def identical_to_single_steps(model: lnfast.Model, pool: List[np.ndarray], ticks: int = 3) -> bool:
    """step_many promises B separate steps' bits; a throughput number for a
    different computation would be meaningless, so check before timing."""
    B = pool[0].shape[0]
    together = [model.stream() for _ in range(B)]
    apart = [model.stream() for _ in range(B)]
    for t in range(ticks):
        X = pool[t % len(pool)]
        got = model.step_many(together, X)
        want = np.stack([s.step(x) for s, x in zip(apart, X)])
        if not np.array_equal(got, want):
            return False
    return True


def bench_step_many_case(H: int, B: int, effort: Dict, timer_ns: int, seed: int,
                         mode: str = "fp32") -> Dict:
    fp32_model = build_contestants(KIND, H, H, [], seed).model
    model = fp32_model if mode == "fp32" else lnfast.Model(fp32_model.layers, **MODES[mode])
    rng = np.random.default_rng(seed + 4)
    pool = [rng.standard_normal((B, H)).astype(np.float32) for _ in range(POOL)]
    if not identical_to_single_steps(model, pool):
        raise DisagreementError(f"{KIND} {mode} H={H}: step_many over {B} streams differs from "
                                f"{B} single steps; not timing a different computation")

    peak = PeakRuntime(peak_kind(mode, model.isa), model.isa)
    runtimes = [StepManyTick(model, pool), peak]
    if mode == "fp32":
        runtimes += [SingleStepsTick(model, pool), FloorRuntime(model)]
    ticks, latency = time_runtimes(runtimes, effort, timer_ns, min_steps=effort["min_ticks"], pilot_steps=2)

    many_s = latency["step_many"]["median_us"] / 1e6
    weights = model.weight_count
    # two operations (multiply, add) per weight per stream: what step_many must compute
    gflops = 2.0 * weights * B / many_s / 1e9
    peak_gops = peak.ops_per_run / (latency[peak.name]["median_us"] / 1e6) / 1e9
    case = {"cell": KIND, "mode": mode, "input_size": H, "hidden_size": H, "batch": B,
            "weight_count": weights, "weight_bytes": 4 * weights, "isa": model.isa,
            "ticks_per_runtime": ticks, "rounds": effort["rounds"],
            "identical_to_single_steps": True, "latency": latency,
            "step_many_gflops": gflops, "peak": peak.kind, "peak_gops": peak_gops,
            "fraction_of_peak": gflops / peak_gops}
    if mode == "fp32":
        single_s = latency["singles"]["median_us"] / 1e6
        case.update({"steps_per_s": {"step_many": B / many_s, "singles": B / single_s},
                     "ratio": single_s / many_s,
                     "single_over_floor": single_s / B / (latency["floor"]["median_us"] / 1e6)})
    return case
