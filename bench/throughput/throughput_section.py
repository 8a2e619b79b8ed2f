"""The throughput section of the benchmark: weight
formats against their floors and the fp32 peers, step_many against single
steps, and two threads against one. run_bench.py calls run_throughput and
prints, judges, saves and plots what it returns.
"""
from __future__ import annotations

import time
from typing import Dict, List, Optional

import lnfast
from harness.console import log
from harness.machine_info import load_average
from throughput.throughput_formats import bench_format_case
from throughput.throughput_step_many import KIND as STEP_MANY_KIND
from throughput.throughput_step_many import STEP_MANY_MODES, bench_step_many_case
from throughput.throughput_threads import bench_threads_case

# Per mode: seconds of timing per case (all its contestants together), bounds
# on samples per contestant (a step_many sample is a whole tick of B steps,
# so it needs fewer), rounds, warmup steps per burst, and the cases (step_many
# in every mode; single steps only in fp32's). "smoke"
# only proves the section runs: one case per job, numbers not meaningful.
SETTINGS = {
    "full": dict(budget=5.0, min_steps=200, min_ticks=30, max_steps=20000, rounds=10, warmup=3,
                 cells=("ln_lstm", "ln_gru"), format_sizes=(256, 512, 1024),
                 step_many_sizes=(256, 512, 1024), batches=(4, 16, 64), thread_sizes=(256, 512, 1024)),
    "quick": dict(budget=0.8, min_steps=60, min_ticks=8, max_steps=4000, rounds=5, warmup=2,
                  cells=("ln_lstm", "ln_gru"), format_sizes=(256, 512, 1024),
                  step_many_sizes=(256, 512, 1024), batches=(4, 16, 64), thread_sizes=(256, 512, 1024)),
    "smoke": dict(budget=0.15, min_steps=10, min_ticks=3, max_steps=400, rounds=2, warmup=1,
                  cells=("ln_lstm",), format_sizes=(512,), step_many_sizes=(256,), batches=(16,),
                  thread_sizes=(256,)),
}


def throughput_settings(mode: str, budget: Optional[float], rounds: Optional[int]) -> Dict:
    s = dict(SETTINGS[mode], mode=mode)
    if budget is not None:
        s["budget"] = budget
    if rounds is not None:
        s["rounds"] = rounds
    return s


def run_throughput(settings: Dict, peers: List[str], timer_ns: int, seed: int) -> Dict:
    """Every case of the section; raises agreement.DisagreementError if a
    peer, step_many or two threads compute different numbers."""
    started = time.time()
    lnfast.set_num_threads(1)
    out = {"settings": {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()},
           "load_average_start": load_average(), "formats": [], "step_many": [], "threads": []}
    todo = ([("formats", k, H, None) for k in settings["cells"] for H in settings["format_sizes"]]
            + [("step_many", (STEP_MANY_KIND, mode), H, B) for mode in STEP_MANY_MODES
               for H in settings["step_many_sizes"] for B in settings["batches"]]
            + [("threads", k, H, None) for k in settings["cells"] for H in settings["thread_sizes"]])
    for n, (job, kind, H, B) in enumerate(todo, 1):
        t0 = time.time()
        if job == "formats":
            case = bench_format_case(kind, H, peers, settings, timer_ns, seed)
            what = f"{case['steps_per_runtime']} steps per runtime"
        elif job == "step_many":
            kind, mode = kind
            case = bench_step_many_case(H, B, settings, timer_ns, seed, mode)
            what = (f"{mode} B={B}, {case['ticks_per_runtime']} ticks per runtime, "
                    f"{case['fraction_of_peak']:.0%} of the {case['peak']} peak")
        else:
            case = bench_threads_case(kind, H, settings, timer_ns, seed)
            what = f"{case['steps_per_runtime']} steps per runtime"
        out[job].append(case)
        log(f"[throughput {n}/{len(todo)}] {job} {kind} H={H}: {what}, {time.time() - t0:.1f} s")
    lnfast.set_num_threads(1)
    out["load_average_end"] = load_average()
    out["elapsed_s"] = time.time() - started
    return out
