"""bench/results/latency.png: median step latency against H, log-log, one
panel per cell type, one line per runtime (I = H cases; other input sizes
as lone markers)."""
from __future__ import annotations

from typing import Dict, List, Sequence

STYLE = {"lnfast": ("C0", "o"), "floor": ("k", "_"), "torch": ("C3", "s"),
         "torchscript": ("C1", "^"), "onnxruntime": ("C2", "D"), "openvino_f32": ("C4", "v"),
         "openvino_bf16": ("C6", "v")}


def draw_latency_png(cases: List[Dict], runtimes: Sequence[str], cells: Sequence[str],
                     path: str, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(3, len(cells))
    rows = (len(cells) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.2 * rows), squeeze=False)
    for ax, cell in zip(axes.flat, cells):
        mine = [c for c in cases if c["cell"] == cell]
        for rt in runtimes:
            color, marker = STYLE.get(rt, (None, "x"))
            square = sorted((c["hidden_size"], c["latency"][rt]["median_us"])
                            for c in mine if c["input_size"] == c["hidden_size"] and rt in c["latency"])
            if square:
                ax.plot(*zip(*square), marker=marker, color=color, label=rt,
                        linestyle="--" if rt == "floor" else "-")
            for c in mine:
                if c["input_size"] != c["hidden_size"] and rt in c["latency"]:
                    ax.plot(c["hidden_size"], c["latency"][rt]["median_us"], marker=marker,
                            color=color, markerfacecolor="none", linestyle="none")
        odd = sorted({c["input_size"] for c in mine if c["input_size"] != c["hidden_size"]})
        note = f" (hollow: I={','.join(map(str, odd))})" if odd else ""
        ax.set(xscale="log", yscale="log", xlabel="hidden size H (I = H)",
               ylabel="median latency per step (us)", title=cell + note)
        ticks = sorted({c["hidden_size"] for c in mine})
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(t) for t in ticks])
        ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(cells):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
