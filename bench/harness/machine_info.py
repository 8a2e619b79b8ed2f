"""What the numbers were measured on, for the JSON report."""
from __future__ import annotations

import glob
import os
import platform
import subprocess
from typing import Dict, Optional

import numpy as np

import lnfast


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cache_sizes() -> Dict[str, str]:
    """cpu0's caches as sysfs names them, e.g. {"L1d": "48K", "L2": "2048K"}."""
    def read(d: str, name: str) -> str:
        with open(os.path.join(d, name)) as f:
            return f.read().strip()
    sizes = {}
    for d in sorted(glob.glob("/sys/devices/system/cpu/cpu0/cache/index*")):
        try:
            kind = {"Data": "d", "Instruction": "i"}.get(read(d, "type"), "")
            sizes[f"L{read(d, 'level')}{kind}"] = read(d, "size")
        except OSError:
            continue
    return sizes


def cache_bytes(text: Optional[str]) -> Optional[int]:
    """A sysfs cache size ("48K", "2048K", "32M") in bytes; None for none."""
    if not text:
        return None
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(text.rstrip("KMG")) * scale


def last_level_cache_bytes() -> Optional[int]:
    """The largest cache sysfs reports for cpu0 (None if it reports none)."""
    sizes = [cache_bytes(text) for text in cache_sizes().values()]
    return max(sizes) if sizes else None


def _version(module: str):
    try:
        return __import__(module).__version__
    except Exception:  # absent or broken: the report says so rather than failing
        return None


def _git_revision() -> str:
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                             capture_output=True, text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("+dirty" if dirty else "") if rev else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def load_average() -> Optional[float]:
    """The 1-minute load average (None where the OS has none): how busy the
    shared machine was, printed next to every number it affects."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine_info() -> Dict:
    try:
        load = os.getloadavg()
    except (AttributeError, OSError):
        load = None
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "caches_per_cpu0": cache_sizes(),
        "last_level_cache_bytes": last_level_cache_bytes(),
        "lnfast_isa": lnfast.isa(),
        "lnfast_supported_isas": lnfast.supported_isas(),
        "lnfast_version": lnfast.__version__,
        "lnfast_threads": lnfast.get_num_threads() if hasattr(lnfast, "get_num_threads") else 1,
        "git_revision": _git_revision(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": _version("torch"),
        "onnx": _version("onnx"),
        "onnxruntime": _version("onnxruntime"),
        "openvino": _version("openvino"),
        "load_average_at_start": load,
    }
