"""PyTorch eager and TorchScript as benchmark contestants (see runtime_lnfast.py
for the runtime interface).

Both call the cell the way nn.LSTMCell is called, under inference_mode,
float32, with torch pinned to one thread by the caller.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import torch
from torch import nn


class _TorchCellRuntime:
    python_timed = True

    def __init__(self, fn, has_cell_state: bool, hidden_size: int, input_pool: np.ndarray):
        self.fn = fn
        self.has_cell_state = has_cell_state
        self.hidden_size = hidden_size
        self.inputs = [torch.from_numpy(np.array(row, dtype=np.float32)).reshape(1, -1)
                       for row in input_pool]
        self.reset()

    def reset(self) -> None:
        zeros = lambda: torch.zeros(1, self.hidden_size)  # noqa: E731
        self.h = zeros()
        self.c = zeros() if self.has_cell_state else None

    def step(self, x: np.ndarray) -> None:
        xt = torch.from_numpy(np.array(x, dtype=np.float32)).reshape(1, -1)
        with torch.inference_mode():
            if self.has_cell_state:
                self.h, self.c = self.fn(xt, (self.h, self.c))
            else:
                self.h = self.fn(xt, self.h)

    def hidden(self) -> np.ndarray:
        return self.h.reshape(-1).numpy().copy()

    def burst(self, n: int, warmup: int) -> list:
        fn, xs, h, c = self.fn, self.inputs, self.h, self.c
        mask = len(xs) - 1
        clock = time.perf_counter_ns
        samples = [0] * n
        with torch.inference_mode():
            if self.has_cell_state:
                for k in range(warmup):
                    h, c = fn(xs[k & mask], (h, c))
                for k in range(n):
                    x = xs[k & mask]
                    t0 = clock()
                    h, c = fn(x, (h, c))
                    samples[k] = clock() - t0
            else:
                for k in range(warmup):
                    h = fn(xs[k & mask], h)
                for k in range(n):
                    x = xs[k & mask]
                    t0 = clock()
                    h = fn(x, h)
                    samples[k] = clock() - t0
        self.h, self.c = h, c
        return samples


class TorchEagerRuntime(_TorchCellRuntime):
    name = "torch"

    def __init__(self, cell: nn.Module, has_cell_state: bool, hidden_size: int,
                 input_pool: np.ndarray):
        super().__init__(cell, has_cell_state, hidden_size, input_pool)


class TorchScriptRuntime(_TorchCellRuntime):
    """torch.jit.script, then torch.jit.freeze (weights become constants),
    warmed up so the profiling executor has specialized the graph."""

    name = "torchscript"
    warmup_calls = 20

    def __init__(self, cell: nn.Module, has_cell_state: bool, hidden_size: int,
                 input_pool: np.ndarray):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's deprecation notice
            frozen = torch.jit.freeze(torch.jit.script(cell.eval()))
        super().__init__(frozen, has_cell_state, hidden_size, input_pool)
        for k in range(self.warmup_calls):
            self.step(input_pool[k % len(input_pool)])
        self.reset()
