"""A stack of layers and the streams that step through it."""
from __future__ import annotations

from typing import Optional, Sequence, Union

from . import _core
from .cells import GRU, LSTM, RNN

Cell = Union[LSTM, GRU, RNN]

# The stream type is the compiled class itself: a step is one C++ call with
# no Python frame in between.
Stream = _core.Stream


class Model:
    """Layers run bottom to top within each step; weights are packed once.

    A Model is immutable and shared: every ``model.stream()`` owns only its
    own state, so threads stepping different streams run in parallel (the
    GIL is released while C++ works) and give the same numbers as one.

    isa: None for the best instruction set this CPU has (or the one the
    LNFAST_ISA environment variable names), or "scalar", "avx2", "avx512", "neon".

    weights: how the weight matrices are stored: "fp32" (default), "bf16"
    (half the bytes, ~3 significant digits per weight) or "int8" (a quarter,
    one scale per output row). Norms, gates and state stay float32; a
    step at batch 1 streams the weights, so fewer bytes is less time.
    """

    WEIGHT_FORMATS = ("fp32", "bf16", "int8")

    def __init__(self, layers: Union[Cell, Sequence[Cell]], *, isa: Optional[str] = None,
                 weights: str = "fp32"):
        if isinstance(layers, (LSTM, GRU, RNN)):
            layers = [layers]
        layers = tuple(layers)
        if not layers:
            raise ValueError("a Model needs at least one layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, (LSTM, GRU, RNN)):
                raise TypeError(f"layer {i} must be an lnfast.LSTM, GRU or RNN, "
                                f"got {type(layer).__name__}")
        for i in range(1, len(layers)):
            if layers[i].input_size != layers[i - 1].hidden_size:
                raise ValueError(
                    f"layer {i} takes inputs of size {layers[i].input_size}, but layer "
                    f"{i - 1} below it outputs {layers[i - 1].hidden_size}")
        if isa is not None and isa not in _core.supported_isas():
            raise ValueError(f"isa {isa!r} is not available here; this CPU supports "
                             f"{_core.supported_isas()}")
        if weights not in self.WEIGHT_FORMATS:
            raise ValueError(f"weights must be one of {self.WEIGHT_FORMATS}, got {weights!r}")
        self.layers = layers
        self._requested_isa = isa
        self._core = _core.Model([layer.to_core() for layer in layers], isa, weights)

    @property
    def input_size(self) -> int:
        return self._core.input_size

    @property
    def hidden_size(self) -> int:
        return self._core.hidden_size

    @property
    def num_layers(self) -> int:
        return self._core.num_layers

    @property
    def weights(self) -> str:
        """How this model stores its weights: "fp32", "bf16" or "int8"."""
        return self._core.weights

    @property
    def isa(self) -> str:
        """The instruction set this model's kernels run on."""
        return self._core.isa

    def stream(self) -> Stream:
        """A new stream whose state starts at zeros."""
        return _core.Stream(self._core, self)

    def step_many(self, streams, X, out=None):
        """Advance B streams of this model one step together.

        X has shape (B, input_size), row b for streams[b]; returns (B,
        hidden_size). One pass over the weights serves all B (a matrix-matrix
        product), each stream keeps its own state, and the results equal B
        separate ``stream.step`` calls bit for bit.
        """
        return self._core.step_many(list(streams), X, out)

    def __getstate__(self):
        return {"layers": self.layers, "isa": self._requested_isa, "weights": self.weights}

    def __setstate__(self, state):
        self.__init__(state["layers"], isa=state["isa"], weights=state.get("weights", "fp32"))

    def __repr__(self) -> str:
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"lnfast.Model([{inner}], isa={self.isa!r}, weights={self.weights!r})"
