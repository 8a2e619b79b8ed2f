"""ONNX Runtime as a benchmark contestant (see runtime_lnfast.py for the
runtime interface).

The cell is exported as a one-step graph with the state passed in and out,
(x, h[, c]) -> (h'[, c']), opset 17 (the first with LayerNormalization), and
run the fastest way a user honestly would: full graph optimization, one
thread, sequential execution, and IO binding with every OrtValue bound once.
Two bindings alternate so that each step's outputs are the next step's
inputs without a copy; a new input is written into the bound x buffer.
"""
from __future__ import annotations

import io
import time
import warnings

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

OPSET = 17


def export_one_step(flat_step: nn.Module, input_size: int, hidden_size: int,
                    has_cell_state: bool) -> bytes:
    """The ONNX bytes of one step, with fixed batch-1 shapes."""
    state_names = ["h", "c"] if has_cell_state else ["h"]
    args = (torch.zeros(1, input_size),) + tuple(torch.zeros(1, hidden_size) for _ in state_names)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        # dynamo=False: the TorchScript-based exporter needs no onnxscript.
        torch.onnx.export(flat_step, args, buf, input_names=["x"] + state_names,
                          output_names=[n + "_out" for n in state_names],
                          opset_version=OPSET, dynamo=False)
    return buf.getvalue()


def single_thread_session(onnx_bytes: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])


class AlternatingStateRuntime:
    """A one-step graph run with two preallocated state sets: each step's
    outputs are the next step's inputs, with no copy. A subclass binds its
    engine's two calls (``self.runs``: set 0 -> 1, then 1 -> 0) over
    ``self.x_buf`` and ``self.states`` and sets ``self.name``."""

    python_timed = True

    def __init__(self, input_size: int, hidden_size: int, has_cell_state: bool,
                 input_pool: np.ndarray):
        self.state_names = ["h", "c"] if has_cell_state else ["h"]
        self.x_buf = np.zeros((1, input_size), dtype=np.float32)
        self.states = [[np.zeros((1, hidden_size), dtype=np.float32) for _ in self.state_names]
                       for _ in range(2)]
        self.inputs = [np.array(row, dtype=np.float32).reshape(1, -1) for row in input_pool]
        self.runs = []
        self.current = 0  # which state set holds the current state

    def reset(self) -> None:
        for side in self.states:
            for a in side:
                a.fill(0.0)
        self.current = 0

    def step(self, x: np.ndarray) -> None:
        np.copyto(self.x_buf, np.asarray(x, dtype=np.float32).reshape(1, -1))
        self.runs[self.current]()
        self.current ^= 1

    def hidden(self) -> np.ndarray:
        return self.states[self.current][0].reshape(-1).copy()

    def burst(self, n: int, warmup: int) -> list:
        runs, xs, x_buf = self.runs, self.inputs, self.x_buf
        copyto = np.copyto
        mask = len(xs) - 1
        clock = time.perf_counter_ns
        side = self.current
        for k in range(warmup):
            copyto(x_buf, xs[k & mask])
            runs[side]()
            side ^= 1
        samples = [0] * n
        for k in range(n):
            x, run = xs[k & mask], runs[side]
            t0 = clock()
            copyto(x_buf, x)
            run()
            samples[k] = clock() - t0
            side ^= 1
        self.current = side
        return samples


class OrtRuntime(AlternatingStateRuntime):
    name = "onnxruntime"

    def __init__(self, flat_step: nn.Module, input_size: int, hidden_size: int,
                 has_cell_state: bool, input_pool: np.ndarray):
        super().__init__(input_size, hidden_size, has_cell_state, input_pool)
        self.session = single_thread_session(
            export_one_step(flat_step, input_size, hidden_size, has_cell_state))
        # OrtValues made from NumPy share the arrays' memory.
        x_value = ort.OrtValue.ortvalue_from_numpy(self.x_buf)
        values = [[ort.OrtValue.ortvalue_from_numpy(a) for a in side] for side in self.states]
        for src in (0, 1):
            binding = self.session.io_binding()
            binding.bind_ortvalue_input("x", x_value)
            for name, v_in, v_out in zip(self.state_names, values[src], values[1 - src]):
                binding.bind_ortvalue_input(name, v_in)
                binding.bind_ortvalue_output(name + "_out", v_out)
            self.runs.append(lambda b=binding: self.session.run_with_iobinding(b))
        self.reset()
