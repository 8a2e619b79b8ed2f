"""lnfast: layer-normalized recurrent networks, one step at a time, fast.

    import lnfast
    model = lnfast.load("checkpoint.pt")      # or lnfast.Model([lnfast.LSTM(...)])
    stream = model.stream()
    h = stream.step(x)                         # x: float32 (input_size,)
"""
from . import _core
from .cells import GRU, LSTM, RNN, LayerNorm
from .errors import CheckpointError, LayoutError
from .loading import Mapping, NormKeys, from_torch, inspect, load, read_tensors
from .model import Model, Stream
from .batcher import Batcher
from .bidirectional import Bidirectional

__version__ = "0.1.0"

__all__ = ["Batcher", "Bidirectional", "GRU", "LSTM", "RNN", "LayerNorm", "Model", "Stream", "isa", "supported_isas",
           "CheckpointError", "LayoutError", "Mapping", "NormKeys", "from_torch", "inspect", "load",
           "read_tensors"]


def isa() -> str:
    """The instruction set new models use: the best this CPU has, or the
    lower one the LNFAST_ISA environment variable forces."""
    return _core.isa()


def set_num_threads(n: int) -> None:
    """Threads a single step may use (default 1). With n > 1, layers with
    at least 256K weights split their GEMM rows between the caller and n - 1
    helper threads that spin briefly between steps; results are identical
    to one thread. Pays off from H = 512 up; keep 1 when many streams
    already keep every core busy."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads takes an int, got {type(n).__name__}")
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """Threads a single step may use (see set_num_threads)."""
    return _core.num_threads()


def supported_isas() -> list:
    """Every instruction set lnfast can run here, lowest first."""
    return list(_core.supported_isas())
