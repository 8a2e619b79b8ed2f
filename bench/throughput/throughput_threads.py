"""One step on two cores: lnfast.set_num_threads(2) against 1, same stream
call, same model.

The thread count is process-wide, so each runtime sets it (untimed) at the
start of its burst; the burst's warmup steps then wake the helper before
anything is timed. The count is always put back to 1 when this is done:
every other measurement in the harness is one thread.
"""
from __future__ import annotations

import time
from typing import Dict

import numpy as np

import lnfast
from harness.agreement import DisagreementError
from harness.interleaved_timing import time_runtimes
from harness.machine_info import load_average
from runtimes.contestants import build_contestants
from runtimes.runtime_lnfast import LnfastRuntime

CHECK_STEPS = 40


class ThreadedStepRuntime(LnfastRuntime):
    """stream.step(x, out) with lnfast using ``threads`` threads per step."""

    def __init__(self, model: lnfast.Model, input_pool: np.ndarray, threads: int):
        super().__init__(model, input_pool)
        self.threads = threads
        self.name = f"{threads}_thread" + ("s" if threads > 1 else "")
        self.cpu_s = self.wall_s = 0.0

    def burst(self, n: int, warmup: int) -> list:
        lnfast.set_num_threads(self.threads)
        # Process CPU time counts every thread, so CPU / wall over the bursts
        # says how many cores the run actually got: a helper that spins
        # between steps should make it ~2 when the second core is free.
        cpu0, wall0 = time.process_time(), time.perf_counter()
        samples = super().burst(n, warmup)
        self.cpu_s += time.process_time() - cpu0
        self.wall_s += time.perf_counter() - wall0
        return samples

    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


def _trajectory(model: lnfast.Model, X: np.ndarray, threads: int) -> np.ndarray:
    lnfast.set_num_threads(threads)
    stream = model.stream()
    return np.stack([stream.step(x) for x in X])


def identical_across_threads(model: lnfast.Model, X: np.ndarray) -> bool:
    """Splitting rows between cores must not change a bit (the library says
    so); a speedup for different numbers would not count."""
    try:
        return np.array_equal(_trajectory(model, X, 1), _trajectory(model, X, 2))
    finally:
        lnfast.set_num_threads(1)


def bench_threads_case(kind: str, H: int, effort: Dict, timer_ns: int, seed: int) -> Dict:
    c = build_contestants(kind, H, H, [], seed)
    X = np.random.default_rng(seed + 5).standard_normal((CHECK_STEPS, H)).astype(np.float32)
    if not identical_across_threads(c.model, X):
        raise DisagreementError(f"{kind} I={H} H={H}: two threads give different h than one; "
                                f"not timing a different computation")
    pool = np.stack(c.lnfast.inputs)
    runtimes = [ThreadedStepRuntime(c.model, pool, 1), ThreadedStepRuntime(c.model, pool, 2)]

    def forget_pilot():  # the pilot is not part of the measurement
        for rt in runtimes:
            rt.cpu_s = rt.wall_s = 0.0
    try:
        steps, latency = time_runtimes(runtimes, effort, timer_ns, after_pilot=forget_pilot)
    finally:
        lnfast.set_num_threads(1)
    one, two = (latency[r.name]["median_us"] for r in runtimes)
    weights = c.model.weight_count
    return {"cell": kind, "input_size": H, "hidden_size": H, "weight_count": weights,
            "weight_bytes": 4 * weights, "steps_per_runtime": steps, "rounds": effort["rounds"],
            "identical": True, "check_steps": CHECK_STEPS, "latency": latency,
            "ratio": one / two, "cores_used": {rt.name: rt.cores_used() for rt in runtimes},
            # the second core is only free if the rest of the machine leaves it so
            "load_average_after": load_average()}
