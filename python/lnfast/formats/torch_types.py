"""Stand-ins for the torch dtypes and storage classes a pickle may name.

A checkpoint names `torch.float16` or `torch.HalfStorage` as pickle
globals. We never import torch; these immutable markers carry just what is
needed to interpret raw bytes: the dtype's name and its element size.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problem import FormatProblem


@dataclass(frozen=True)
class TorchDtype:
    name: str
    itemsize: int
    # numpy type of one element as stored (little-endian); None when numpy
    # cannot represent it and we only need its size to validate offsets.
    numpy_code: str | None

    def __setstate__(self, state):
        raise FormatProblem(f"the file tries to modify the dtype marker torch.{self.name}")

    def __reduce__(self):
        raise TypeError("torch dtype markers are not picklable")


_DTYPES = [
    TorchDtype("float32", 4, "<f4"),
    TorchDtype("float64", 8, "<f8"),
    TorchDtype("float16", 2, "<f2"),
    # numpy has no bfloat16: the bits are read as uint16 and widened.
    TorchDtype("bfloat16", 2, "<u2"),
    TorchDtype("int64", 8, "<i8"),
    TorchDtype("int32", 4, "<i4"),
    TorchDtype("int16", 2, "<i2"),
    TorchDtype("int8", 1, "i1"),
    TorchDtype("uint8", 1, "u1"),
    TorchDtype("uint16", 2, "<u2"),
    TorchDtype("uint32", 4, "<u4"),
    TorchDtype("uint64", 8, "<u8"),
    TorchDtype("bool", 1, "?"),
    TorchDtype("complex32", 4, None),
    TorchDtype("complex64", 8, "<c8"),
    TorchDtype("complex128", 16, "<c16"),
    TorchDtype("float8_e4m3fn", 1, None),
    TorchDtype("float8_e4m3fnuz", 1, None),
    TorchDtype("float8_e5m2", 1, None),
    TorchDtype("float8_e5m2fnuz", 1, None),
    TorchDtype("float8_e8m0fnu", 1, None),
    TorchDtype("qint8", 1, None),
    TorchDtype("quint8", 1, None),
    TorchDtype("qint32", 4, None),
    TorchDtype("quint4x2", 1, None),
    TorchDtype("quint2x4", 1, None),
]

DTYPES_BY_NAME: dict[str, TorchDtype] = {dtype.name: dtype for dtype in _DTYPES}
# torch accepts these aliases as attribute names (torch.half is torch.float16).
for _alias, _name in {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "long": "int64",
    "int": "int32",
    "short": "int16",
    "chalf": "complex32",
    "cfloat": "complex64",
    "cdouble": "complex128",
}.items():
    DTYPES_BY_NAME[_alias] = DTYPES_BY_NAME[_name]

# Dtypes lnfast turns into float32 weights; the rest are reported as skipped.
FLOAT_DTYPE_NAMES = frozenset({"float32", "float64", "float16", "bfloat16"})


@dataclass(frozen=True)
class StorageType:
    """Marker for torch.<X>Storage: which dtype the storage's bytes hold."""

    qualified_name: str
    dtype: TorchDtype

    def __setstate__(self, state):
        raise FormatProblem(f"the file tries to modify the storage marker {self.qualified_name}")

    def __reduce__(self):
        raise TypeError("storage markers are not picklable")


_STORAGE_DTYPE_NAMES = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8",
    "QUInt8Storage": "quint8",
    "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
    # Untyped storages are plain bytes; _rebuild_tensor_v3 names the dtype.
    "UntypedStorage": "uint8",
}


def _storage_markers() -> dict[tuple[str, str], StorageType]:
    markers = {}
    # Old CUDA checkpoints name torch.cuda.FloatStorage; the bytes are the
    # same, and we never touch a device.
    for module in ("torch", "torch.cuda", "torch.storage"):
        for class_name, dtype_name in _STORAGE_DTYPE_NAMES.items():
            if module == "torch.storage" and class_name != "UntypedStorage":
                continue
            markers[(module, class_name)] = StorageType(
                f"{module}.{class_name}", DTYPES_BY_NAME[dtype_name]
            )
    return markers


STORAGE_TYPES: dict[tuple[str, str], StorageType] = _storage_markers()
