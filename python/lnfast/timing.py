"""Small timing helpers shared by the CLI's demo and bench."""
from __future__ import annotations

import sys
import time

import numpy as np


def summarize_ns(samples_ns) -> dict:
    """Median, p99 and steps per second of per-step times in nanoseconds."""
    arr = np.asarray(samples_ns, dtype=np.float64)
    if arr.size == 0:
        return {"median_us": float("nan"), "p99_us": float("nan"), "steps_per_s": float("nan"), "steps": 0}
    median = float(np.median(arr))
    return {
        "median_us": median / 1e3,
        "p99_us": float(np.percentile(arr, 99)) / 1e3,
        "steps_per_s": 1e9 / median if median > 0 else float("inf"),
        "steps": int(arr.size),
    }


class ProgressBar:
    """A one-line progress bar on stderr, drawn only on a terminal and only
    once a run has taken more than `after_s` seconds (short runs stay quiet).

    Redirected output (a log file, a pipe) gets no carriage-return frames at
    all. Not tqdm or rich: lnfast's runtime dependencies are numpy and
    safetensors only, and a bar this small is not worth a third one (or, as
    an optional one, a second code path to keep working without it)."""

    def __init__(self, total: int, label: str, after_s: float = 1.0, stream=None):
        stream = sys.stderr if stream is None else stream
        self.total, self.label, self.after_s, self.stream = total, label, after_s, stream
        self.on_terminal = _is_terminal(stream)
        self.start = time.perf_counter()
        self.shown = False
        self.last_draw = 0.0

    def update(self, done: int):
        if not self.on_terminal:
            return
        now = time.perf_counter()
        if now - self.start < self.after_s or now - self.last_draw < 0.1:
            return
        self.last_draw, self.shown = now, True
        width = 30
        filled = int(width * done / max(self.total, 1))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total}")
        self.stream.flush()

    def close(self):
        if self.shown:
            self.stream.write("\r" + " " * (len(self.label) + 50) + "\r")
            self.stream.flush()


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
