"""lnfast as a benchmark contestant, and the floor it is measured against.

A runtime here is anything with ``name``, ``python_timed`` (whether its
samples carry a perf_counter_ns pair to be corrected for), ``reset()``,
``step(x)`` and ``hidden()`` for the agreement check, and ``burst(n, warmup)``
returning n per-step latencies in ns. The timed loops are written out per
runtime, with the callables bound to locals, so the only thing inside each
timed interval is the call a user would make.
"""
from __future__ import annotations

import time

import numpy as np

import lnfast
from lnfast._core import testing


class LnfastRuntime:
    """stream.step(x, out=out) with a preallocated out: the allocation-free path."""

    name = "lnfast"
    python_timed = True

    def __init__(self, model: lnfast.Model, input_pool: np.ndarray):
        self.model = model
        self.stream = model.stream()
        self.out = np.zeros(model.hidden_size, dtype=np.float32)
        # Row views made once: indexing a list costs nothing measurable.
        self.inputs = [np.ascontiguousarray(row, dtype=np.float32) for row in input_pool]

    def reset(self) -> None:
        self.stream.reset()

    def step(self, x: np.ndarray) -> None:
        self.stream.step(np.ascontiguousarray(x, dtype=np.float32), self.out)

    def hidden(self) -> np.ndarray:
        return self.out.copy()

    def burst(self, n: int, warmup: int) -> list:
        step, out, xs = self.stream.step, self.out, self.inputs
        mask = len(xs) - 1
        clock = time.perf_counter_ns
        for k in range(warmup):
            step(xs[k & mask], out)
        samples = [0] * n
        for k in range(n):
            x = xs[k & mask]
            t0 = clock()
            step(x, out)
            samples[k] = clock() - t0
        return samples


class FloorRuntime:
    """One pass over the model's packed weight bytes with full-width loads,
    timed in C++: no step can be faster at batch 1, since every weight is
    used once per step."""

    name = "floor"
    python_timed = False

    def __init__(self, model: lnfast.Model):
        self.core = model._core

    def burst(self, n: int, warmup: int) -> list:
        seconds = testing.weight_pass_seconds(self.core, warmup + n)[warmup:]
        return [int(round(s * 1e9)) for s in seconds]
