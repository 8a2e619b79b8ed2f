"""Bidirectional stacks (torch's bidirectional=True, fastrnns' BidirLSTMLayer),
run a whole sequence at a time.

Each layer is a forward and a backward direction, each an ordinary
one-layer lnfast.Model; the backward one runs over the reversed sequence
and its outputs are reversed back. ``stream.run`` does the input projection
of all T steps as one matrix-matrix product per direction. Layer k + 1
takes both directions of layer k, [forward, backward] concatenated as torch
concatenates them; every direction starts from the zero state.
"""
from __future__ import annotations

import hashlib
from typing import Optional, Sequence, Tuple

import numpy as np

from .model import Cell, Model

CANNOT_STREAM = (
    "a bidirectional model cannot stream: its backward direction reads the sequence from "
    "the end, so no output exists before the last input has arrived; run the whole "
    "sequence with model.run(X) (X of shape (T, input_size)), which returns (T, 2 * hidden_size)")


class Bidirectional:
    """A bidirectional stack: ``run(X)`` of shape (T, input_size) returns
    (T, 2 * hidden_size), forward outputs then backward outputs per step.

    layers: one (forward, backward) pair of lnfast cells per layer; both
    cells of a layer have the same sizes, and layer k + 1 takes inputs of
    twice layer k's hidden size. isa, weights and activations as for
    lnfast.Model (activations="int8" with weights="int8" rounds each
    direction's GEMM inputs per step, as there).
    """

    def __init__(self, layers: Sequence[Tuple[Cell, Cell]], *, isa: Optional[str] = None,
                 weights: str = "fp32", activations: str = "fp32"):
        layers = tuple(tuple(pair) for pair in layers)
        if not layers:
            raise ValueError("a bidirectional model needs at least one layer")
        width = None
        for k, pair in enumerate(layers):
            if len(pair) != 2:
                raise ValueError(f"layer {k} must be a (forward, backward) pair of cells")
            forward, backward = pair
            if (forward.input_size, forward.hidden_size) != (backward.input_size, backward.hidden_size):
                raise ValueError(f"layer {k}: the forward direction is {forward.input_size} -> "
                                 f"{forward.hidden_size}, the backward {backward.input_size} -> "
                                 f"{backward.hidden_size}; both must have the same sizes")
            if width is not None and forward.input_size != width:
                raise ValueError(f"layer {k} takes inputs of size {forward.input_size}, but layer "
                                 f"{k - 1} below it outputs {width} (both directions)")
            width = 2 * forward.hidden_size
        # Model checks each cell, the isa and the weight and activation
        # formats; the direction models hold the weights, nothing here keeps
        # the cells.
        self._directions = tuple(
            tuple(Model(cell, isa=isa, weights=weights, activations=activations) for cell in pair)
            for pair in layers)

    @property
    def layers(self) -> Tuple[Tuple[Cell, Cell], ...]:
        """(forward, backward) cells per layer, rebuilt from the packed
        weights on each access (see Model.layers)."""
        return tuple((f.layers[0], b.layers[0]) for f, b in self._directions)

    @property
    def input_size(self) -> int:
        """Features of one step of the input sequence."""
        return self._directions[0][0].input_size

    @property
    def hidden_size(self) -> int:
        """Each direction's hidden size; outputs have twice as many columns."""
        return self._directions[-1][0].hidden_size

    @property
    def output_size(self) -> int:
        """Columns of run()'s output: forward and backward halves, 2 * hidden_size."""
        return 2 * self.hidden_size

    @property
    def num_layers(self) -> int:
        """Bidirectional layers (each a forward and a backward cell)."""
        return len(self._directions)

    @property
    def weight_count(self) -> int:
        """Weight-matrix entries of both directions of every layer."""
        return sum(m.weight_count for pair in self._directions for m in pair)

    @property
    def weight_bytes(self) -> int:
        """Bytes the packed weights of both directions of every layer occupy."""
        return sum(m.weight_bytes for pair in self._directions for m in pair)

    @property
    def weights(self) -> str:
        """How the weights are stored: "fp32", "bf16" or "int8"."""
        return self._directions[0][0].weights

    @property
    def activations(self) -> str:
        """What the GEMMs multiply the weights by: "fp32" or "int8"."""
        return self._directions[0][0].activations

    @property
    def isa(self) -> str:
        """The instruction set the kernels run on."""
        return self._directions[0][0].isa

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming the weights, structure and weight format of
        every direction (as Model.fingerprint does for one)."""
        parts = "bidirectional:" + ",".join(m.fingerprint for pair in self._directions for m in pair)
        return hashlib.sha256(parts.encode()).hexdigest()[:16]

    def run(self, X) -> np.ndarray:
        """Outputs (T, 2 * hidden_size) of the whole sequence X (T, input_size)."""
        for forward, backward in self._directions:
            ahead = forward.run(X)
            behind = backward.run(np.ascontiguousarray(np.asarray(X)[::-1]))[::-1]
            X = np.concatenate([ahead, behind], axis=1)
        return X

    def stream(self, state=None):
        """Refused: the backward direction reads the sequence from its end,
        so a bidirectional model cannot step; use run(X)."""
        raise TypeError(CANNOT_STREAM)

    def step_many(self, streams, X, out=None):
        """Refused, as stream() is: use run(X)."""
        raise TypeError(CANNOT_STREAM)

    # The direction models pickle their stored weights (see Model).
    def __getstate__(self):
        return {"directions": self._directions}

    def __setstate__(self, state):
        if "directions" not in state:  # pickled by lnfast before the stored form
            self.__init__(state["layers"], isa=state["isa"], weights=state["weights"],
                          activations=state.get("activations", "fp32"))
            return
        self._directions = tuple(tuple(pair) for pair in state["directions"])

    def __repr__(self) -> str:
        inner = ", ".join(f"({f._layer_reprs()[0]}, {b._layer_reprs()[0]})" for f, b in self._directions)
        return (f"lnfast.Bidirectional([{inner}], isa={self.isa!r}, weights={self.weights!r}, "
                f"activations={self.activations!r})")
