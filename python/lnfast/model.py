"""A stack of layers and the streams that step through it."""
from __future__ import annotations

from typing import (TYPE_CHECKING, Any, Dict, Iterator, List, Mapping, Optional, Sequence,
                    Tuple, Union)

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from .cells import GRU, LSTM, RNN, cell_from_spec, float32_array, spec_repr, state_layout
from .torch_state import LayerStates, from_torch_state, to_torch_state

Cell = Union[LSTM, GRU, RNN]


class Stream(_core.Stream):
    """One sequence's recurrent state, stepping through a shared Model.

    ``step``, ``run``, ``reset``, ``flat_state`` and ``set_flat_state`` are
    the compiled class's own (a step is one C++ call with no Python frame
    in between); the per-layer view of the state, copying and pickling are
    written here, over the flat state.

    Pickling a stream carries its whole model (self-contained: the weights
    as the model stores them, megabytes) and unpickles into a new, unshared
    model that steps bit-identically. To move a
    session between processes that hold the same model, send
    ``stream.to_bytes()`` (a few bytes per state value) and resume it with
    ``model.stream(blob)``.

    ``lnfast.Stream(model)`` is the same as ``model.stream()``.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        # The compiled class types it as Any (it cannot name this module's Model).
        @property
        def model(self) -> "Model": ...

    def __init__(self, model: "Model") -> None:
        """A stream of ``model`` (an lnfast.Model) at zero state."""
        if not isinstance(model, Model):
            kind = type(model)
            name = kind.__qualname__ if kind.__module__ == "builtins" else \
                f"{kind.__module__}.{kind.__qualname__}"
            raise TypeError("lnfast.Stream(model) takes an lnfast.Model (from lnfast.load or "
                            f"lnfast.Model([...])), got {name}")
        super().__init__(model._core, model)

    def _layers(self) -> Iterator[Tuple[int, int, Tuple[str, ...], Tuple[int, ...]]]:
        """(index, offset, part names, part sizes) of every layer's state
        slice; h has the layer's output size, c its hidden size."""
        core = self.core_model
        for k, (parts, sizes) in enumerate(self.model._state_parts):
            yield k, core.state_offset(k), parts, sizes

    @property
    def state(self) -> LayerStates:
        """[{"h": ..., "c": ...}, {"h": ...}, ...]: one dict per layer, bottom
        first, "c" for LSTM layers only; float32 copies of shape (H,).

        Assigning such a list continues from it bit-identically; it is
        checked whole (TypeError for a wrong container, ValueError for a
        wrong layer count, key, shape or a NaN/Inf) before anything changes.
        For torch's (h0, c0) form see ``torch_state``/``set_torch_state``.
        """
        flat = self.flat_state()
        views = []
        for _, offset, parts, sizes in self._layers():
            starts = offset + np.cumsum((0,) + sizes)
            views.append({name: flat[starts[j]: starts[j + 1]].copy()
                          for j, name in enumerate(parts)})
        return views

    @state.setter
    def state(self, value: Sequence[Mapping[str, ArrayLike]]) -> None:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") \
                or not hasattr(value, "__getitem__"):
            raise TypeError("state must be a list with one dict per layer, as stream.state returns")
        layers = self.model.num_layers
        if len(value) != layers:
            raise ValueError(f"state has {len(value)} layers, the model has {layers}")
        pieces = []
        for k, _, parts, sizes in self._layers():
            item = value[k]
            if not isinstance(item, Mapping):
                raise TypeError(f"state[{k}] must be a dict")
            if len(item) != len(parts):
                raise ValueError(f"state[{k}] must have keys "
                                 + ("'h' and 'c'" if len(parts) == 2 else "'h' only"))
            for name, size in zip(parts, sizes):
                if name not in item:
                    raise ValueError(f"state[{k}] lacks {name!r}")
                pieces.append(float32_array(item[name], f"state[{k}][{name!r}]", (size,)))
        self.set_flat_state(np.concatenate(pieces))  # the core checks finiteness

    def torch_state(self) -> Tuple[NDArray[np.float32], Optional[NDArray[np.float32]]]:
        """The state as PyTorch holds it: ``(h0, c0)`` for ``nn.LSTM``,
        ``(h0, None)`` for ``nn.GRU``/``nn.RNN``.

        h0 and c0 are float32 copies of shape (num_layers, 1, H), what
        ``module(x, (h0, c0))`` takes (``torch.from_numpy`` them) and what it
        returns as ``(h_n, c_n)`` for a batch of one. Raises ValueError for a
        stack torch cannot express in one tensor (LSTM layers mixed with
        GRU/RNN ones, or layers of different sizes).
        """
        return to_torch_state(self.state)

    def set_torch_state(self, h0: Any, c0: Any = None) -> None:
        """Continue from PyTorch's ``(h0, c0)`` (c0 only for LSTM stacks).

        h0, c0: torch tensors (any device or dtype, detached and copied here;
        torch itself is never imported) or arrays of shape (num_layers, 1, H)
        or (num_layers, H). A batch larger than one is refused: a stream is
        one sequence; give each row to its own stream. Raises ValueError for
        a wrong shape, a missing or unexpected c0, or a NaN/Inf, and changes
        nothing then.
        """
        self.state = from_torch_state(self.state, h0, c0)

    def copy(self) -> "Stream":
        """An independent stream of the same model with this one's state
        (``copy.copy`` and ``copy.deepcopy`` do the same)."""
        twin = type(self)(self.model)
        twin.set_flat_state(self.flat_state())
        return twin

    __copy__ = copy

    def __deepcopy__(self, memo: Any) -> "Stream":
        return self.copy()

    # A stream pickles as its Python model (which pickles its stored weights) and
    # its flat state; unpickling asks that model for a new stream.
    def __reduce__(self) -> Tuple[Any, Tuple["Model", NDArray[np.float32]]]:
        return _restore_stream, (self.model, self.flat_state())


