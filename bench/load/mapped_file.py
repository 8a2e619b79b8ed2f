"""Loading the 64 MiB model (a 2-layer torch nn.LSTM, 1024 -> 1024, fp32)
three ways, interleaved in rounds so machine load lands on all alike:

  lnfast.load("model.lnfast")                 mapped, payload checksum verified
  lnfast.load("model.lnfast", verify_checksum=False)
  lnfast.load("model.lnfast", isa=<the lowest>) panels relaid for other kernels
  lnfast.load("model.pt")                     read, converted and packed
  torch.load("model.pt", mmap=True)           torch's mapped state_dict (no module)

each followed by its first step (where a mapped model's pages fault in);
then the proportional set size (PSS, /proc/<pid>/smaps_rollup) of 1, 2 and
4 processes that each load the same .lnfast file (or the .pt checkpoint)
and step it, measured while all of them are alive. Files are read once
before timing: these are warm page-cache loads, what a service restart or
a new worker sees. Prints medians and the load average.

    python bench/load/mapped_file.py [--rounds 15] [--quick]

``measure()`` returns the numbers as a dict.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON_DIR = os.path.join(HERE, "..", "..", "python")
sys.path.insert(0, PYTHON_DIR)
sys.path.insert(0, os.path.join(HERE, "..", ".."))
import lnfast  # noqa: E402
from bench.load.checkpoint import HIDDEN, write_lstm_checkpoint  # noqa: E402


def write_files(folder: str, hidden: int) -> Dict[str, str]:
    paths = {"pt": os.path.join(folder, "model.pt"), "lnfast": os.path.join(folder, "model.lnfast")}
    write_lstm_checkpoint(paths["pt"], hidden)
    lnfast.load(paths["pt"]).save(paths["lnfast"])
    for path in paths.values():  # warm the page cache
        with open(path, "rb") as f:
            while f.read(1 << 24):
                pass
    return paths


def _timed(load, x) -> Dict[str, float]:
    t0 = time.perf_counter()
    model = load()
    t1 = time.perf_counter()
    if x is not None:
        model.stream().step(x)
    t2 = time.perf_counter()
    return {"load_ms": (t1 - t0) * 1e3, "first_step_ms": (t2 - t1) * 1e3 if x is not None else 0.0}


def load_times(paths: Dict[str, str], rounds: int) -> Dict[str, Dict[str, float]]:
    import torch

    x = np.ones(HIDDEN, np.float32)
    ways = {
        "lnfast.load(.lnfast)": lambda: _timed(lambda: lnfast.load(paths["lnfast"]), x),
        "lnfast.load(.lnfast, verify_checksum=False)":
            lambda: _timed(lambda: lnfast.load(paths["lnfast"], verify_checksum=False), x),
        "lnfast.load(.pt)": lambda: _timed(lambda: lnfast.load(paths["pt"]), x),
        "torch.load(.pt, mmap=True)":
            lambda: _timed(lambda: torch.load(paths["pt"], mmap=True, weights_only=True), None),
    }
    lowest = lnfast.supported_isas()[0]
    if lowest != lnfast.isa():  # a file packed here, loaded for other kernels
        ways[f"lnfast.load(.lnfast, isa={lowest!r}), relaid"] = \
            lambda: _timed(lambda: lnfast.load(paths["lnfast"], isa=lowest), x)
    samples: Dict[str, List[Dict[str, float]]] = {name: [] for name in ways}
    names = list(ways)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:  # rotating order
            samples[name].append(ways[name]())
    return {name: {key: float(np.median([s[key] for s in runs])) for key in runs[0]}
            for name, runs in samples.items()}


CHILD = """
import sys, numpy as np
sys.path.insert(0, {python!r})
import lnfast
model = lnfast.load({path!r})
model.stream().step(np.ones({hidden}, np.float32))  # every weight page touched
print("ready", flush=True)
sys.stdin.readline()
"""


def _pss_kib(pid: int, path: str) -> Dict[str, int]:
    """The process's PSS, and the PSS of its mapping of `path` (0 if none)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        total = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    mapped, inside = 0, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if "-" in line.split(" ", 1)[0]:  # a mapping's header line
                inside = line.rstrip().endswith(path)
            elif inside and line.startswith("Pss:"):
                mapped += int(line.split()[1])
    return {"pss_kib": total, "file_pss_kib": mapped}


def pss(path: str, processes: int) -> Dict[str, float]:
    children = [subprocess.Popen([sys.executable, "-c", CHILD.format(python=PYTHON_DIR, path=path,
                                                                      hidden=HIDDEN)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                for _ in range(processes)]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready"
        sizes = [_pss_kib(child.pid, path) for child in children]
    finally:
        for child in children:
            child.communicate("\n", timeout=60)
    return {key: float(np.median([s[key] for s in sizes])) / 1024 for key in sizes[0]}


def measure(rounds: int = 15, process_counts=(1, 2, 4)) -> Dict[str, object]:
    with tempfile.TemporaryDirectory() as folder:
        paths = write_files(folder, HIDDEN)
        times = load_times(paths, rounds)
        memory = {f"{kind} x{n}": pss(paths[kind], n) for kind in ("lnfast", "pt") for n in process_counts}
        size = os.path.getsize(paths["lnfast"]) / 2**20
    return {"file_mib": size, "times": times, "memory": memory, "load_average": os.getloadavg(),
            "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="5 rounds, 1 and 2 processes")
    args = parser.parse_args()
    before = os.getloadavg()
    result = measure(5 if args.quick else args.rounds, (1, 2) if args.quick else (1, 2, 4))
    print(f"2-layer LSTM 1024 -> 1024 fp32: .lnfast file {result['file_mib']:.1f} MiB; "
          f"medians of {result['rounds']} interleaved rounds")
    times = result["times"]
    base = times["lnfast.load(.pt)"]["load_ms"]
    for name, t in times.items():
        print(f"  {name:48s} load {t['load_ms']:8.2f} ms  first step {t['first_step_ms']:7.2f} ms"
              f"  (lnfast.load(.pt) / this: {base / t['load_ms']:7.1f}x)")
    print("PSS per process (MiB), all processes alive; 'weights' is the file mapping's share:")
    for name, m in result["memory"].items():
        print(f"  {name:12s} PSS {m['pss_kib']:8.1f}   weights {m['file_pss_kib']:8.1f}")
    print(f"load average before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
          f"after {result['load_average'][0]:.2f} {result['load_average'][1]:.2f} "
          f"{result['load_average'][2]:.2f}")


if __name__ == "__main__":
    main()
