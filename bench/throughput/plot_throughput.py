"""bench/results/throughput.png: top row, per-format step latency against H
with each format's floor (dashed, same colour) and the fp32 peers; bottom
row, step_many's speedup over single steps, its fraction of the compute peak
per mode at B = 16, and two threads' over one, with the throughput goals as
horizontal lines."""
from __future__ import annotations

from typing import Dict, List

from throughput.throughput_formats import FORMATS, PEERS, floor_name

COLORS = {"fp32": "C0", "bf16": "C1", "int8": "C2", "int8a8": "C5", "onnxruntime": "C4", "torch": "C3",
          "openvino_f32": "C6", "openvino_bf16": "C7"}
STEP_MANY_GOAL, THREADS_GOAL, THREADS_GOAL_256 = 6.0, 1.6, 1.5
PEAK_GOAL = 0.75


def _formats_panel(ax, cases: List[Dict], cell: str) -> None:
    import matplotlib
    mine = sorted((c for c in cases if c["cell"] == cell), key=lambda c: c["hidden_size"])
    for name in FORMATS + PEERS:
        pts = [(c["hidden_size"], c["latency"][name]["median_us"]) for c in mine if name in c["latency"]]
        if pts:
            ax.plot(*zip(*pts), marker="o" if name in FORMATS else "s", color=COLORS[name],
                    label=name if name in FORMATS or name.startswith("openvino") else f"{name} (fp32)")
        floor = [(c["hidden_size"], c["latency"][floor_name(name)]["median_us"])
                 for c in mine if floor_name(name) in c["latency"]]
        if floor:
            ax.plot(*zip(*floor), linestyle="--", color=COLORS[name], alpha=0.7,
                    label=f"{name} floor")
    ax.set(xscale="log", yscale="log", xlabel="hidden size H (I = H)",
           ylabel="median latency per step (us)", title=f"{cell}: weight formats")
    ticks = [c["hidden_size"] for c in mine]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)


def _bars(ax, groups: List[str], series: Dict[str, List[float]], goal: float, goal_label: str,
          title: str, ylabel: str) -> None:
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        xs = [g + (k - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.axhline(goal, color="k", linestyle=":", label=goal_label)
    top = max([goal] + [v for values in series.values() for v in values])
    ax.set_ylim(0, top * 1.3)  # headroom for the legend above the tallest bar
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, fontsize=8)
    ax.set(title=title, ylabel=ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", ncol=2)


def _step_many_panel(ax, cases: List[Dict]) -> None:
    cases = [c for c in cases if "ratio" in c]  # fp32, timed against single steps
    sizes = sorted({c["hidden_size"] for c in cases})
    batches = sorted({c["batch"] for c in cases})
    ratio = {(c["hidden_size"], c["batch"]): c["ratio"] for c in cases}
    series = {f"B={b}": [ratio.get((h, b), 0.0) for h in sizes] for b in batches}
    _bars(ax, [f"H={h}" for h in sizes], series, STEP_MANY_GOAL, f"goal at B=16: {STEP_MANY_GOAL:g}x",
          "step_many vs B single steps (ln_lstm)", "steps/s ratio")


def _peak_panel(ax, cases: List[Dict]) -> None:
    sizes = sorted({c["hidden_size"] for c in cases})
    modes = list(dict.fromkeys(c["mode"] for c in cases))
    frac = {(c["mode"], c["hidden_size"]): c["fraction_of_peak"] for c in cases if c["batch"] == 16}
    series = {f"{m} (peak: {next(c['peak'] for c in cases if c['mode'] == m)})":
              [frac.get((m, h), 0.0) for h in sizes] for m in modes}
    _bars(ax, [f"H={h}" for h in sizes], series, PEAK_GOAL, f"fp32 goal: {PEAK_GOAL:.0%}",
          "step_many B=16 / compute peak of its instruction", "fraction of peak")


def _threads_panel(ax, cases: List[Dict]) -> None:
    sizes = sorted({c["hidden_size"] for c in cases})
    cells = sorted({c["cell"] for c in cases})
    ratio = {(c["cell"], c["hidden_size"]): c["ratio"] for c in cases}
    series = {cell: [ratio.get((cell, h), 0.0) for h in sizes] for cell in cells}
    _bars(ax, [f"H={h}" for h in sizes], series, THREADS_GOAL, f"goal at H=1024: {THREADS_GOAL:g}x "
          f"(H=256: {THREADS_GOAL_256:g}x)",
          "two threads vs one, per step", "latency ratio 1 thread / 2")


def draw_throughput_png(results: Dict, path: str, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = list(dict.fromkeys(c["cell"] for c in results.get("formats", [])))  # run order
    cols = max(3, len(cells))
    fig, axes = plt.subplots(2, cols, figsize=(6.0 * cols, 9.0), squeeze=False)
    for k in range(cols):
        if k < len(cells):
            _formats_panel(axes[0][k], results["formats"], cells[k])
        else:
            axes[0][k].axis("off")
    bottom = [(results.get("step_many"), _step_many_panel), (results.get("step_many"), _peak_panel),
              (results.get("threads"), _threads_panel)]
    for k in range(cols):
        if k < len(bottom) and bottom[k][0]:
            bottom[k][1](axes[1][k], bottom[k][0])
        else:
            axes[1][k].axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
