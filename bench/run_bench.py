"""lnfast's speed benchmark: per-step latency at batch 1, one thread, against
the runtimes a user would otherwise pick, and against the hardware's floor.

Usage (from the repository root; PYTHONPATH=python only for an in-place build):

    PYTHONPATH=python python bench/run_bench.py            # full run: ~5 min idle, ~7 min loaded
    PYTHONPATH=python python bench/run_bench.py --quick    # ~35-90 s, same cases, fewer steps
    PYTHONPATH=python python bench/run_bench.py --cells ln_lstm,gru --sizes 64,256,80x512
    PYTHONPATH=python python bench/run_bench.py --no-extras      # latency table only
    PYTHONPATH=python python bench/run_bench.py --extras-only    # overhead, run(X), cold caches
    PYTHONPATH=python python bench/run_bench.py --throughput     # throughput section only, ~2 min
    PYTHONPATH=python python bench/run_bench.py --smoke          # throughput section, tiny, ~10 s

Contestants, all fp32, one thread, batch 1, the same weights:
  lnfast       stream.step(x, out) with a preallocated out
  floor        one pass over lnfast's packed weight bytes with full-width
               SIMD loads (lnfast._core.testing.weight_pass_seconds): every
               weight is used once per step, so no step can beat it
  torch        PyTorch eager under inference_mode
  torchscript  torch.jit.script + torch.jit.freeze, warmed up
  onnxruntime  a one-step ONNX graph (opset 17) with the state in and out,
               ORT_ENABLE_ALL, IO binding with state fed back by rebinding
  openvino_f32, openvino_bf16
               the same ONNX graph on OpenVINO's CPU plugin, one inference
               thread, latency hint, f32 / bf16 inference precision, state
               in and out through preallocated shared-memory tensors (bf16
               is checked against lnfast's fp32 at 0.25, not 1e-4: it rounds
               weights and activations to 8 bits)
PyTorch's quantize_dynamic(nn.LSTM) is no int8 peer: on torch 2.13 it hands
back the nn.LSTM unconverted, whose outputs equal fp32's bit for bit.
Cells: ln_lstm (PyTorch fastrnns), ln_gru (haste), ln_rnn (Ba et al.), and
the plain lstm / gru (nn.LSTMCell / nn.GRUCell). Default sizes I = H in
{64, 128, 256, 512, 1024} plus I = 80, H = 512 (speech features).

Before timing a case, every runtime is stepped 20 times on the same inputs
and must agree with lnfast's h within 1e-4 (OpenVINO bf16: 0.25), or the
run aborts. Runtimes are
timed interleaved (rotating rounds of bursts, each step timed with
perf_counter_ns minus the timer's own width) and reported as medians and
p99. Peers that are not installed are skipped with a line saying so.

Throughput section (only it with --throughput,
skip it with --no-throughput): LN-LSTM and LN-GRU at I = H in {256, 512,
1024} with fp32, bf16 and int8 weights (and int8 by int8 activations),
each against its own floor, with the max |h - h_fp32| after 1,000 steps,
and ONNX Runtime, PyTorch eager and OpenVINO (f32, bf16) against them from
H = 512; model.step_many over B = 4, 16, 64 LN-LSTM streams against B
single steps, in steps/s, and in every mode against the compute peak of
its GEMM's instruction (a register-only loop timed in the same run); and
set_num_threads(2) against 1 at H = 256, 512 and 1024, outputs checked
bit-identical first. Its own PASS/MISS goals follow its tables; it goes
into latest.json under "throughput" and draws bench/results/throughput.png.
The --cells, --sizes and --runtimes of the latency table do not change its
cases (--runtimes can drop its peers); --quick, --budget and --rounds do.

Also measured (skip with --no-extras): the Python call overhead of a step at
H = 8 and whether step(x, out) allocates; stream.run(X) over T = 1000 steps
against step-by-step; and cold-cache latency, weights evicted before each
step. Then a PASS/MISS line per speed goal (latency/latency_goals.py).

The code lives in rooms below this file, which is their one entry point:
harness/ (interleaved timing, the agreement check, goal judging, machine
description, results file), runtimes/ (the cells' weights and each
contestant), latency/ (the latency table and its extras) and throughput/
(weight formats, step_many, threads).

Writes bench/results/latest.json (machine, versions, settings, every
statistic) and bench/results/latency.png (median latency vs H, log-log).
"""
from __future__ import annotations

