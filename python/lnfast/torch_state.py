"""A stream's per-layer state to and from PyTorch's ``(h0, c0)`` form.

torch.nn.LSTM/GRU/RNN hold the state of a stack as tensors of shape
(num_layers, B, H): h0 for every family, c0 for LSTM only. A stream is one
sequence, so B is 1 here. Written over the per-layer dicts of
``stream.state`` (part names and sizes come from there), so it follows
whatever parts a layer has: with LSTM projections h is (L, 1, P) and c
(L, 1, H).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float32]
# stream.state's form: one dict per layer, {"h": ...} or {"h": ..., "c": ...}.
LayerStates = List[Dict[str, Floats]]

# torch's tuple order: h0, then c0.
_TORCH_PARTS = ("h", "c")


def _stacked_part(layers: Sequence[Dict[str, Floats]], name: str) -> Optional[Floats]:
    """(L, 1, size) of one part of every layer; None when no layer has it."""
    holders = [name in layer for layer in layers]
    if not any(holders):
        return None
    if not all(holders):
        raise ValueError(f"torch's (h0, c0) form needs every layer to have {name!r} or none: "
                         "this stack mixes LSTM layers with GRU/RNN ones")
    sizes = {layer[name].shape[0] for layer in layers}
    if len(sizes) != 1:
        raise ValueError(f"torch's (h0, c0) form needs one size of {name!r} in every layer, "
                         f"this stack has {sorted(sizes)}")
    return np.stack([layer[name] for layer in layers])[:, None, :]


def to_torch_state(layers: Sequence[Dict[str, Floats]]) -> Tuple[Floats, Optional[Floats]]:
    """(h0, c0) of shape (num_layers, 1, size); c0 None without cell states."""
    h0 = _stacked_part(layers, "h")
    if h0 is None:
        raise ValueError("this stack has no 'h' state")
    return h0, _stacked_part(layers, "c")


def _as_numpy(value: Any, name: str) -> np.ndarray:
    """A torch tensor (duck-typed: torch need not be installed) or array-like
    as a NumPy array."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        if str(getattr(value, "dtype", "")) == "torch.bfloat16":
            value = value.float()  # NumPy has no bfloat16
        value = value.numpy()
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _rows(value: Any, name: str, layers: Sequence[Dict[str, Floats]],
          part: str) -> List[np.ndarray]:
    """Per-layer rows of h0 or c0, checked against the stream's own shapes."""
    arr = _as_numpy(value, name)
    L = len(layers)
    size = layers[0][part].shape[0]
    if arr.ndim == 3 and arr.shape[0] == L and arr.shape[1] != 1 and arr.shape[2] == size:
        raise ValueError(f"{name} has a batch of {arr.shape[1]}: a stream is one sequence, so "
                         f"{name} must have shape ({L}, 1, {size}); give each batch row "
                         f"(e.g. {name}[:, b:b+1]) to its own stream")
    if arr.shape == (L, size):
        arr = arr[:, None, :]
    if arr.shape != (L, 1, size):
        raise ValueError(f"{name} must have shape ({L}, 1, {size}) (num_layers, batch 1, "
                         f"{part} size) or ({L}, {size}), got {arr.shape}")
    return [arr[k, 0] for k in range(L)]


def from_torch_state(layers: Sequence[Dict[str, Floats]], h0: Any,
                     c0: Any) -> List[Dict[str, Any]]:
    """Per-layer dicts in the form of ``layers`` (a stream's current state,
    which gives the part names and sizes) holding h0 and c0's rows."""
    if len({tuple(sorted(layer)) for layer in layers}) != 1:
        raise ValueError("torch's (h0, c0) form needs every layer to have the same state parts: "
                         "this stack mixes LSTM layers with GRU/RNN ones")
    has_c = "c" in layers[0]
    if has_c and c0 is None:
        raise ValueError("this LSTM stack needs c0 as well as h0")
    if not has_c and c0 is not None:
        raise ValueError("c0 is only for LSTM stacks; this stack's layers have no cell state")
    given = {"h": _rows(h0, "h0", layers, "h")}
    if has_c:
        given["c"] = _rows(c0, "c0", layers, "c")
    # float32 conversion and the NaN/Inf check happen in stream.state's setter.
    return [{part: given[part][k] for part in _TORCH_PARTS if part in layers[k]}
            for k in range(len(layers))]
