"""Which runtimes can run here, and the set of them for one benchmark case."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import numpy as np

import lnfast
from runtimes.cell_params import has_cell_state, lnfast_model, random_params
from runtimes.runtime_lnfast import FloorRuntime, LnfastRuntime

OPENVINO_PRECISIONS = ("f32", "bf16")
PEER_NAMES = ("torch", "torchscript", "onnxruntime") + tuple(f"openvino_{p}" for p in OPENVINO_PRECISIONS)
INPUT_POOL = 16  # distinct inputs cycled through while timing; a power of 2


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def detect_peers() -> Dict[str, Optional[str]]:
    """Each peer's name -> None if it can run, else why it is skipped."""
    has = _importable
    why_torch = None if has("torch") else "PyTorch is not installed"
    if why_torch:
        why_ort = why_torch + " (the ONNX graph is exported from it)"
    elif not has("onnx"):
        why_ort = "onnx is not installed (the exporter needs it)"
    elif not has("onnxruntime"):
        why_ort = "onnxruntime is not installed"
    else:
        why_ort = None
    why = {"torch": why_torch, "torchscript": why_torch, "onnxruntime": why_ort}
    why_ov = why_ort if why_ort and why_ort != "onnxruntime is not installed" else None
    if why_ov is None and not has("openvino"):
        why_ov = "openvino is not installed (pip install openvino, or the bench extra)"
    for precision in OPENVINO_PRECISIONS:
        why[f"openvino_{precision}"] = why_ov
    if why_ov is None:
        import openvino
        from runtimes.runtime_openvino import cpu_has_bf16
        if not cpu_has_bf16(openvino.Core()):
            why["openvino_bf16"] = "OpenVINO's CPU plugin reports no BF16 on this CPU"
    return why


@dataclass
class Contestants:
    kind: str
    input_size: int
    hidden_size: int
    model: lnfast.Model
    lnfast: LnfastRuntime
    floor: FloorRuntime
    peers: List = field(default_factory=list)
    torch_cell: object = None

    @property
    def weight_bytes(self) -> int:
        return 4 * self.model.weight_count


def build_contestants(kind: str, input_size: int, hidden_size: int, peers: List[str],
                      seed: int = 0) -> Contestants:
    """lnfast, the floor and the requested peers, all holding the same weights.

    With PyTorch present, lnfast's model comes from the PyTorch cell through
    the converter, so the agreement check also checks the converter."""
    params = random_params(kind, input_size, hidden_size, seed)
    pool = np.random.default_rng(seed + 1).standard_normal((INPUT_POOL, input_size)).astype(np.float32)
    cell = None
    if peers:
        from runtimes.torch_peer_cells import to_lnfast, torch_cell
        cell = torch_cell(kind, params)
        model = to_lnfast(cell)
    else:
        model = lnfast_model(kind, params)
    c = Contestants(kind, input_size, hidden_size, model, LnfastRuntime(model, pool),
                    FloorRuntime(model), torch_cell=cell)
    lstm = has_cell_state(kind)
    if "torch" in peers:
        from runtimes.runtime_torch import TorchEagerRuntime
        c.peers.append(TorchEagerRuntime(cell, lstm, hidden_size, pool))
    if "torchscript" in peers:
        from runtimes.runtime_torch import TorchScriptRuntime
        c.peers.append(TorchScriptRuntime(cell, lstm, hidden_size, pool))
    if "onnxruntime" in peers:
        from runtimes.runtime_onnx import OrtRuntime
        from runtimes.torch_peer_cells import flat_step_module
        c.peers.append(OrtRuntime(flat_step_module(cell), input_size, hidden_size, lstm, pool))
    for precision in OPENVINO_PRECISIONS:
        if f"openvino_{precision}" in peers:
            from runtimes.runtime_openvino import OpenVinoRuntime
            from runtimes.torch_peer_cells import flat_step_module
            c.peers.append(OpenVinoRuntime(flat_step_module(cell), input_size, hidden_size, lstm,
                                           pool, precision))
    return c