import os

# Before NumPy or PyTorch load: their thread pools read these once.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Dict, List, Tuple  # noqa: E402

from harness.agreement import DisagreementError  # noqa: E402
from harness.console import log  # noqa: E402
from harness.goals import format_goals  # noqa: E402
from harness.interleaved_timing import timer_overhead_ns  # noqa: E402
from harness.machine_info import load_average, machine_info  # noqa: E402
from harness.results_file import merge_section, new_run_id, write_results  # noqa: E402
from latency import latency_goals  # noqa: E402
from latency.latency_case import bench_case  # noqa: E402
from runtimes.cell_params import CELL_KINDS  # noqa: E402
from runtimes.contestants import PEER_NAMES, detect_peers  # noqa: E402
from throughput.throughput_formats import PEERS as FORMAT_PEERS  # noqa: E402

DEFAULT_SIZES = "64,128,256,512,1024,80x512"
ALL_RUNTIMES = ("lnfast", "floor") + PEER_NAMES
HERE = os.path.dirname(os.path.abspath(__file__))

# Per-mode effort: seconds of timing per case (all runtimes together), the
# step-count bounds per runtime, rounds, and the extras' repetitions.
EFFORT = {
    "full": dict(budget=7.0, min_steps=300, max_steps=20000, rounds=10, warmup=3,
                 overhead_loops=300, run_rounds=15, cold_samples=40),
    "quick": dict(budget=0.6, min_steps=100, max_steps=4000, rounds=5, warmup=2,
                  overhead_loops=40, run_rounds=4, cold_samples=6),
}


