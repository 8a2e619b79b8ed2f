"""The benchmark's throughput section runs end to end (bench/run_bench.py
--smoke): a subprocess as a user runs it, smallest settings, results in a
temporary directory so the committed bench/results stay untouched. The
numbers of a smoke run mean nothing; only that every part ran and judged."""
import importlib.util
import json
import os
import subprocess
import sys

import lnfast
from paths import ROOT

BENCH = str(ROOT / "bench" / "run_bench.py")
GOALS = ["bf16 >= 1.8x faster than fp32", "int8 >= 3x faster than fp32",
         "bf16 / its own floor", "int8 / its own floor",
         "int8a8 faster than bf16", "int8a8 / its own floor",
         "onnxruntime (fp32) / lnfast-bf16", "torch eager / lnfast-bf16",
         "step_many B=16", "of the FMA peak", "two threads >= 1.5x one thread at H = 256",
         "two threads >= 1.6x one thread at H = 1024"]


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def run_smoke(out_dir, *extra):
    env = dict(os.environ)
    # The lnfast under test, wherever it was imported from (installed or in place).
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(lnfast.__file__)), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, BENCH, "--smoke", "--out-dir", str(out_dir), *extra],
                          capture_output=True, text=True, timeout=120, env=env)


def goal_status(stdout: str, title: str) -> str:
    lines = [line.split() for line in stdout.splitlines() if title in line]
    assert lines, f"no goal line for {title!r}"
    return lines[0][0]


def test_throughput_smoke(tmp_path):
    plot = has("matplotlib")
    proc = run_smoke(tmp_path, *([] if plot else ["--no-plot"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "Throughput goals (medians):" in out
    for title in ("Weight formats", "step_many (fp32) vs B separate", "step_many against the compute peak",
                  "Intra-step threads"):
        assert title in out
    for title in GOALS:
        assert goal_status(out, title) in ("PASS", "MISS", "N/A")
    # Peers that are installed must have been measured; absent ones skipped, not failed.
    for peer, title, needs in (("torch", "torch eager / lnfast-bf16", ["torch"]),
                               ("onnxruntime", "onnxruntime (fp32) / lnfast-bf16",
                                ["torch", "onnx", "onnxruntime"])):
        expected = ("PASS", "MISS") if all(map(has, needs)) else ("N/A",)
        assert goal_status(out, title) in expected, (peer, out)

    with open(tmp_path / "latest.json") as f:
        results = json.load(f)
    tp = results["throughput"]
    assert tp["settings"]["mode"] == "smoke"
    assert tp["formats"] and tp["step_many"] and tp["threads"]
    assert {"bf16", "int8", "int8a8"} <= set(tp["formats"][0]["accuracy"])
    assert all(c["identical"] for c in tp["threads"])
    # Every mode's step_many, each against the peak measured beside it.
    assert {c["mode"] for c in tp["step_many"]} == {"fp32", "bf16", "int8a8"}
    assert all(c["peak_gops"] > 0 and c["fraction_of_peak"] > 0 for c in tp["step_many"])
    assert len(tp["goals"]) == len(GOALS)
    assert (tmp_path / "throughput.png").exists() == plot


def test_results_merge_only_within_one_run(tmp_path):
    sys.path.insert(0, os.path.dirname(BENCH))
    try:
        from harness.results_file import merge_section, write_results
    finally:
        sys.path.remove(os.path.dirname(BENCH))
    path = str(tmp_path / "latest.json")
    write_results(path, {"run_id": "a", "cases": [1]})
    assert merge_section(path, "a", "throughput", {"x": 1}, {"machine": "m"})
    with open(path) as f:
        assert json.load(f) == {"run_id": "a", "cases": [1], "throughput": {"x": 1}}
    # Another run's file is replaced, not mixed with this run's numbers.
    assert not merge_section(path, "b", "throughput", {"x": 2}, {"machine": "m"})
    with open(path) as f:
        assert json.load(f) == {"machine": "m", "run_id": "b", "throughput": {"x": 2}}
