"""lnfast: layer-normalized recurrent networks, one step at a time, fast.

    import lnfast
    model = lnfast.load("checkpoint.pt")      # or lnfast.Model([lnfast.LSTM(...)])
    stream = model.stream()
    h = stream.step(x)                         # x: float32 (input_size,)
"""
from . import _core
from .cells import GRU, LSTM, RNN, LayerNorm
from .model import Model, Stream

__version__ = "0.1.0"

__all__ = ["GRU", "LSTM", "RNN", "LayerNorm", "Model", "Stream", "isa", "supported_isas"]


def isa() -> str:
    """The instruction set new models use: the best this CPU has, or the
    lower one the LNFAST_ISA environment variable forces."""
    return _core.isa()


def supported_isas() -> list:
    """Every instruction set lnfast can run here, lowest first."""
    return list(_core.supported_isas())
