"""Reading safetensors files.

The safetensors package validates the header (size limit, JSON, offsets
that tile the data exactly, shapes matching byte counts). We then read the
tensors' bytes ourselves (tensor_data.py) rather than through the package,
because numpy has no bfloat16 and the package cannot hand one to numpy, and
because the package serves tensors from a memory map.
Our own parse of the header repeats the checks we rely on, and also
refuses duplicate names, which the package silently accepts.
"""

from __future__ import annotations

import json
import math

from .limits import MAX_TENSOR_DIMS
from .checkpoint_file import CheckpointFile
from .problem import FormatProblem, shown
from .tensor_rebuild import StorageRef, StorageRegion, TensorRef, make_tensor_ref
from .torch_types import DTYPES_BY_NAME

# safetensors dtype codes, named as torch names them so Checkpoint.dtypes
# reads the same whichever format a weight came from.
_DTYPE_NAMES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U64": "uint64",
    "U32": "uint32",
    "U16": "uint16",
    "U8": "uint8",
    "BOOL": "bool",
    "C64": "complex64",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "F8_E8M0": "float8_e8m0fnu",
}

_HEADER_LENGTH_BYTES = 8


def _validate_with_package(file: CheckpointFile) -> dict[str, str] | None:
    try:
        from safetensors import safe_open
    except ImportError:
        raise FormatProblem(
            "this is a safetensors file and reading it needs the 'safetensors' package"
        ) from None
    try:
        if file.in_memory:
            # Bytes in memory have no path to open; the package checks them
            # as they are (the metadata then comes from our own parse).
            from safetensors import deserialize
            deserialize(file.read_at(0, file.size))
            return None
        with safe_open(file.reopenable_path, framework="numpy") as handle:
            metadata = handle.metadata() or {}
            handle.keys()
    except Exception as error:  # SafetensorError, OSError, ...
        raise FormatProblem(f"invalid safetensors file: {error}") from None
    return metadata


def _refuse_duplicates(pairs):
    table = {}
    for key, value in pairs:
        if key in table:
            raise FormatProblem(f"safetensors header names {shown(key)} twice")
        table[key] = value
    return table


def _parse_header(file: CheckpointFile) -> tuple[dict, int]:
    length = int.from_bytes(file.read_at(0, _HEADER_LENGTH_BYTES), "little")
    data_start = _HEADER_LENGTH_BYTES + length
    if data_start > file.size:
        raise FormatProblem("safetensors header is longer than the file")
    try:
        header = json.loads(
            file.read_at(_HEADER_LENGTH_BYTES, length).decode("utf-8"),
            object_pairs_hook=_refuse_duplicates,
        )
    except FormatProblem:
        raise
    except Exception as error:  # bad UTF-8 or JSON
        raise FormatProblem(f"safetensors header is not valid JSON: {error}") from None
    if not isinstance(header, dict):
        raise FormatProblem("safetensors header is not a JSON object")
    return header, data_start


def _tensor_ref(file, name, entry, data_start) -> TensorRef | str:
    """A reference to one tensor's bytes, or the dtype code if unknown."""
    try:
        code = entry["dtype"]
        shape = tuple(entry["shape"])
        begin, end = entry["data_offsets"]
    except Exception:
        raise FormatProblem(f"safetensors entry {shown(name)} is malformed") from None
    dtype = DTYPES_BY_NAME.get(_DTYPE_NAMES.get(code, ""))
    if dtype is None:
        return str(code)
    if len(shape) > MAX_TENSOR_DIMS:
        raise FormatProblem(f"safetensors entry {shown(name)} has {len(shape)} dimensions")
    if not all(type(n) is int and n >= 0 for n in shape + (begin, end)) or begin > end:
        raise FormatProblem(f"safetensors entry {shown(name)} has invalid shape or offsets")
    numel = math.prod(shape)
    if numel * dtype.itemsize != end - begin or data_start + end > file.size:
        raise FormatProblem(f"safetensors entry {shown(name)} does not match its data range")
    storage = StorageRef(name, dtype, numel)
    storage.bind(StorageRegion(data_start + begin, end - begin, big_endian=False))
    strides = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))
    # The same checks as a pickled tensor gets (numpy-representable shape).
    return make_tensor_ref(storage, dtype, 0, shape, strides)


def read_safetensors_refs(file: CheckpointFile) -> tuple[dict[str, TensorRef], dict[str, str], dict]:
    """Return (tensor refs, skipped name -> dtype code, user metadata)."""
    metadata = _validate_with_package(file)
    header, data_start = _parse_header(file)
    if metadata is None:
        metadata = header.get("__metadata__") or {}
    refs: dict[str, TensorRef] = {}
    skipped: dict[str, str] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            raise FormatProblem(f"safetensors entry {shown(name)} is not an object")
        ref = _tensor_ref(file, name, entry, data_start)
        if isinstance(ref, str):
            skipped[name] = ref
        else:
            refs[name] = ref
    return refs, skipped, metadata
