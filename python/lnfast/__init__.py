"""lnfast: layer-normalized recurrent networks, one step at a time, fast.

    import lnfast
    model = lnfast.load("checkpoint.pt")      # or lnfast.Model([lnfast.LSTM(...)])
    stream = model.stream()
    h = stream.step(x)                         # x: float32 (input_size,)
"""
import os
from typing import List

from . import _core
from .cells import GRU, LSTM, RNN, LayerNorm
from .errors import CheckpointError, LayoutError
from .loading import Mapping, NormKeys, from_torch, inspect, load, read_tensors
from .model import Model, Stream
from .batcher import Batcher
from .bidirectional import Bidirectional

__version__ = "0.1.0"

# `inspect` stays an attribute (lnfast.inspect(path)) but is left out of
# `from lnfast import *`, where it would shadow the standard module.
__all__ = ["Batcher", "Bidirectional", "GRU", "LSTM", "RNN", "LayerNorm", "Model", "Stream",
           "isa", "supported_isas", "set_num_threads", "get_num_threads", "available_cpus",
           "release_freed_memory",
           "CheckpointError", "LayoutError", "Mapping", "NormKeys", "from_torch", "load",
           "read_tensors"]


def isa() -> str:
    """The instruction set new models use: the best this CPU has, or the
    lower one the LNFAST_ISA environment variable forces."""
    return _core.isa()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has
    one, else every CPU): the most threads set_num_threads accepts."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_num_threads(n: int) -> None:
    """Threads a single step may use (default 1). With n > 1, layers with
    at least 256K weights split their GEMM rows between the caller and n - 1
    helper threads that spin briefly between steps; results are identical
    to one thread. Pays off from H = 256 up when a core is free; on a busy
    machine the caller takes any part a helper has not started, so it
    costs little, but keep 1 when many streams already keep every core busy.

    Raises TypeError when n is not an int, and ValueError when n < 1 or n
    exceeds available_cpus(): helpers beyond the CPUs only spin against
    each other, so a larger count is refused rather than clamped. The
    count in force is unchanged when it raises.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads takes an int, got {type(n).__name__}")
    limit = available_cpus()
    if n > limit:
        raise ValueError(f"set_num_threads({n}): this process may run on {limit} CPU(s), "
                         f"so at most {limit} threads (lnfast.available_cpus())")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads a single step may use (see set_num_threads)."""
    return _core.num_threads()


def release_freed_memory() -> int:
    """Hands back now the memory freed models left for the next load, and
    returns its bytes.

    A freed model's large weight panels stay mapped for reuse, the way the
    C allocator keeps freed memory, so that reloading a model (an updated
    checkpoint, a restarted worker) writes into memory already in place:
    fresh pages cost more to fill than the packing itself. At most 512 MiB
    is kept, each part for at most 30 s, and handed back at the next load
    or free after that; call this where memory matters more (before a
    fork, after dropping the last model for good)."""
    return _core.release_freed_memory()


def supported_isas() -> List[str]:
    """Every instruction set lnfast can run here, lowest first."""
    return list(_core.supported_isas())
