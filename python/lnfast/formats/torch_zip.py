"""Reading torch.save zip archives and TorchScript archives.

data.pkl is unpickled by the safe unpickler; each ('storage', type, key,
location, numel) persistent id is resolved to the uncompressed record
<folder>/data/<key>, whose bytes are read when the tensors are copied out
as float32 (tensor_data.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checkpoint_file import CheckpointFile
from .limits import Budget
from .problem import FormatProblem, clipped
from .safe_unpickler import unpickle_region
from .storage_ids import parse_storage_id
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

    def __init__(self, archive: ZipArchive, folder: str, big_endian: bool):
        self._archive = archive
        self._folder = folder
        self._big_endian = big_endian
        self._refs: dict[str, StorageRef] = {}

    def __call__(self, fields: tuple) -> StorageRef:
        storage_type, key, numel = parse_storage_id(fields, 5)
        # As in torch, the first id naming a key fixes the storage's dtype
        # and size; later ids for that key get the same storage, so one
        # record is never read as two different dtypes.
        if key not in self._refs:
            offset, length = self._archive.locate(f"{self._folder}/{key}")
            ref = StorageRef(key, storage_type.dtype, numel)
            ref.bind(StorageRegion(offset, length, self._big_endian))
            self._refs[key] = ref
        return self._refs[key]


def _unpickle_record(archive, file, record, folder, big_endian, budget):
    offset, length = archive.locate(record)
    loader = _ZipStorageLoader(archive, folder, big_endian)
    what = clipped(f"{archive.prefix}/{record}")
    return unpickle_region(file, offset, offset + length, what, budget, loader)


def read_torch_zip(file: CheckpointFile, budget: Budget) -> PickledContents:
    archive = ZipArchive(file)
    big_endian = _byte_order_is_big(archive)
    script = is_torchscript(archive)
    main = _unpickle_record(archive, file, "data.pkl", "data", big_endian, budget)
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
            extra = _unpickle_record(archive, file, record, folder, big_endian, budget)
            contents.roots.append((root_name, extra.value))
            contents.placeholder_names |= extra.placeholder_names
    return contents
