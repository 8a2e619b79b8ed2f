"""Reading the legacy torch.save format (before 1.6, or
_use_new_zipfile_serialization=False).

The file is a sequence: pickled magic number, pickled protocol version,
pickled sys_info, the main pickle, a pickled list of storage keys, and then
for each key in that order an 8-byte little-endian element count followed
by the storage's raw bytes. Storages are referenced from the main pickle
before their bytes appear, so references are collected first and bound to
their byte ranges afterwards.
"""

from __future__ import annotations

from .mapped_file import MappedFile
from .problem import FormatProblem, shown
from .safe_unpickler import unpickle_region
from .storage_ids import element_count_of, storage_key_of, storage_type_of
from .tensor_rebuild import StorageRef, StorageRegion
from .torch_types import TorchDtype
from .torch_zip import PickledContents

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


class _LegacyStorageLoader:
    """Collects storage ids; binds them once the storage records are found."""

    def __init__(self):
        # Element counts in the file are in units of the dtype the key was
        # first seen with (that is the dtype torch wrote the record in).
        self.first_dtype: dict[str, TorchDtype] = {}
        self.refs: dict[str, list[StorageRef]] = {}
        self._cache: dict[tuple, StorageRef] = {}

    def __call__(self, fields: tuple) -> StorageRef:
        if len(fields) != 5:
            raise FormatProblem(f"a storage id has {len(fields) + 1} fields, expected 6")
        storage_type = storage_type_of(fields[0])
        key = storage_key_of(fields[1])
        numel = element_count_of(fields[3])
        view = fields[4]
        dtype = storage_type.dtype
        self.first_dtype.setdefault(key, dtype)
        byte_offset = 0
        if view is not None:
            # Very old torch saved storage views: (view key, offset, size),
            # in elements of the root storage.
            if not isinstance(view, tuple) or len(view) != 3:
                raise FormatProblem("a storage view description is malformed")
            offset = element_count_of(view[1], "storage view offset")
            numel = element_count_of(view[2], "storage view size")
            byte_offset = offset * dtype.itemsize
        cache_key = (key, dtype.name, numel, byte_offset)
        if cache_key not in self._cache:
            ref = StorageRef(key, dtype, numel, byte_offset)
            self._cache[cache_key] = ref
            self.refs.setdefault(key, []).append(ref)
        return self._cache[cache_key]


def _expect_header(mapped: MappedFile, position: int, what: str):
    unpickled = unpickle_region(mapped.view, position, mapped.size, what)
    return unpickled.value, unpickled.end


def _bind_storage_records(mapped, loader, keys, position, big_endian) -> None:
    bound = set()
    for key in keys:
        if key in bound:
            raise FormatProblem(f"storage {key!r} is listed twice")
        dtype = loader.first_dtype.get(key)
        if dtype is None:
            raise FormatProblem(f"storage {key!r} is listed but no tensor refers to it")
        if position + 8 > mapped.size:
            raise FormatProblem(f"the file ends before the data of storage {key!r}")
        count = int.from_bytes(mapped.read_at(position, 8), "little", signed=True)
        nbytes = count * dtype.itemsize
        start = position + 8
        if count < 0 or start + nbytes > mapped.size:
            raise FormatProblem(
                f"storage {key!r} claims {count} elements ({nbytes} bytes) at offset {start}, "
                f"past the end of the {mapped.size}-byte file"
            )
        region = StorageRegion(mapped.view, start, nbytes, big_endian)
        for ref in loader.refs.get(key, []):
            ref.bind(region)
        bound.add(key)
        position = start + nbytes


def read_torch_legacy(mapped: MappedFile) -> PickledContents:
    magic, position = _expect_header(mapped, 0, "magic number pickle")
    if magic != LEGACY_MAGIC_NUMBER:
        raise FormatProblem("legacy torch magic number is wrong")
    version, position = _expect_header(mapped, position, "protocol version pickle")
    if version != LEGACY_PROTOCOL_VERSION:
        raise FormatProblem(f"unsupported legacy torch protocol version {shown(version)}")
    sys_info, position = _expect_header(mapped, position, "sys_info pickle")
    if not isinstance(sys_info, dict):
        raise FormatProblem("legacy sys_info is not a dict")
    big_endian = sys_info.get("little_endian", True) is False

    loader = _LegacyStorageLoader()
    main = unpickle_region(
        mapped.view, position, mapped.size, "main pickle", loader, allow_module_ids=True
    )
    keys, position = _expect_header(mapped, main.end, "storage key list pickle")
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise FormatProblem("legacy storage key list is not a list of strings")
    _bind_storage_records(mapped, loader, keys, position, big_endian)
    return PickledContents(
        format="torch-legacy",
        roots=[("", main.value)],
        placeholder_names=set(main.placeholder_names),
        extras={"byteorder": "big" if big_endian else "little"},
    )
