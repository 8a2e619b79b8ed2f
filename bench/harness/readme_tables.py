"""README's speed tables, printed from a benchmark run's results file, so
that what README shows is what a run measured, not numbers copied by hand.

    python bench/harness/readme_tables.py [bench/results/latest.json]

Prints two Markdown tables: the batch-1 latency table of "## Speed" (a
subset of the run's cases, one row each) and the summary table of
"## Reduced precision, many streams, more cores"; and the run's machine
line and load averages, which README quotes beside them.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Dict, List

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_RESULTS = os.path.join(HERE, "..", "results", "latest.json")

CELL_NAMES = {"ln_lstm": "LN-LSTM", "ln_gru": "LN-GRU", "ln_rnn": "LN-RNN", "lstm": "LSTM", "gru": "GRU"}
# (cell, H = I) rows of the latency table.
LATENCY_ROWS = [("ln_lstm", 64), ("ln_lstm", 128), ("ln_lstm", 256), ("ln_lstm", 512),
                ("ln_lstm", 1024), ("ln_gru", 64), ("ln_gru", 256), ("ln_gru", 1024),
                ("ln_rnn", 64), ("ln_rnn", 256), ("lstm", 256), ("gru", 256)]
LATENCY_RUNTIMES = [("lnfast", "lnfast"), ("floor", "floor"), ("torch", "PyTorch eager"),
                    ("torchscript", "TorchScript"), ("onnxruntime", "ONNX Runtime"),
                    ("openvino_f32", "OpenVINO f32"), ("openvino_bf16", "OpenVINO bf16")]
LATENCY_RATIOS = [("torch", "eager / lnfast"), ("onnxruntime", "ORT / lnfast"),
                  ("openvino_f32", "OV f32 / lnfast")]
SIZES = (256, 512, 1024)


def us(value: float) -> str:
    """Three significant figures (trailing zeros kept), whole microseconds from 100."""
    return f"{value:.0f}" if value >= 100 else f"{value:#.3g}"


def kib(nbytes: int) -> str:
    return f"{nbytes // 1024} KiB" if nbytes < 1 << 20 else f"{nbytes / (1 << 20):g} MiB"


def median(latency: Dict[str, dict], name: str):
    entry = latency.get(name)
    return None if entry is None else entry["median_us"]


def latency_table(results: dict) -> List[str]:
    cases = {(c["cell"], c["hidden_size"]): c for c in results["cases"]
             if c["input_size"] == c["hidden_size"]}
    header = (["cell", "H = I", "weights"] + [title for _, title in LATENCY_RUNTIMES]
              + [title for _, title in LATENCY_RATIOS] + ["lnfast / floor"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for cell, size in LATENCY_ROWS:
        case = cases.get((cell, size))
        if case is None:
            continue
        lat = case["latency"]
        mine = median(lat, "lnfast")
        row = [CELL_NAMES[cell], str(size), kib(case["weight_bytes"])]
        row += [us(m) if (m := median(lat, name)) is not None else "-" for name, _ in LATENCY_RUNTIMES]
        row += [f"{m / mine:.1f}x" if (m := median(lat, name)) is not None else "-"
                for name, _ in LATENCY_RATIOS]
        row.append(f"{mine / median(lat, 'floor'):.2f}")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def throughput_table(results: dict, cell: str = "ln_lstm") -> List[str]:
    t = results["throughput"]
    formats = {f["hidden_size"]: f for f in t["formats"] if f["cell"] == cell}
    many = {(s["mode"], s["hidden_size"], s["batch"]): s for s in t["step_many"] if s["cell"] == cell}
    threads = {s["hidden_size"]: s for s in t["threads"] if s["cell"] == cell}

    def per_size(make) -> List[str]:
        return [make(h) if h in formats else "-" for h in SIZES]

    def step(h: int, fmt: str) -> float:
        return formats[h]["latency"][fmt]["median_us"]

    def ratio(h: int, key: str) -> float:
        return formats[h]["ratios"][key]

    def ov_bf16(h: int) -> str:
        peer = formats[h]["latency"].get("openvino_bf16")
        if peer is None:
            return "-"
        m = peer["median_us"]
        return f"{us(m)} us ({m / step(h, 'bf16'):.1f}x, {m / step(h, 'int8a8'):.1f}x)"

    def fraction(mode: str, h: int, batch: int) -> str:
        s = many.get((mode, h, batch))
        return "-" if s is None else f"{100 * s['fraction_of_peak']:.0f}%"

    def peak(mode: str) -> str:
        values = [s["peak_gops"] for (m, _, _), s in many.items() if m == mode]
        return f"~{sum(values) / len(values):.0f}" if values else "?"

    rows = [
        ("fp32 step", per_size(lambda h: f"{us(step(h, 'fp32'))} us")),
        ("bf16 step (x faster than fp32, / its own floor)",
         per_size(lambda h: f"{us(step(h, 'bf16'))} us ({ratio(h, 'fp32/bf16'):.1f}x, "
                            f"{ratio(h, 'bf16/floor'):.2f})")),
        ("int8 step (x faster than fp32, / its own floor)",
         per_size(lambda h: f"{us(step(h, 'int8'))} us ({ratio(h, 'fp32/int8'):.1f}x, "
                            f"{ratio(h, 'int8/floor'):.2f})")),
        ("int8 x int8 activations step (x faster than bf16, / its own floor)",
         per_size(lambda h: f"{us(step(h, 'int8a8'))} us ({ratio(h, 'bf16/int8a8'):.1f}x, "
                            f"{ratio(h, 'int8a8/floor'):.2f})")),
        ("OpenVINO bf16 step (/ lnfast-bf16, / lnfast int8 x int8)", per_size(ov_bf16)),
        ("step_many, B = 16, vs 16 single steps",
         per_size(lambda h: f"{many[('fp32', h, 16)]['ratio']:.1f}x" if ("fp32", h, 16) in many else "-")),
        (f"step_many fp32, B = 16 / 64: share of the FMA peak ({peak('fp32')} GFLOP/s)",
         per_size(lambda h: f"{fraction('fp32', h, 16)} / {fraction('fp32', h, 64)}")),
        (f"step_many bf16, B = 16: share of the vdpbf16ps peak ({peak('bf16')} GOP/s)",
         per_size(lambda h: fraction("bf16", h, 16))),
        (f"step_many int8 x int8, B = 16: share of the vpdpbusd peak ({peak('int8a8')} GOP/s)",
         per_size(lambda h: fraction("int8a8", h, 16))),
        ("2 threads vs 1 (`set_num_threads(2)`)",
         [f"{threads[h]['ratio']:.2f}x" if h in threads else "-" for h in SIZES]),
    ]
    lines = [f"| {CELL_NAMES[cell]}, one thread | " + " | ".join(f"H = {h}" for h in SIZES) + " |",
             "|---|---|---|---|"]
    lines += ["| " + " | ".join([label] + cells) + " |" for label, cells in rows]
    return lines


def main(argv: List[str]) -> None:
    path = argv[1] if len(argv) > 1 else DEFAULT_RESULTS
    with open(path) as f:
        results = json.load(f)
    machine = results["machine"]
    print(f"run {results.get('run_id')}: {machine['cpu_model']}, {machine['logical_cpus']} CPUs, "
          f"lnfast {machine['lnfast_version']} ({machine['git_revision']}), "
          f"load average at start {machine['load_average_at_start']}")
    if "throughput" in results:
        t = results["throughput"]
        print(f"throughput section: load average {t['load_average_start']} at its start, "
              f"{t['load_average_end']} at its end")
    print()
    print("\n".join(latency_table(results)))
    if "throughput" in results:
        print()
        print("\n".join(throughput_table(results)))


if __name__ == "__main__":
    main(sys.argv)
