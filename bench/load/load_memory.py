"""How much a process grows by loading the checkpoint, per weight format,
against the bytes of its packed weights: the goal is at most 1.25x, i.e.
the panels and nothing else (docs/speed.md#loading).

    python bench/load/load_memory.py [--checkpoint PATH]

Each format loads in a fresh interpreter, so nothing an earlier load left
in the allocator counts; RSS is read from /proc/self/status (Linux).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "python"))  # an installed lnfast comes after
from bench.load.checkpoint import default_path, write_lstm_checkpoint  # noqa: E402

GOAL = 1.25
FORMATS = ("fp32", "bf16", "int8")

CHILD = r"""
import gc, json, sys
import lnfast

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

path, weights = sys.argv[1], sys.argv[2]
gc.collect()
before = rss()
model = lnfast.load(path, weights=weights)
gc.collect()
after = rss()
print(json.dumps({"grew": after - before, "packed": model.weight_bytes}))
"""


def growth_in_child(path: str, weights: str) -> Dict[str, float]:
    """{"grew": bytes the process grew by, "packed": packed weight bytes,
    "ratio": their quotient} for lnfast.load(path, weights=weights)."""
    import lnfast

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(lnfast.__file__)), os.environ.get("PYTHONPATH", "")]))
    child = subprocess.run([sys.executable, "-c", CHILD, path, weights], capture_output=True,
                           text=True, timeout=300, env=env)
    if child.returncode != 0:
        raise RuntimeError(f"the {weights} load failed:\n{child.stderr[-3000:]}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result["ratio"] = result["grew"] / result["packed"]
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint to load (default: write the 2x1024 LSTM)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.checkpoint or write_lstm_checkpoint(default_path(tmp))
        print(f"lnfast.load({os.path.basename(path)}): process growth vs packed weight bytes "
              f"(goal <= {GOAL}x), load average {os.getloadavg()[0]:.2f}")
        for weights in FORMATS:
            r = growth_in_child(path, weights)
            verdict = "PASS" if r["ratio"] <= GOAL else "MISS"
            print(f"  {weights:5s} grew {r['grew'] / 2**20:7.1f} MiB for {r['packed'] / 2**20:6.1f} MiB "
                  f"packed: {r['ratio']:.2f}x  {verdict}")


if __name__ == "__main__":
    main()