def parse_sizes(text: str) -> List[Tuple[int, int]]:
    """'64,80x512' -> [(64, 64), (80, 512)]: H alone means I = H."""
    sizes = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        i, _, h = item.lower().partition("x")
        sizes.append((int(i), int(h)) if h else (int(i), int(i)))
    if not sizes or min(min(s) for s in sizes) < 1:
        raise argparse.ArgumentTypeError(f"bad --sizes {text!r}")
    return sizes


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="~1 minute: fewer steps per case")
    p.add_argument("--cells", default=",".join(CELL_KINDS),
                   help=f"comma-separated subset of {','.join(CELL_KINDS)}")
    p.add_argument("--sizes", type=parse_sizes, default=parse_sizes(DEFAULT_SIZES),
                   help=f"comma-separated H or IxH (default {DEFAULT_SIZES})")
    p.add_argument("--runtimes", default=",".join(ALL_RUNTIMES),
                   help="comma-separated subset of " + ",".join(ALL_RUNTIMES))
    p.add_argument("--budget", type=float, help="seconds of timing per case (overrides the mode)")
    p.add_argument("--rounds", type=int, help="interleaved rounds per case")
    extras = p.add_mutually_exclusive_group()
    extras.add_argument("--no-extras", action="store_true",
                        help="skip call overhead, run(X) and cold-cache measurements")
    extras.add_argument("--extras-only", action="store_true", help="only those measurements")
    p.add_argument("--throughput", action="store_true",
                   help="only the throughput section (weight formats, step_many, threads)")
    p.add_argument("--no-throughput", action="store_true", help="skip the throughput section")
    p.add_argument("--smoke", action="store_true",
                   help="the throughput section at its smallest settings, to prove it runs "
                        "(implies --throughput; the numbers mean nothing)")
    p.add_argument("--evict-mib", type=int, help="cold-cache eviction buffer (default 1.5x the LLC, >= 64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    p.add_argument("--no-plot", action="store_true")
    args = p.parse_args(argv)
    args.throughput = args.throughput or args.smoke
    if args.throughput and (args.no_throughput or args.extras_only):
        p.error("--throughput/--smoke cannot be combined with --no-throughput or --extras-only")
    args.cells = [c.strip() for c in args.cells.split(",") if c.strip()]
    bad = [c for c in args.cells if c not in CELL_KINDS]
    if bad:
        p.error(f"unknown cells {bad}; choose from {','.join(CELL_KINDS)}")
    args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    bad = [r for r in args.runtimes if r not in ALL_RUNTIMES]
    if bad or "lnfast" not in args.runtimes:
        p.error(f"--runtimes must include lnfast and come from {','.join(ALL_RUNTIMES)}")
    return args


def pin_to_one_thread(peers: List[str]) -> None:
    import lnfast
    if hasattr(lnfast, "set_num_threads"):  # one thread is its default; say so anyway
        lnfast.set_num_threads(1)
    if peers:
        import torch
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:  # already fixed by an earlier parallel call
            pass


def run_extras(args, effort: Dict, peers: List[str], timer_ns: int) -> Dict:
    from latency.call_overhead import measure_allocations, measure_call_overhead
    from latency.cold_cache import default_evict_bytes, measure_cold_steps
    from latency.run_vs_step import measure_run_vs_step

    with_torch = "torch" in peers
    extras = {}
    log("extras: Python call overhead and allocations at H = 8")
    extras["call_overhead"] = measure_call_overhead(effort["overhead_loops"], with_torch)
    extras["allocations"] = measure_allocations()
    log("extras: run(X) vs step-by-step, T = 1000")
    extras["run_vs_step"] = measure_run_vs_step((256, 512), 1000, effort["run_rounds"])
    evict = (args.evict_mib << 20) if args.evict_mib else default_evict_bytes()
    log(f"extras: cold caches ({evict >> 20} MiB evicted before each step)")
    extras["cold_cache"] = {"evict_mib": evict >> 20, "sizes": measure_cold_steps(
        (256, 1024), effort["cold_samples"], evict, with_torch, timer_ns)}
    return extras


def run_latency_sections(args, effort: Dict, peers: List[str], timer_ns: int, header: Dict,
                         json_path: str, started: float) -> int:
    """The latency table, the extras and their goals; writes latest.json
    (with this run's id, so the throughput section can add to it)."""
    machine = header["machine"]
    cases = []
    if not args.extras_only:
        todo = [(k, i, h) for k in args.cells for (i, h) in args.sizes]
        for n, (kind, I, H) in enumerate(todo, 1):
            t0 = time.time()
            try:
                case = bench_case(kind, I, H, peers, "floor" in args.runtimes, effort, timer_ns,
                                  args.seed)
            except DisagreementError as e:
                print(f"ABORT: {e}", file=sys.stderr)
                return 2
            cases.append(case)
            diffs = case["agreement_max_abs_diff"]
            worst = max((d for p, d in diffs.items() if not p.endswith("bf16")), default=0.0)
            bf16 = "".join(f", {p} {d:.1e}" for p, d in diffs.items() if p.endswith("bf16"))
            log(f"[{n}/{len(todo)}] {kind} I={I} H={H}: {case['steps_per_runtime']} steps per runtime, "
                f"agreement max |dh| {worst:.1e}{bf16}, {time.time() - t0:.1f} s")

    extras = {} if args.no_extras else run_extras(args, effort, peers, timer_ns)

    from latency.report_table import extras_report, latency_table
    measured = [r for r in ALL_RUNTIMES if any(r in c["latency"] for c in cases)]
    print()
    if cases:
        print("Per-step latency in microseconds (median, p99); ratios of medians")
        print(latency_table(cases, measured))
        print()
    if extras:
        print(extras_report(extras))
        print()
    verdicts = latency_goals.judge_all(cases, extras)
    print(format_goals(verdicts, header=latency_goals.HEADER))

    results = dict(header)
    results.update({"settings": {"mode": "quick" if args.quick else "full", **effort,
                                 "cells": args.cells, "sizes": args.sizes, "runtimes": args.runtimes,
                                 "seed": args.seed, "threads": 1, "batch": 1, "dtype": "float32"},
                    "cases": cases, "extras": extras, "goals": verdicts,
                    "elapsed_s": time.time() - started})
    write_results(json_path, results)
    print(f"\nwrote {json_path}")
    if cases and not args.no_plot:
        from latency.plot_latency import draw_latency_png
        png_path = os.path.join(args.out_dir, "latency.png")
        cells = [k for k in args.cells if any(c["cell"] == k for c in cases)]
        draw_latency_png(cases, measured, cells, png_path,
                         f"lnfast vs peers, batch 1, one thread, fp32 (openvino_bf16: bf16 inference "
                         f"precision; {machine['cpu_model']}, isa {machine['lnfast_isa']})")
        print(f"wrote {png_path}")
    return 0


def run_throughput_section(args, peers: List[str], timer_ns: int, header: Dict,
                           json_path: str) -> int:
    """Formats, step_many and threads; their tables and goals; merged into
    latest.json under "throughput" (a fresh file if another run wrote it)."""
    from throughput.throughput_goals import judge_throughput
    from throughput.throughput_report import throughput_report
    from throughput.throughput_section import run_throughput, throughput_settings

    machine = header["machine"]
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    settings = throughput_settings(mode, args.budget, args.rounds)
    load = load_average()
    log(f"throughput section ({mode})" + (f", load average {load:.2f}" if load is not None else ""))
    try:
        tp = run_throughput(settings, [p for p in peers if p in FORMAT_PEERS],
                            timer_ns, args.seed)
    except DisagreementError as e:
        print(f"ABORT: {e}", file=sys.stderr)
        return 2
    tp["goals"] = judge_throughput(tp, machine)
    load = [tp["load_average_start"], tp["load_average_end"]]
    print()
    print(f"Throughput section ({mode}; {machine['logical_cpus']} logical CPUs, load average "
          + (f"{load[0]:.2f} at its start, {load[1]:.2f} at its end)" if None not in load else "unknown)"))
    print()
    print(throughput_report(tp))
    print()
    print(format_goals(tp["goals"], header="Throughput goals (medians):"))
    fresh = dict(header, settings={"mode": mode, "sections": ["throughput"], "seed": args.seed})
    merged = merge_section(json_path, header["run_id"], "throughput", tp, fresh)
    print(f"\n{'added to' if merged else 'wrote'} {json_path} (key \"throughput\")")
    if not args.no_plot:
        from throughput.plot_throughput import draw_throughput_png
        png_path = os.path.join(args.out_dir, "throughput.png")
        draw_throughput_png(tp, png_path, f"lnfast throughput modes ({machine['cpu_model']}, isa "
                            f"{machine['lnfast_isa']}, load average {load[0]:.1f} at start; "
                            f"medians)" if load[0] is not None else "lnfast throughput modes")
        print(f"wrote {png_path}")
    return 0


def main(argv=None) -> int:
    args = parse_args(argv)
    effort = dict(EFFORT["quick" if args.quick else "full"])
    if args.budget is not None:
        effort["budget"] = args.budget
    if args.rounds is not None:
        effort["rounds"] = args.rounds
    started = time.time()

    skipped = {}
    peers = []
    for name, why in detect_peers().items():
        if name not in args.runtimes:
            continue
        if why:
            skipped[name] = why
            print(f"skipping {name}: {why}")
        else:
            peers.append(name)
    pin_to_one_thread(peers)

    machine = machine_info()
    what = ("throughput section only" if args.throughput
            else "one thread each, batch 1, fp32")
    print(f"lnfast {machine['lnfast_version']} ({machine['git_revision']}), isa {machine['lnfast_isa']}, "
          f"{machine['cpu_model']}, {machine['logical_cpus']} logical CPUs, load average "
          f"{machine['load_average_at_start']}; torch {machine['torch']}, onnxruntime "
          f"{machine['onnxruntime']}, openvino {machine['openvino']}; {what}")
    timer_ns = timer_overhead_ns()
    header = {"run_id": new_run_id(), "machine": machine, "skipped": skipped,
              "timer_overhead_ns": timer_ns}
    os.makedirs(args.out_dir, exist_ok=True)
    json_path = os.path.join(args.out_dir, "latest.json")

    if not args.throughput:
        status = run_latency_sections(args, effort, peers, timer_ns, header, json_path, started)
        if status:
            return status
    if args.throughput or not (args.no_throughput or args.extras_only):
        status = run_throughput_section(args, peers, timer_ns, header, json_path)
        if status:
            return status
    print(f"total {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
