"""Reading torch.save zip archives and TorchScript archives.

data.pkl is unpickled by the safe unpickler; each ('storage', type, key,
location, numel) persistent id is resolved to the uncompressed record
<folder>/data/<key>, whose bytes stay in the memory map until the tensor
is copied out as float32.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .mapped_file import MappedFile
from .limits import Budget
from .problem import FormatProblem, clipped
from .safe_unpickler import unpickle_region
from .storage_ids import element_count_of, storage_key_of, storage_type_of
from .tensor_rebuild import StorageRef, StorageRegion
from .torchscript import extra_pickles, is_torchscript
from .zip_archive import ZipArchive


@dataclass
class PickledContents:
    """What a torch reader hands to the flattener."""

    format: str
    # (name prefix, unpickled object) pairs to flatten.
    roots: list[tuple[str, object]]
    placeholder_names: set[str] = field(default_factory=set)
    extras: dict[str, object] = field(default_factory=dict)


def _byte_order_is_big(archive: ZipArchive) -> bool:
    if not archive.has("byteorder"):
        # Archives from before torch 1.10 lack the record; they were
        # written on little-endian machines in practice.
        return False
    order = archive.read_small("byteorder", 16).strip()
    if order == b"little":
        return False
    if order == b"big":
        return True
    raise FormatProblem(f"byteorder record says {order[:16]!r}, expected 'little' or 'big'")


class _ZipStorageLoader:
    """Resolves storage ids of one pickle against its storage folder."""

    def __init__(self, archive: ZipArchive, mapped: MappedFile, folder: str, big_endian: bool):
        self._archive = archive
        self._mapped = mapped
        self._folder = folder
        self._big_endian = big_endian
        self._refs: dict[str, StorageRef] = {}

    def __call__(self, fields: tuple) -> StorageRef:
        if len(fields) != 4:
            raise FormatProblem(f"a storage id has {len(fields) + 1} fields, expected 5")
        storage_type = storage_type_of(fields[0])
        key = storage_key_of(fields[1])
        numel = element_count_of(fields[3])
        # As in torch, the first id naming a key fixes the storage's dtype
        # and size; later ids for that key get the same storage, so one
        # record is never read as two different dtypes.
        if key not in self._refs:
            offset, length = self._archive.locate(f"{self._folder}/{key}")
            ref = StorageRef(key, storage_type.dtype, numel)
            ref.bind(StorageRegion(self._mapped.view, offset, length, self._big_endian))
            self._refs[key] = ref
        return self._refs[key]


def _unpickle_record(archive, mapped, record, folder, big_endian, budget):
    offset, length = archive.locate(record)
    loader = _ZipStorageLoader(archive, mapped, folder, big_endian)
    what = clipped(f"{archive.prefix}/{record}")
    return unpickle_region(mapped.view, offset, offset + length, what, budget, loader)


def read_torch_zip(mapped: MappedFile, budget: Budget) -> PickledContents:
    archive = ZipArchive(mapped)
    big_endian = _byte_order_is_big(archive)
    script = is_torchscript(archive)
    main = _unpickle_record(archive, mapped, "data.pkl", "data", big_endian, budget)
    contents = PickledContents(
        format="torchscript" if script else "torch-zip",
        roots=[("", main.value)],
        placeholder_names=set(main.placeholder_names),
        extras={"archive_folder": archive.prefix, "byteorder": "big" if big_endian else "little"},
    )
    if archive.has("version"):
        version = archive.read_small("version", 64).strip()
        contents.extras["archive_version"] = version.decode("ascii", "replace")
    if script:
        for record, folder, root_name in extra_pickles(archive):
            extra = _unpickle_record(archive, mapped, record, folder, big_endian, budget)
            contents.roots.append((root_name, extra.value))
            contents.placeholder_names |= extra.placeholder_names
    return contents
