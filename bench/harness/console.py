"""What the benchmark prints: progress lines on stderr, and latencies
formatted for its tables."""
from __future__ import annotations

import sys
from typing import Dict, Optional


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def fmt_us(v: float) -> str:
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"


def median_p99_cells(stats: Optional[Dict]) -> str:
    """A runtime's median and p99 as two table cells, dashes if not measured."""
    return f"{fmt_us(stats['median_us']):>9}{fmt_us(stats['p99_us']):>8}" if stats else f"{'-':>9}{'-':>8}"
