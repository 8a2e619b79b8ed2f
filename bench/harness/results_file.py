"""bench/results/latest.json: written whole, and extended by later sections
of the same run.

A run writes the file as soon as its latency section is done, so a crash in
a later section does not lose it; later sections add their key only if the
file on disk carries this run's id. A file left by another run is replaced,
never merged: numbers from two runs (another revision, another load) under
one header would describe a run that never happened.
"""
from __future__ import annotations

import json
import os
import uuid
from typing import Dict, Optional


def new_run_id() -> str:
    return uuid.uuid4().hex


def write_results(path: str, results: Dict) -> None:
    """Write via a temporary file and rename, so a reader (or an interrupted
    run) never sees half a file."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(results, f, indent=1)
    os.replace(tmp, path)


def _read(path: str) -> Optional[Dict]:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def merge_section(path: str, run_id: str, key: str, value, fresh_header: Dict) -> bool:
    """Set results[key] = value in the file if this run wrote it, else write
    fresh_header plus the key. Returns whether it merged."""
    current = _read(path)
    merged = current is not None and current.get("run_id") == run_id
    results = current if merged else dict(fresh_header, run_id=run_id)
    results[key] = value
    write_results(path, results)
    return merged
