"""A whole sequence through stream.run(X) against the same steps one call at
a time, per step. run() can batch every step's input projection into one
GEMM and pays the Python call once, so it should win."""
from __future__ import annotations

import gc
import time
from typing import Dict, Sequence

import numpy as np

from runtimes.contestants import build_contestants

KIND = "ln_lstm"


def measure_run_vs_step(hidden_sizes: Sequence[int], steps: int, rounds: int) -> Dict:
    out = {}
    for H in hidden_sizes:
        model = build_contestants(KIND, H, H, []).model
        X = np.random.default_rng(7).standard_normal((steps, H)).astype(np.float32)
        Y = np.zeros((steps, H), dtype=np.float32)
        rows, out_rows = list(X), list(Y)  # views made once, outside the timing
        stream = model.stream()
        run, step = stream.run, stream.step

        def whole():
            run(X, Y)

        def one_by_one():
            for x, y in zip(rows, out_rows):
                step(x, y)
        timings = {"run": [], "step": []}
        contenders = [("run", whole), ("step", one_by_one)]
        for _, fn in contenders:
            fn()
        gc.disable()
        try:
            for r in range(rounds):
                for name, fn in (contenders if r % 2 == 0 else contenders[::-1]):
                    stream.reset()
                    t0 = time.perf_counter_ns()
                    fn()
                    timings[name].append((time.perf_counter_ns() - t0) / steps / 1e3)
        finally:
            gc.enable()
        run_us, step_us = (float(np.median(timings[k])) for k in ("run", "step"))
        out[str(H)] = {"cell": KIND, "input_size": H, "hidden_size": H, "T": steps,
                       "rounds": rounds, "run_us_per_step": run_us,
                       "step_us_per_step": step_us, "step_over_run": step_us / run_us}
    return out
