"""Tensor references built while unpickling, and their conversion to numpy.

torch.save pickles a tensor as a call to torch._utils._rebuild_tensor_v2
(storage, storage_offset, size, stride, ...). Our stand-in for that call
validates the view against the storage the file declared and returns a
TensorRef; no bytes are read until the whole pickle has been taken apart.
Deferring the read means a tensor is copied out once even when the pickle
references it from several places, and nothing is read for tensors of
dtypes we skip; tensor_data.py does the reading.
"""

from __future__ import annotations

import math

from .inert import describe
from .limits import MAX_INDEX_VALUE, MAX_TENSOR_DIMS
from .problem import FormatProblem, shown
from .torch_types import TorchDtype


class StorageRegion:
    """Where a storage's bytes are in the file."""

    __slots__ = ("offset", "nbytes", "big_endian")

    def __init__(self, offset: int, nbytes: int, big_endian: bool):
        self.offset = offset
        self.nbytes = nbytes
        self.big_endian = big_endian


class StorageRef:
    """A storage named by a persistent id: `numel` elements of `dtype`.

    `byte_offset` is non-zero only for legacy-format storage views, which
    start part-way into their root storage's bytes. `region` is None until
    the reader has located the bytes (the legacy format stores them after
    the pickle that references them).
    """

    __slots__ = ("key", "dtype", "numel", "byte_offset", "region")

    def __init__(self, key: str, dtype: TorchDtype, numel: int, byte_offset: int = 0):
        self.key = key
        self.dtype = dtype
        self.numel = numel
        self.byte_offset = byte_offset
        self.region: StorageRegion | None = None

    def bind(self, region: StorageRegion) -> None:
        """Attach the bytes; the declared storage must fit inside them.

        Declared bytes may be fewer than the record holds (never more):
        torch writes them equal, and a shorter declaration can only make
        fewer bytes reachable.
        """
        needed = self.byte_offset + self.numel * self.dtype.itemsize
        if needed > region.nbytes:
            raise FormatProblem(
                f"storage {self.key!r} declares {self.numel} {self.dtype.name} elements "
                f"({needed} bytes) but its data holds only {region.nbytes} bytes"
            )
        self.region = region

    def __setstate__(self, state):
        raise FormatProblem(f"the file tries to modify storage {self.key!r} after creating it")

    def __reduce__(self):
        raise TypeError("storage references are not picklable")


class TensorRef:
    """A validated strided view of a storage, not yet read."""

    __slots__ = ("storage", "dtype", "offset", "size", "stride", "negate")

    def __init__(self, storage, dtype, offset, size, stride, negate=False):
        self.storage = storage
        self.dtype = dtype
        self.offset = offset
        self.size = size
        self.stride = stride
        self.negate = negate

    @property
    def numel(self) -> int:
        return math.prod(self.size)

    def __setstate__(self, state):
        raise FormatProblem("the file tries to modify a tensor after building it")

    def __reduce__(self):
        raise TypeError("tensor references are not picklable")


def _as_index(value, what: str) -> int:
    # bool is an int subclass but never a valid size or stride.
    if type(value) is not int:
        raise FormatProblem(f"tensor {what} is {describe(value)}, not an integer")
    if value < 0 or value >= MAX_INDEX_VALUE:
        raise FormatProblem(f"tensor {what} {shown(value)} is out of range")
    return value


def _as_index_tuple(values, what: str) -> tuple[int, ...]:
    if not isinstance(values, (tuple, list)):
        raise FormatProblem(f"tensor {what} is {describe(values)}, not a tuple")
    if len(values) > MAX_TENSOR_DIMS:
        raise FormatProblem(f"tensor has {len(values)} dimensions (limit {MAX_TENSOR_DIMS})")
    return tuple(_as_index(value, what) for value in values)


def make_tensor_ref(storage, dtype, storage_offset, size, stride, metadata=None) -> TensorRef:
    """Validate a strided view of `storage` and return a reference to it."""
    if not isinstance(storage, StorageRef):
        raise FormatProblem(
            f"a tensor's storage is {describe(storage)}, not a storage from the file"
        )
    if not isinstance(dtype, TorchDtype):
        raise FormatProblem(f"a tensor's dtype is {describe(dtype)}, not a torch dtype")
    offset = _as_index(storage_offset, "storage offset")
    size = _as_index_tuple(size, "size")
    # numpy refuses shapes whose non-zero dimensions multiply past its
    # index range even when another dimension is 0 and the array is empty.
    if math.prod(max(n, 1) for n in size) >= MAX_INDEX_VALUE // 8:
        raise FormatProblem(f"tensor size {size} is too large")
    stride = _as_index_tuple(stride, "stride")
    if len(size) != len(stride):
        raise FormatProblem(f"tensor size {size} and stride {stride} differ in length")
    storage_bytes = storage.numel * storage.dtype.itemsize
    available = storage_bytes // dtype.itemsize
    if math.prod(size) == 0:
        last_index = offset - 1
    else:
        last_index = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if offset > available or last_index >= available:
        raise FormatProblem(
            f"tensor view (offset {offset}, size {size}, stride {stride}) reaches element "
            f"{last_index} of storage {storage.key!r}, which has {available} {dtype.name} elements"
        )
    negate = False
    if metadata:
        if not isinstance(metadata, dict):
            raise FormatProblem(f"tensor metadata is {describe(metadata)}, not a dict")
        # torch's lazy negation bit: the stored values are the negatives.
        negate = dict.get(metadata, "neg", False) is True
    # A dimension of size 1 never steps, so its stride can be anything below
    # MAX_INDEX_VALUE; numpy would overflow multiplying it by the item size.
    stride = tuple(0 if n == 1 else s for n, s in zip(size, stride))
    return TensorRef(storage, dtype, offset, size, stride, negate)
