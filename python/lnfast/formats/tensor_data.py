"""Copying tensors out of the file as float32, one storage at a time.

Each storage's bytes - only the span its tensors reach - are taken once
(CheckpointFile.storage_bytes: one pread into a numpy buffer the reader
owns, or for lnfast.load a view of the file's guarded mapping), and every
tensor viewing that storage is converted from them before the next storage
is read. So reading costs one system call per storage and no Python per
element, and memory peaks at the output plus one storage. A float32
tensor that is the only view of its bytes, laid out C-contiguous and
aligned, becomes those bytes themselves, without a copy.
"""

from __future__ import annotations

import numpy as np

from .checkpoint_file import CheckpointFile
from .limits import Budget
from .problem import FormatProblem
from .tensor_rebuild import StorageRegion, TensorRef
from .torch_types import FLOAT_DTYPE_NAMES

_NATIVE_FLOAT32 = np.dtype(np.float32)


def read_tensors(
    file: CheckpointFile, refs: dict[str, TensorRef], budget: Budget
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(name -> float32 array in the order of `refs`, name -> dtype of the
    tensors that are not floating point and are left out)."""
    skipped: dict[str, str] = {}
    by_region: dict[int, tuple[StorageRegion, list[tuple[str, TensorRef]]]] = {}
    for name, ref in refs.items():
        if ref.dtype.name not in FLOAT_DTYPE_NAMES:
            skipped[name] = ref.dtype.name
            continue
        region = ref.storage.region
        if region is None:
            raise FormatProblem(f"storage {ref.storage.key!r} has no data in the file")
        # Every output is paid for before anything is read.
        budget.charge(ref.numel * 4)
        by_region.setdefault(id(region), (region, []))[1].append((name, ref))
    arrays: dict[str, np.ndarray] = {}
    for region, members in by_region.values():
        _read_region(file, region, members, arrays)
    return {name: arrays[name] for name in refs if name in arrays}, skipped


def _byte_span(ref: TensorRef) -> tuple[int, int]:
    """[first, end) bytes of its storage's region that a non-empty view reaches."""
    itemsize = ref.dtype.itemsize
    last = ref.offset + sum((n - 1) * s for n, s in zip(ref.size, ref.stride))
    base = ref.storage.byte_offset
    return base + ref.offset * itemsize, base + (last + 1) * itemsize


def _read_region(file, region: StorageRegion, members, arrays: dict) -> None:
    spans = {}
    for name, ref in members:
        if ref.numel == 0:
            arrays[name] = np.zeros(ref.size, dtype=np.float32)
        else:
            spans[name] = _byte_span(ref)
    if not spans:
        return
    low = min(first for first, _ in spans.values())
    high = max(end for _, end in spans.values())
    data = file.storage_bytes(region.offset + low, high - low)
    alone = len(spans) == 1
    for name, ref in members:
        if name in spans:
            arrays[name] = _convert(data, spans[name][0] - low, ref, region.big_endian, alone)


def _is_c_contiguous(ref: TensorRef) -> bool:
    expected = 1
    for n, s in zip(reversed(ref.size), reversed(ref.stride)):
        if n != 1 and s != expected:
            return False
        expected *= n
    return True


def _convert(data: np.ndarray, start: int, ref: TensorRef, big_endian: bool, alone: bool):
    itemsize = ref.dtype.itemsize
    element_type = np.dtype(ref.dtype.numpy_code)
    if big_endian:
        element_type = element_type.newbyteorder(">")
    if (alone and element_type == _NATIVE_FLOAT32 and not ref.negate and _is_c_contiguous(ref)
            and data.ctypes.data % _NATIVE_FLOAT32.itemsize == 0):
        # The buffer holds exactly this tensor: it is the result (a
        # read-only view when the buffer is the file's mapping).
        return data.view(np.float32).reshape(ref.size)
    base = np.frombuffer(data, dtype=element_type, count=(len(data) - start) // itemsize, offset=start)
    view = np.lib.stride_tricks.as_strided(
        base,
        shape=ref.size,
        strides=tuple(s * itemsize for s in ref.stride),
        writeable=False,
    )
    if ref.dtype.name == "bfloat16":
        # bfloat16 is the top half of a float32's bits.
        widened = view.astype(np.uint32, order="C")
        widened <<= 16
        result = widened.view(np.float32)
    else:
        # float64 beyond float32's range becomes inf, as in tensor.float().
        with np.errstate(over="ignore"):
            result = view.astype(np.float32, order="C")
    if ref.negate:
        np.negative(result, out=result)
    return result
