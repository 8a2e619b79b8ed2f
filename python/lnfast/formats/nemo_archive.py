"""NeMo's .nemo archives: a tar (plain, or gzip-compressed by older NeMo)
holding ``model_weights.ckpt`` (a torch.save state_dict) and
``model_config.yaml``, at the top or under ``./``.

Nothing is extracted to disk. tarfile only walks the member headers; the
weights member is copied into memory (a MemorySource) and read by the
same readers as any other checkpoint. What a hostile tar could use is
refused, naming the member: links and devices, names that climb out of
the archive, a weights member claiming more bytes than the archive can
hold, too many members, a truncated or corrupt stream.
"""

from __future__ import annotations

import posixpath
import tarfile
import zlib

from .memory_source import MAX_IN_MEMORY_BYTES
from .problem import FormatProblem, shown

WEIGHTS_MEMBER = "model_weights.ckpt"
GZIP_MAGIC = b"\x1f\x8b"
# A .nemo holds a handful of members (weights, config, tokenizer files);
# walking more headers than this is refused, which bounds the time a
# hostile archive of empty members can take.
MAX_MEMBERS = 10_000
# Deflate expands at most about 1032 times: a gzip member cannot honestly
# claim more than that many bytes per byte of the archive.
_MAX_DEFLATE_RATIO = 1032
_WHAT_IS_READ = (f"lnfast reads a tar only as a NeMo .nemo archive holding {WEIGHTS_MEMBER}; "
                 "tar-based torch checkpoints (PyTorch before 0.1.10) are not supported")


def is_tar(head: bytes) -> bool:
    return head[257:262] == b"ustar"


def read_nemo_weights(file) -> bytes:
    """The bytes of the archive's model_weights.ckpt."""
    compressed = file.read_at(0, 2) == GZIP_MAGIC
    limit = min(MAX_IN_MEMORY_BYTES,
                file.size * _MAX_DEFLATE_RATIO if compressed else file.size)
    try:
        with tarfile.open(fileobj=file.stream(0, file.size),
                          mode="r:gz" if compressed else "r:") as archive:
            member = _weights_member(archive, limit)
            data = archive.extractfile(member).read(member.size)
    except FormatProblem:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError) as error:
        raise FormatProblem(f"a damaged tar archive ({error}); {_WHAT_IS_READ}") from None
    if len(data) != member.size:
        raise FormatProblem(f"the .nemo archive is truncated: member {shown(member.name)} "
                            f"declares {member.size} bytes, {len(data)} are present")
    return data


def _weights_member(archive: tarfile.TarFile, limit: int) -> tarfile.TarInfo:
    found, names, count = None, [], 0
    while True:
        member = archive.next()
        if member is None:
            break
        count += 1
        if count > MAX_MEMBERS:
            raise FormatProblem(f"the .nemo archive has more than {MAX_MEMBERS} members")
        name = _checked_name(member.name)
        if len(names) < 8:
            names.append(name)
        if not (member.isfile() or member.isdir()):
            raise FormatProblem(f"the .nemo archive's member {shown(member.name)} is a "
                                f"{_kind(member)}; only regular files are read")
        if name != WEIGHTS_MEMBER:
            continue
        if not member.isfile():
            raise FormatProblem(f"the .nemo archive's {WEIGHTS_MEMBER} is not a regular file")
        if found is not None:
            raise FormatProblem(f"the .nemo archive holds {WEIGHTS_MEMBER} twice")
        if member.size > limit:
            raise FormatProblem(f"the .nemo archive's {WEIGHTS_MEMBER} claims {member.size} "
                                f"bytes, more than an archive of this size can hold ({limit})")
        found = member
    if found is None:
        listed = ", ".join(shown(n) for n in names) or "none"
        raise FormatProblem(
            f"a tar archive without {WEIGHTS_MEMBER} (its members: {listed}); {_WHAT_IS_READ}")
    return found


def _checked_name(name: str) -> str:
    """The member's name without a leading './'; names that are absolute
    or climb with '..' are refused (nothing NeMo writes looks like that)."""
    normal = posixpath.normpath(name) if name else ""
    if name.startswith("/") or normal == ".." or normal.startswith("../") or "\x00" in name:
        raise FormatProblem(f"the .nemo archive's member name {shown(name)} points outside it")
    return normal


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symbolic link"
    if member.islnk():
        return "hard link"
    if member.isdev():
        return "device or FIFO"
    return "special member"
