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

from .limits import Budget
from .checkpoint_file import CheckpointFile
from .problem import FormatProblem, shown
from .safe_unpickler import unpickle_region
from .storage_ids import element_count_of, parse_storage_id, storage_key_of
from .tensor_rebuild import StorageRef, StorageRegion
from .torch_zip import PickledContents

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001


class _LegacyStorageLoader:
    """Collects storage ids; binds them once the storage records are found."""

    def __init__(self):
        # As in torch, the first id naming a key fixes the storage's dtype
        # and size; the element count before its bytes is in that dtype.
        self.roots: dict[str, StorageRef] = {}
        self._views: dict[str, StorageRef] = {}
        self.refs: dict[str, list[StorageRef]] = {}

    def __call__(self, fields: tuple) -> StorageRef:
        storage_type, key, numel = parse_storage_id(fields, 6)
        view = fields[4]
        if key not in self.roots:
            self.roots[key] = StorageRef(key, storage_type.dtype, numel)
            self.refs[key] = [self.roots[key]]
        if view is None:
            return self.roots[key]
        # Torch before 0.4 saved storage views: (view key, offset, size) in
        # elements of this id's dtype, cached by view key like roots.
        if not isinstance(view, tuple) or len(view) != 3:
            raise FormatProblem("a storage view description is malformed")
        view_key = storage_key_of(view[0])
        if view_key not in self._views:
            offset = element_count_of(view[1], "storage view offset")
            size = element_count_of(view[2], "storage view size")
            dtype = storage_type.dtype
            self._views[view_key] = StorageRef(key, dtype, size, offset * dtype.itemsize)
            self.refs[key].append(self._views[view_key])
        return self._views[view_key]


def _bind_storage_records(file, loader, keys, position) -> None:
    bound = set()
    for key in keys:
        if key in bound:
            raise FormatProblem(f"storage {shown(key)} is listed twice")
        root = loader.roots.get(key)
        if root is None:
            raise FormatProblem(f"storage {shown(key)} is listed but no tensor refers to it")
        if position + 8 > file.size:
            raise FormatProblem(f"the file ends before the data of storage {shown(key)}")
        count = int.from_bytes(file.read_at(position, 8), "little", signed=True)
        nbytes = count * root.dtype.itemsize
        start = position + 8
        if count < 0 or start + nbytes > file.size:
            raise FormatProblem(
                f"storage {shown(key)} claims {count} elements ({nbytes} bytes) at offset "
                f"{start}, past the end of the {file.size}-byte file"
            )
        # torch writes legacy storages little-endian on every machine (and
        # ignores sys_info's little_endian flag when loading), so do we.
        region = StorageRegion(start, nbytes, big_endian=False)
        for ref in loader.refs[key]:
            ref.bind(region)
        bound.add(key)
        position = start + nbytes


def read_torch_legacy(file: CheckpointFile, budget: Budget) -> PickledContents:

    def unpickle_next(position, what, loader=None):
        return unpickle_region(
            file, position, file.size, what, budget, loader, allow_module_ids=True
        )

    magic = unpickle_next(0, "magic number pickle")
    if magic.value != LEGACY_MAGIC_NUMBER:
        raise FormatProblem("legacy torch magic number is wrong")
    version = unpickle_next(magic.end, "protocol version pickle")
    if version.value != LEGACY_PROTOCOL_VERSION:
        raise FormatProblem(f"unsupported legacy torch protocol version {shown(version.value)}")
    # sys_info describes the writing machine; torch reads it and ignores it.
    sys_info = unpickle_next(version.end, "sys_info pickle")

    loader = _LegacyStorageLoader()
    main = unpickle_next(sys_info.end, "main pickle", loader)
    keys = unpickle_next(main.end, "storage key list pickle")
    if type(keys.value) is not list or not all(type(key) is str for key in keys.value):
        raise FormatProblem("legacy storage key list is not a list of strings")
    _bind_storage_records(file, loader, keys.value, keys.end)
    return PickledContents(
        format="torch-legacy",
        roots=[("", main.value)],
        placeholder_names=set(main.placeholder_names),
        extras={"byteorder": "little"},
    )
