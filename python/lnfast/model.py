"""A stack of layers and the streams that step through it."""
from __future__ import annotations

from typing import Optional, Sequence, Union

import numpy as np

from . import _core
from .cells import GRU, LSTM, RNN, float32_array

Cell = Union[LSTM, GRU, RNN]


class Stream(_core.Stream):
    """One sequence's recurrent state, stepping through a shared Model.

    ``step``, ``run``, ``reset``, ``flat_state`` and ``set_flat_state`` are
    the compiled class's own (a step is one C++ call with no Python frame
    in between); the per-layer view of the state, copying and pickling are
    written here, over the flat state.

    Pickling a stream carries its whole model (self-contained: the weights,
    megabytes) and unpickles into a new, unshared model. To move a
    session between processes that hold the same model, send
    ``stream.to_bytes()`` (a few bytes per state value) and resume it with
    ``model.stream(blob)``.
    """

    __slots__ = ()

    def _layers(self):
        """(index, offset, part names, part sizes) of every layer's state
        slice; h has the layer's output size, c its hidden size."""
        core = self.core_model
        for k, layer in enumerate(self.model.layers):
            yield k, core.state_offset(k), layer.state_parts, layer.state_part_sizes()

    @property
    def state(self) -> list:
        """[{"h": ..., "c": ...}, {"h": ...}, ...]: one dict per layer, "c"
        for LSTM layers only; float32 copies."""
        flat = self.flat_state()
        views = []
        for _, offset, parts, sizes in self._layers():
            starts = offset + np.cumsum((0,) + sizes)
            views.append({name: flat[starts[j]: starts[j + 1]].copy()
                          for j, name in enumerate(parts)})
        return views

    @state.setter
    def state(self, value) -> None:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") \
                or not hasattr(value, "__getitem__"):
            raise TypeError("state must be a list with one dict per layer, as stream.state returns")
        layers = self.model.layers
        if len(value) != len(layers):
            raise ValueError(f"state has {len(value)} layers, the model has {len(layers)}")
        pieces = []
        for k, _, parts, sizes in self._layers():
            item = value[k]
            if not isinstance(item, dict):
                raise TypeError(f"state[{k}] must be a dict")
            if len(item) != len(parts):
                raise ValueError(f"state[{k}] must have keys "
                                 + ("'h' and 'c'" if len(parts) == 2 else "'h' only"))
            for name, size in zip(parts, sizes):
                if name not in item:
                    raise ValueError(f"state[{k}] lacks {name!r}")
                pieces.append(float32_array(item[name], f"state[{k}][{name!r}]", (size,)))
        self.set_flat_state(np.concatenate(pieces))  # the core checks finiteness

    def copy(self) -> "Stream":
        """An independent stream of the same model with this one's state."""
        twin = type(self)(self.core_model, self.model)
        twin.set_flat_state(self.flat_state())
        return twin

    __copy__ = copy

    def __deepcopy__(self, memo) -> "Stream":
        return self.copy()

    # A stream pickles as its Python model (which pickles its layers) and
    # its flat state; unpickling asks that model for a new stream.
    def __reduce__(self):
        if self.model is None:
            raise TypeError("only streams made by lnfast.Model.stream() pickle")
        return _restore_stream, (self.model, self.flat_state())


def _restore_stream(model: "Model", flat_state) -> Stream:
    stream = model.stream()
    stream.set_flat_state(flat_state)
    return stream


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

    WEIGHT_FORMATS = _core.WEIGHT_FORMATS

    def __init__(self, layers: Union[Cell, Sequence[Cell]], *, isa: Optional[str] = None,
                 weights: str = "fp32"):
        if isinstance(layers, (LSTM, GRU, RNN)):
            layers = [layers]
        layers = tuple(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, (LSTM, GRU, RNN)):
                raise TypeError(f"layer {i} must be an lnfast.LSTM, GRU or RNN, "
                                f"got {type(layer).__name__}")
        if isa is not None and isa not in _core.supported_isas():
            raise ValueError(f"isa {isa!r} is not available here; this CPU supports "
                             f"{_core.supported_isas()}")
        # The core checks the rest: at least one layer, sizes that chain,
        # a known weight format.
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
    def weight_count(self) -> int:
        """How many weight-matrix entries the layers hold (w_ih and w_hh of
        every layer): what one step at batch 1 reads, whatever their format."""
        return self._core.weight_count

    @property
    def weights(self) -> str:
        """How this model stores its weights: "fp32", "bf16" or "int8"."""
        return self._core.weights

    @property
    def isa(self) -> str:
        """The instruction set this model's kernels run on."""
        return self._core.isa

    @property
    def fingerprint(self) -> str:
        """The identity of the weights, the structure and the weight format.

        16 hex digits, the same in every process and on every instruction
        set that builds this model from the same checkpoint; an fp32 and a
        bf16 model of one checkpoint differ. Blobs of ``stream.to_bytes()``
        carry it, so a session resumes only on the model it came from.
        """
        return self._core.fingerprint

    def stream(self, state=None) -> Stream:
        """A new stream: at zeros, or continuing a session bit-identically.

        state: None (zeros), bytes from ``stream.to_bytes()`` (in any process
        that loaded the same model: the blob is refused with ValueError if
        it comes from another model, is truncated or corrupted, or has a
        newer format version), or a list from ``stream.state``.
        """
        stream = Stream(self._core, self)
        if state is None:
            return stream
        if isinstance(state, (bytes, bytearray, memoryview)):
            stream.restore(state)
        elif isinstance(state, (list, tuple)):
            stream.state = state
        else:
            raise TypeError("state must be None, bytes from stream.to_bytes() or a list "
                            f"from stream.state, got {type(state).__name__}")
        return stream

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
