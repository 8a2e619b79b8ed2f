"""Weight formats side by side: per-step latency of the same cell stored as
fp32, bf16 and int8, and int8 by int8 activations ("int8a8", integer dot
products), each against its own floor, with the accuracy cost of the
narrower modes measured on the same inputs.

Each format's floor is one pass over that model's own packed bytes, so
"bf16 / floor_bf16" says how close the bf16 kernel gets to streaming half
the bytes, whatever it costs to widen them. From PEER_MIN_H up, ONNX Runtime
and PyTorch eager (both fp32: neither has a bf16 or int8 path a user would
pick for this cell at batch 1) and OpenVINO (f32 and bf16 inference
precision) run interleaved with the formats, which is where fewer bytes
should matter most.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

import lnfast
from harness.agreement import STEPS as AGREEMENT_STEPS
from harness.agreement import check_agreement
from runtimes.cell_params import GATES
from runtimes.contestants import build_contestants
from harness.interleaved_timing import time_runtimes
from runtimes.runtime_lnfast import FloorRuntime, LnfastRuntime

# Each mode's lnfast.Model options: every weight format with fp32
# activations, then int8 weights by int8 activations.
MODES = {fmt: {"weights": fmt} for fmt in lnfast.Model.WEIGHT_FORMATS}
MODES["int8a8"] = {"weights": "int8", "activations": "int8"}
FORMATS = tuple(MODES)
BYTES_PER_WEIGHT = {fmt: {"fp32": 4, "bf16": 2, "int8": 1}[MODES[fmt]["weights"]] for fmt in FORMATS}
PEER_MIN_H = 512
ACCURACY_STEPS = 1000
PEERS = ("torch", "onnxruntime", "openvino_f32", "openvino_bf16")


def floor_name(fmt: str) -> str:
    return f"floor_{fmt}"


def renamed(runtime, name: str):
    """Runtimes carry their name as a class attribute; several instances of
    one class in one interleaved run need their own."""
    runtime.name = name
    return runtime


def nominal_weight_bytes(kind: str, hidden_size: int, weight_count: int, fmt: str) -> int:
    """The bytes a step must read in this format: int8 adds a float scale
    per output row of both matrices."""
    scales = 2 * GATES[kind] * hidden_size * 4 if MODES[fmt]["weights"] == "int8" else 0
    return weight_count * BYTES_PER_WEIGHT[fmt] + scales


def format_models(fp32_model: lnfast.Model) -> Dict[str, lnfast.Model]:
    """The same layers packed in every format (fp32 kept as built, so the
    converter-made model the peers were checked against is the reference)."""
    models = {"fp32": fp32_model}
    for fmt in FORMATS[1:]:
        models[fmt] = lnfast.Model(fp32_model.layers, **MODES[fmt])
        assert models[fmt].weights == MODES[fmt]["weights"], (fmt, models[fmt].weights)
    return models


def _other_isa(model: lnfast.Model):
    others = [isa for isa in lnfast.supported_isas() if isa != model.isa]
    return others[-1] if others else None  # the best other one: the likeliest to be used


def _one_step_errors(ref: lnfast.Model, low: lnfast.Model, X: np.ndarray) -> np.ndarray:
    """|h - h_fp32| of one step taken from the fp32 trajectory's own state:
    the format's error per step, before any recurrence can amplify it."""
    s_ref, s_low = ref.stream(), low.stream()
    errs = np.empty(len(X))
    for t, x in enumerate(X):
        s_low.set_flat_state(s_ref.flat_state())
        errs[t] = np.max(np.abs(s_low.step(x) - s_ref.step(x)))
    return errs


def accuracy_vs_fp32(models: Dict[str, lnfast.Model], input_size: int, seed: int) -> Dict:
    """Max |h - h_fp32| over ACCURACY_STEPS random inputs from zero state:
    at the last step, at any step, and for one step from fp32's state.

    A random recurrent net can be chaotic, amplifying any difference until
    the trajectories are unrelated; then the last-step error says more about
    the net than the format. So the fp32 model itself is also run on another
    instruction set (only the summation order differs): when that diverges
    too, the one-step error is the format's real cost. stream.run gives the
    same bits as stepping, and keeps the free-running part short."""
    X = np.random.default_rng(seed + 3).standard_normal((ACCURACY_STEPS, input_size)).astype(np.float32)
    ref_model = models["fp32"]
    ref = ref_model.stream().run(X)

    def free_running(h: np.ndarray) -> Dict:
        return {"steps": ACCURACY_STEPS, "max_abs_err_final": float(np.max(np.abs(h[-1] - ref[-1]))),
                "max_abs_err_any_step": float(np.max(np.abs(h - ref)))}
    out = {}
    for fmt, m in models.items():
        if fmt != "fp32":
            out[fmt] = free_running(m.stream().run(X))
            out[fmt]["max_abs_err_one_step"] = float(np.max(_one_step_errors(ref_model, m, X)))
    isa = _other_isa(ref_model)
    if isa:
        out["fp32_other_isa"] = dict(free_running(
            lnfast.Model(ref_model.layers, isa=isa).stream().run(X)), isa=isa, vs_isa=ref_model.isa)
    return out


def _ratio(latency: Dict, num: str, den: str):
    if num in latency and den in latency and latency[den]["median_us"]:
        return latency[num]["median_us"] / latency[den]["median_us"]
    return None


def format_ratios(latency: Dict) -> Dict[str, float]:
    pairs = [(f"fp32/{f}", "fp32", f) for f in FORMATS[1:]]
    pairs += [(f"bf16/{f}", "bf16", f) for f in FORMATS[2:]]
    pairs += [(f"{f}/floor", f, floor_name(f)) for f in FORMATS]
    pairs += [(f"{p}/{f}", p, f) for p in PEERS for f in FORMATS]
    ratios = {key: _ratio(latency, num, den) for key, num, den in pairs}
    return {k: v for k, v in ratios.items() if v is not None}


def bench_format_case(kind: str, H: int, peers: List[str], effort: Dict, timer_ns: int,
                      seed: int) -> Dict:
    I = H
    case_peers = [p for p in peers if p in PEERS] if H >= PEER_MIN_H else []
    c = build_contestants(kind, I, H, case_peers, seed)
    label = f"{kind} I={I} H={H}"
    checks = np.random.default_rng(seed + 2).standard_normal((AGREEMENT_STEPS, I)).astype(np.float32)
    agreement = check_agreement(c.lnfast, c.peers, checks, label)  # raises on disagreement

    models = format_models(c.model)
    pool = np.stack(c.lnfast.inputs)
    runtimes = [renamed(c.lnfast, "fp32")]
    runtimes += [renamed(LnfastRuntime(models[f], pool), f) for f in FORMATS[1:]]
    runtimes += [renamed(FloorRuntime(models[f]), floor_name(f)) for f in FORMATS]
    runtimes += c.peers
    steps, latency = time_runtimes(runtimes, effort, timer_ns)

    weight_count = c.model.weight_count
    return {"cell": kind, "input_size": I, "hidden_size": H, "weight_count": weight_count,
            "weight_bytes": {f: nominal_weight_bytes(kind, H, weight_count, f) for f in FORMATS},
            "peers": case_peers, "steps_per_runtime": steps, "rounds": effort["rounds"],
            "agreement_max_abs_diff": agreement, "latency": latency,
            "ratios": format_ratios(latency), "accuracy": accuracy_vs_fp32(models, I, seed)}
