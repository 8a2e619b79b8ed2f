"""What distinguishes a TorchScript archive from a torch.save zip.

Both are zips with <folder>/data.pkl. torch.jit.save adds the compiled
module's source under code/ and its tensor constants in constants.pkl (with
their storages under constants/). The source is never read; the weights are
in data.pkl as the state of __torch__.* objects, which the safe unpickler
keeps as inert placeholders for the flattener to walk.
"""

from __future__ import annotations

from .zip_archive import ZipArchive

# Tensor constants get names no module attribute can have clashed with.
CONSTANTS_ROOT = "__constants__"


def is_torchscript(archive: ZipArchive) -> bool:
    return archive.has("constants.pkl") or bool(archive.names_under("code"))


def extra_pickles(archive: ZipArchive) -> list[tuple[str, str, str]]:
    """(pickle record, storage folder, name prefix) beyond data.pkl."""
    if archive.has("constants.pkl"):
        return [("constants.pkl", "constants", CONSTANTS_ROOT)]
    return []
