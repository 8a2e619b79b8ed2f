"""Recognising a checkpoint's format from its first bytes, never its name."""

from __future__ import annotations

from .. import _core
from .problem import FormatProblem

# Enough for the legacy magic pickle and the tar header's "ustar" field.
HEAD_BYTES = 512

ZIP = "zip"
LEGACY = "torch-legacy"
SAFETENSORS = "safetensors"
NEMO = "nemo"
LNFAST = "lnfast"

_ZIP_MAGIC = b"PK\x03\x04"
_LNFAST_MAGIC = _core.MODEL_FILE_MAGIC
_GZIP_MAGIC = b"\x1f\x8b"
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_PROTO = 0x80
_FRAME = 0x95
_LONG1 = 0x8A


def _starts_with_legacy_magic(head: bytes) -> bool:
    # pickle.dump(MAGIC_NUMBER, f, protocol=p): PROTO p, [FRAME n (p >= 4)],
    # LONG1 10 <10 little-endian bytes>.
    if len(head) < 2 or head[0] != _PROTO:
        return False
    position = 2
    if len(head) > position and head[position] == _FRAME:
        position += 9
    if len(head) < position + 12 or head[position] != _LONG1 or head[position + 1] != 10:
        return False
    value = int.from_bytes(head[position + 2 : position + 12], "little", signed=True)
    return value == _LEGACY_MAGIC


def _looks_like_safetensors(head: bytes) -> bool:
    # u64 little-endian header length, then a JSON object. Whether the
    # length fits the file is the safetensors reader's to report.
    return len(head) >= 10 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") >= 2


def detect_format(head: bytes) -> str:
    if head.startswith(_LNFAST_MAGIC):
        return LNFAST
    if head.startswith(_ZIP_MAGIC):
        return ZIP
    if _starts_with_legacy_magic(head):
        return LEGACY
    if _looks_like_safetensors(head):
        return SAFETENSORS
    if head[257:262] == b"ustar" or head.startswith(_GZIP_MAGIC):
        return NEMO  # a tar without model_weights.ckpt is refused by its reader
    raise FormatProblem(
        "not a recognised checkpoint: expected a PyTorch zip or legacy file, "
        "a TorchScript archive, safetensors or a NeMo .nemo archive"
    )
