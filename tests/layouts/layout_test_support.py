"""Shared helpers for the checkpoint-layout tests: random source modules,
stepping them in torch, and the subprocess that loads checkpoints without torch.
"""
from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
from typing import List

import numpy as np
import torch
from torch import nn

import lnfast
import torch_cells as tc

HERE = os.path.dirname(os.path.abspath(__file__))
FRESH_LOADER = os.path.join(HERE, "fresh_process_loader.py")

# lnfast's float32 against the same network in float64 torch, and against
# torch's own float32 (both sides then carry float32 rounding).
TOLERANCE_VS_FLOAT64 = 1e-5
TOLERANCE_VS_FLOAT32 = 1e-4
STEPS = 500


# --------------------------------------------------------------------------
# Random weights


def _norm_roles(module: nn.Module) -> dict:
    """Full parameter name -> "gain" / "shift" for every norm parameter:
    nn.LayerNorm weights/biases and haste's bare gamma/gamma_h/beta_h."""
    roles = {}
    for prefix, sub in module.named_modules():
        if isinstance(sub, nn.LayerNorm):
            roles[f"{prefix}.weight"] = "gain"
            roles[f"{prefix}.bias"] = "shift"
    for name, _ in module.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("gamma", "gamma_h"):
            roles[name] = "gain"
        elif leaf == "beta_h":
            roles[name] = "shift"
    return roles


@torch.no_grad()
def randomize(module: nn.Module, hidden_size: int, seed: int) -> nn.Module:
    """Weights ~ U(-1/sqrt(H), 1/sqrt(H)), norm gains 1 +- 0.3, shifts +- 0.3:
    a gain or shift wired to the wrong place shows in the outputs.

    A norm over U h cancels U's scale, so the recurrent gain lives in that
    norm's gamma; with gains near 1 the two-layer haste LSTM was ill
    conditioned (float32 torch itself 6.2e-6 from float64, lnfast 1.5e-5).
    Those gains (haste's gamma[1], fastrnns' layernorm_h) are halved, as in
    tests/variants.py, which keeps every case's float32 torch within 2e-6
    of float64 (checked by the parity test).
    """
    generator = torch.Generator().manual_seed(seed)
    roles = _norm_roles(module)
    for name, param in module.named_parameters():
        role = roles.get(name)
        spread = {"gain": 0.3, "shift": 0.3}.get(role, 1.0 / hidden_size ** 0.5)
        noise = (torch.rand(param.shape, generator=generator, dtype=torch.float64) * 2 - 1) * spread
        param.copy_(noise + (1.0 if role == "gain" else 0.0))
        if name.endswith("gamma") and param.dim() == 2:  # haste: row 1 is the h norm
            param[1].mul_(0.5)
        elif name.endswith("layernorm_h.weight"):
            param.mul_(0.5)
    return module.float()


# --------------------------------------------------------------------------
# Modules the sources do not provide


class CellList(nn.Module):
    """Single cells in an nn.ModuleList, run bottom to top: their keys read
    ``cells.{k}.<name>``, the "P0., P1., ..." stacks the loader chains."""

    def __init__(self, cells: List[nn.Module]):
        super().__init__()
        self.cells = nn.ModuleList(cells)


class IfogLSTMCell(nn.Module):
    """A user's own LSTM cell: nn.LSTMCell's names and shapes, but its forward
    slices the gates i, f, o, g. Only an explicit Mapping loads it right."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        bound = hidden_size ** -0.5
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-bound, bound))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-bound, bound))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-bound, bound))

    def forward(self, x, state):
        h, c = state
        gates = x @ self.weight_ih.t() + self.bias_ih + h @ self.weight_hh.t() + self.bias_hh
        i, f, o, g = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class Wrapped(nn.Module):
    """A model holding the network under ``encoder.rnn`` next to other layers,
    so that its keys carry a module prefix."""

    def __init__(self, rnn: nn.Module, hidden_size: int):
        super().__init__()
        self.embed = nn.Linear(3, 3)
        self.encoder = nn.Module()
        self.encoder.rnn = rnn
        self.head = nn.Linear(hidden_size, 2)


# --------------------------------------------------------------------------
# Stepping torch modules (batch 1, one step at a time)


def _step_one(cell: nn.Module, x, state):
    """One step of any single cell; state None means zeros."""
    if isinstance(cell, tc.RecurrentCell):
        state = cell.initial_state(x.dtype) if state is None else state
        return cell.step(x, state)
    zeros = torch.zeros(1, cell.hidden_size, dtype=x.dtype)
    if isinstance(cell, (nn.LSTMCell, IfogLSTMCell)):
        h, c = cell(x, state if state is not None else (zeros, zeros))
        return h, (h, c)
    h = cell(x, state if state is not None else zeros)
    return h, h


@torch.no_grad()
def run_torch(module: nn.Module, inputs: np.ndarray, dtype) -> np.ndarray:
    """Outputs (T, H) of the top layer, with the module in ``dtype``."""
    module = copy.deepcopy(module).to(dtype)
    if isinstance(module, (nn.RNNBase, tc.RecurrentCell, tc.LayerStack)):
        outputs, _ = tc.run_steps(module, torch.from_numpy(inputs))
        return outputs.double().numpy()
    cells = list(module.cells) if isinstance(module, CellList) else [module]
    states = [None] * len(cells)
    outputs = []
    for x in torch.from_numpy(inputs).to(dtype):
        x = x.unsqueeze(0)
        for k, cell in enumerate(cells):
            x, states[k] = _step_one(cell, x, states[k])
        outputs.append(x.squeeze(0).double().numpy())
    return np.stack(outputs)


def torch_bytes(state) -> bytes:
    """What torch.save writes for ``state``, as bytes lnfast.load reads."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def run_lnfast(model: lnfast.Model, inputs: np.ndarray) -> np.ndarray:
    stream = model.stream()
    return np.stack([stream.step(x) for x in inputs])


def max_abs_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours.astype(np.float64) - reference)))


def random_inputs(steps: int, input_size: int, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((steps, input_size)).astype(np.float32)


# --------------------------------------------------------------------------
# Loading in a process that never imports torch


def python_path_env() -> dict:
    """The environment for a child python that finds this lnfast."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(lnfast.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (package_parent, env.get("PYTHONPATH", "")) if p)
    return env


def load_in_fresh_process(jobs: List[dict], workdir: str) -> dict:
    """Run fresh_process_loader.py on ``jobs`` (see its docstring); returns its report."""
    manifest = os.path.join(workdir, "jobs.json")
    report = os.path.join(workdir, "report.json")
    with open(manifest, "w") as handle:
        json.dump(jobs, handle)
    done = subprocess.run([sys.executable, FRESH_LOADER, manifest, report],
                          env=python_path_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-4000:]
    with open(report) as handle:
        return json.load(handle)


_LOAD_IN_CHILD = r"""
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import lnfast
try:
    lnfast.load(sys.argv[1])
    print(json.dumps({"outcome": "ok", "message": ""}))
except lnfast.CheckpointError as error:
    print(json.dumps({"outcome": "CheckpointError", "message": str(error)}))
"""


def load_in_child(path, timeout: float, memory: int = 512 << 20) -> dict:
    """lnfast.load(path) in a child process with an address-space limit, so
    that a hang or a crash becomes a failed assertion, not a stuck suite."""
    try:
        done = subprocess.run([sys.executable, "-c", _LOAD_IN_CHILD, str(path), str(memory)],
                              env=python_path_env(), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout after {timeout} s", "message": ""}
    if done.returncode != 0:
        return {"outcome": f"child died with code {done.returncode}", "message": done.stderr[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])