def _restore_stream(model: "Model", flat_state: NDArray[np.float32]) -> Stream:
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

    activations: "fp32" (default) or, with weights="int8" only, "int8": each
    GEMM's input vector is rounded to int8 with its own scale (max|x| / 127)
    per step, so the products run on integer dot products (AVX512-VNNI
    vpdpbusd) where the CPU has them; elsewhere the same rounded inputs go
    through the widening int8 path. Any other combination is a ValueError.
    """

    WEIGHT_FORMATS: Tuple[str, ...] = _core.WEIGHT_FORMATS

    def __init__(self, layers: Union[Cell, Sequence[Cell]], *, isa: Optional[str] = None,
                 weights: str = "fp32", activations: str = "fp32") -> None:
        self._build(layers, isa, weights, activations)

    def _build(self, layers: Union[Cell, Sequence[Cell]], isa: Optional[str],
               weights: str, activations: str = "fp32") -> None:
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
        # a known weight format. It packs the cells' arrays in place and
        # keeps no reference to them, nor does this object: the panels are
        # the model's one copy of its weights (docs/speed.md#loading).
        self._set_core(_core.Model([layer.to_core() for layer in layers], isa, weights,
                                   activations, matrices=[layer.matrices() for layer in layers]),
                       isa)

    def _set_core(self, core: "_core.Model", isa: Optional[str]) -> None:
        self._core = core
        self._requested_isa = isa
        # What a stream's state looks like per layer: (part names, sizes).
        self._state_parts = tuple(state_layout(core.layer(k)) for k in range(core.num_layers))

    @property
    def layers(self) -> Tuple[Cell, ...]:
        """The layers as lnfast cells, rebuilt from the packed weights on
        each access (the model keeps no other copy): their matrices are the
        values the kernels multiply by, so for bf16 and int8 models the
        rounded ones. ``lnfast.Model(model.layers)`` gives the same model for
        fp32 and bf16 (same fingerprint); for int8 re-quantizing the
        dequantized values may move a scale by an ulp, so copy an int8
        model with pickle, which carries q and the scales."""
        return tuple(cell_from_spec(self._core.unpacked_layer(k)) for k in range(self.num_layers))
    @property
    def input_size(self) -> int:
        """Length of the x each step takes (the bottom layer's input)."""
        return self._core.input_size

    @property
    def hidden_size(self) -> int:
        """Length of the h each step returns (the top layer's)."""
        return self._core.hidden_size

    @property
    def num_layers(self) -> int:
        """How many layers the stack has."""
        return self._core.num_layers

    @property
    def weight_count(self) -> int:
        """How many weight-matrix entries the layers hold (w_ih and w_hh of
        every layer): what one step at batch 1 reads, whatever their format."""
        return self._core.weight_count

    @property
    def weight_bytes(self) -> int:
        """Bytes the packed weights occupy (panel padding and int8 row scales
        included). The model's weights take this memory and no more: nothing
        else keeps a copy of them (docs/speed.md#loading)."""
        return self._core.weight_bytes

    @property
    def weights(self) -> str:
        """How this model stores its weights: "fp32", "bf16" or "int8"."""
        return self._core.weights

    @property
    def activations(self) -> str:
        """How each GEMM's inputs are multiplied: "fp32" or "int8"."""
        return self._core.activations

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

    def stream(self, state: Union[None, bytes, bytearray, memoryview,
                                  Sequence[Mapping[str, ArrayLike]]] = None,
               *, torch_state: Optional[Tuple[Any, Any]] = None) -> Stream:
        """A new stream: at zeros, or continuing a session bit-identically.

        state: None (zeros), bytes from ``stream.to_bytes()`` (in any process
        that loaded the same model: the blob is refused with ValueError if
        it comes from another model, is truncated or corrupted, or has a
        newer format version), or a list from ``stream.state``.

        torch_state: instead of state, PyTorch's ``(h0, c0)`` (``(h0, None)``
        for GRU/RNN), as ``stream.set_torch_state`` takes it.
        """
        stream = Stream(self)
        if torch_state is not None:
            if state is not None:
                raise TypeError("give state or torch_state, not both")
            if not isinstance(torch_state, tuple) or len(torch_state) != 2:
                raise TypeError("torch_state must be a tuple (h0, c0), c0 None for GRU/RNN")
            stream.set_torch_state(*torch_state)
            return stream
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

    def run(self, X: ArrayLike, out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """The outputs of a whole sequence X (T, input_size) from the zero
        state: (T, hidden_size), the same as ``model.stream().run(X)``
        (input projections of all T steps in one matrix-matrix product).
        Bidirectional models (lnfast.Bidirectional) have ``run`` only."""
        return self.stream().run(X, out)

    def step_many(self, streams: Sequence[Stream], X: ArrayLike,
                  out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """Advance B streams of this model one step together.

        X has shape (B, input_size), row b for streams[b]; returns (B,
        hidden_size) float32 (written into ``out`` when given: float32,
        C-contiguous, that shape). One pass over the weights serves all B (a
        matrix-matrix product), each stream keeps its own state, and the
        results equal B separate ``stream.step`` calls bit for bit. X is
        converted like ``stream.run``'s. Raises ValueError for a wrong shape,
        a stream listed twice or one of another model (no stream changes
        then), RuntimeError when another thread is stepping one of them.
        """
        return self._core.step_many(list(streams), X, out)

    def save(self, path: Any) -> None:
        """Write this model to a .lnfast file that ``lnfast.load`` (and C++'s
        ``lnfast::load_model_file``) maps back in milliseconds: structure,
        options and the packed weights as stored (see lnfast.model_file)."""
        from .model_file import save

        save(self, path)

    # A model pickles as its structure and its matrices as stored (float32,
    # bfloat16 bits, or int8 q with the row scales), so the copy holds the
    # same bits, steps bit-identically and keeps the fingerprint.
    def __getstate__(self) -> Dict[str, Any]:
        core = self._core
        return {"pickle_version": 2, "isa": self._requested_isa, "weights": self.weights,
                "activations": self.activations,
                "structure": [core.layer(k) for k in range(self.num_layers)],
                "matrices": [tuple(core.stored_matrix(k, name) for name in ("w_ih", "w_hh", "w_hr"))
                             for k in range(self.num_layers)]}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        if "structure" not in state:  # pickled by lnfast before the stored form
            self._build(state["layers"], state["isa"], state.get("weights", "fp32"),
                        state.get("activations", "fp32"))
            return
        self._set_core(_core.Model(state["structure"], state["isa"], state["weights"],
                                   state["activations"], matrices=state["matrices"]), state["isa"])

    def _layer_reprs(self) -> List[str]:
        return [spec_repr(self._core.layer(k)) for k in range(self.num_layers)]

    def __repr__(self) -> str:
        inner = ", ".join(self._layer_reprs())
        return (f"lnfast.Model([{inner}], isa={self.isa!r}, weights={self.weights!r}, "
                f"activations={self.activations!r})")
