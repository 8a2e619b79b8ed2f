"""lnfast.load of the 64 MiB checkpoint against torch.load +
nn.LSTM.load_state_dict on the same file, and against one plain read of it,
interleaved in one run: every round times each contestant once, the order
rotating, so the shared machine's drift lands on all alike. Prints medians,
the ratios and the load average. The goal: lnfast.load (fp32) at most half
of torch's time.

    python bench/load/load_time.py [--quick] [--rounds N] [--checkpoint PATH] [--fresh]

The file sits in the page cache after the first round for every
contestant alike: this times parsing, converting and packing, not the disk.
By default every contestant loads repeatedly in this one process, which
then reuses memory it has freed (torch's storages come from the C heap,
warm after the first round). --fresh times instead the first load of a new
interpreter per sample (imports, and torch's module, built before the
clock starts): what a service pays when it starts, every contestant on
memory the process has never touched.
torch's module is built once, outside the timing (its random initialisation
is not part of loading), and torch keeps its default thread count.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))  # an installed lnfast comes after
import lnfast  # noqa: E402
from bench.load.checkpoint import default_path, torch_module, write_lstm_checkpoint  # noqa: E402

GOAL = 0.5  # lnfast fp32 / torch
WEIGHTS = ("fp32", "bf16", "int8")
CONTESTANT_NAMES = (["read the file", "torch.load + load_state_dict",
                     "torch.load(mmap) + load_state_dict"]
                    + [f"lnfast.load {w}" for w in WEIGHTS])


def contestants(path: str) -> Dict[str, Callable[[], object]]:
    import torch

    module = torch_module()

    def torch_load():
        module.load_state_dict(torch.load(path, weights_only=True))
        return module

    def torch_mmap():
        module.load_state_dict(torch.load(path, weights_only=True, mmap=True))
        return module

    def plain_read():
        with open(path, "rb") as f:
            return f.read()

    timed = {"read the file": plain_read, "torch.load + load_state_dict": torch_load,
             "torch.load(mmap) + load_state_dict": torch_mmap}
    for weights in WEIGHTS:
        timed[f"lnfast.load {weights}"] = lambda w=weights: lnfast.load(path, weights=w)
    assert list(timed) == CONTESTANT_NAMES
    return timed


def measure(path: str, rounds: int) -> Dict[str, Dict[str, List[float]]]:
    """{"wall": {name: seconds per round}, "cpu": {name: CPU seconds of
    every thread of the process}}: the CPU time says what a load costs
    when the shared machine leaves no core idle."""
    runs = contestants(path)
    for run in runs.values():  # warm: page cache, imports, allocator
        run()
    samples: Dict[str, Dict[str, List[float]]] = {"wall": {n: [] for n in runs},
                                                  "cpu": {n: [] for n in runs}}
    order = list(runs)
    for r in range(rounds):
        shift = r % len(order)
        for name in order[shift:] + order[:shift]:
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            result = runs[name]()
            samples["wall"][name].append(time.perf_counter() - t0)
            samples["cpu"][name].append(time.process_time() - c0)
            del result
    return samples


def measure_fresh(path: str, rounds: int) -> Dict[str, Dict[str, List[float]]]:
    """measure(), one new interpreter per sample, rotating like measure()."""
    import json
    import subprocess

    names = CONTESTANT_NAMES
    samples: Dict[str, Dict[str, List[float]]] = {"wall": {n: [] for n in names},
                                                  "cpu": {n: [] for n in names}}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(lnfast.__file__))] +
        [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    for r in range(rounds + 1):  # the first round warms the page cache only
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            child = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", name,
                                    "--checkpoint", path], env=env, capture_output=True,
                                   text=True, check=True)
            if r:
                got = json.loads(child.stdout.strip().splitlines()[-1])
                samples["wall"][name].append(got["wall"])
                samples["cpu"][name].append(got["cpu"])
    return samples


def child(name: str, path: str) -> None:
    """One timed load in this fresh interpreter; prints {"wall", "cpu"}."""
    import json

    run = contestants(path)[name]
    c0, t0 = time.process_time(), time.perf_counter()
    run()
    print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}))


def report(samples: Dict[str, Dict[str, List[float]]], load_before: float,
           load_after: float, fresh: bool = False) -> str:
    import torch

    cpu = {name: float(np.median(s)) * 1e3 for name, s in samples["cpu"].items()}
    samples = samples["wall"]
    median = {name: float(np.median(s)) * 1e3 for name, s in samples.items()}
    torch_ms, read_ms = median["torch.load + load_state_dict"], median["read the file"]
    how = "first loads of a fresh interpreter each" if fresh else "interleaved rounds in one process"
    lines = [f"Loading a 2-layer LSTM, H = 1024 (64 MiB fp32), medians of {len(samples['read the file'])} "
             f"{how}; torch threads {torch.get_num_threads()}, lnfast kernels {lnfast.isa()}"]
    for name, ms in median.items():
        extra = ""
        if name.startswith("lnfast"):
            extra = f"   {ms / torch_ms:.2f}x torch   {ms / read_ms:.2f}x a plain read"
        lines.append(f"  {name:36s} {ms:8.1f} ms  (CPU {cpu[name]:6.1f} ms){extra}")
    ratio = median["lnfast.load fp32"] / torch_ms
    lines.append(f"  goal: lnfast.load fp32 <= {GOAL}x torch.load + load_state_dict: "
                 f"{ratio:.2f}x {'PASS' if ratio <= GOAL else 'MISS'}")
    lines.append(f"  CPU time, lnfast.load fp32 / torch: {cpu['lnfast.load fp32'] / cpu['torch.load + load_state_dict']:.2f}x")
    lines.append(f"  load average before {load_before:.2f}, after {load_after:.2f}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--checkpoint", help="a checkpoint to load (default: write the 2x1024 LSTM)")
    parser.add_argument("--fresh", action="store_true",
                        help="time the first load of a new interpreter per sample")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.checkpoint or write_lstm_checkpoint(default_path(tmp))
        before = os.getloadavg()[0]
        rounds = 3 if args.quick else args.rounds
        samples = measure_fresh(path, rounds) if args.fresh else measure(path, rounds)
        print(report(samples, before, os.getloadavg()[0], args.fresh))


if __name__ == "__main__":
    main()
