"""One case of the latency table: a cell at one size, every runtime checked
against lnfast and then timed interleaved with it."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from harness.agreement import STEPS as AGREEMENT_STEPS
from harness.agreement import check_agreement
from harness.interleaved_timing import time_runtimes
from runtimes.contestants import build_contestants


def bench_case(kind: str, I: int, H: int, peers: List[str], include_floor: bool,
               effort: Dict, timer_ns: int, seed: int) -> Dict:
    """Raises harness.agreement.DisagreementError when a peer computes other numbers."""
    c = build_contestants(kind, I, H, peers, seed)
    label = f"{kind} I={I} H={H}"
    inputs = np.random.default_rng(seed + 2).standard_normal((AGREEMENT_STEPS, I)).astype(np.float32)
    agreement = check_agreement(c.lnfast, c.peers, inputs, label)
    runtimes = [c.lnfast] + ([c.floor] if include_floor else []) + c.peers
    steps, latency = time_runtimes(runtimes, effort, timer_ns)
    ln = latency["lnfast"]["median_us"]
    ratios = {f"{n}/lnfast": s["median_us"] / ln for n, s in latency.items() if n not in ("lnfast", "floor")}
    if "floor" in latency:
        ratios["lnfast/floor"] = ln / latency["floor"]["median_us"]
    return {"cell": kind, "input_size": I, "hidden_size": H, "weight_bytes": c.weight_bytes,
            "steps_per_runtime": steps, "rounds": effort["rounds"],
            "agreement_max_abs_diff": agreement, "latency": latency, "ratios": ratios}
