"""Checkpoint bytes held in memory (``bytes``, a file object's contents, a
member of a .nemo archive), behind the interface of CheckpointFile.

The readers only ever call read_at / read_into / read_some / stream /
storage_bytes and look at ``size``, so the same bounded, copying code
reads a file on disk and bytes in memory: nothing is written to a temporary file, and every
limit that depends on the size applies unchanged. Memory cannot change
while it is read (the bytes are a private, immutable copy), so
``has_changed`` is always False.
"""

from __future__ import annotations

import numpy as np

from .checkpoint_file import RegionReader, copy_storage
from .problem import FormatProblem

# A file object may be a pipe or a socket that never ends: at most this
# many bytes are taken from one (and from any member a .nemo archive
# decompresses); more is refused instead of filling memory.
MAX_IN_MEMORY_BYTES = 1 << 34
_CHUNK_BYTES = 1 << 20


class MemorySource:
    """Immutable bytes with CheckpointFile's reading interface."""

    in_memory = True

    def __init__(self, data: bytes, path: str):
        self._data = memoryview(bytes(data)).cast("B")
        self.path = path
        self.size = len(self._data)

    def read_at(self, offset: int, length: int) -> bytes:
        length = max(0, min(length, self.size - offset))
        return bytes(self._data[offset : offset + length])

    def read_some(self, offset: int, view: memoryview) -> int:
        piece = self._data[offset : offset + len(view)]
        view[: len(piece)] = piece
        return len(piece)

    def read_into(self, offset: int, buffer) -> None:
        view = memoryview(buffer).cast("B")
        if self.read_some(offset, view) != len(view):
            raise FormatProblem(f"a read ends past the end of the {self.size} bytes")

    def storage_bytes(self, offset: int, length: int) -> np.ndarray:
        """A private, writable copy of bytes [offset, offset + length), as
        CheckpointFile gives without mapping."""
        return copy_storage(self, offset, length)

    def stream(self, start: int, end: int) -> RegionReader:
        return RegionReader(self, start, min(end, self.size))

    def has_changed(self) -> bool:
        return False

    def changed_problem(self) -> FormatProblem:  # never raised: memory does not change
        return FormatProblem("the bytes changed while they were read")

    def close(self) -> None:
        self._data = memoryview(b"")

    def __enter__(self) -> "MemorySource":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def read_file_object(file_object, what: str) -> bytes:
    """Everything a binary file object gives from where it stands, in
    chunks, refusing text streams and more than MAX_IN_MEMORY_BYTES."""
    chunks, total = [], 0
    while True:
        chunk = file_object.read(_CHUNK_BYTES)
        if chunk is None:  # a non-blocking stream with nothing ready
            raise FormatProblem(f"{what} is non-blocking and returned no data; pass bytes instead")
        if isinstance(chunk, str):
            raise FormatProblem(f"{what} is a text stream; open the file in binary mode ('rb')")
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > MAX_IN_MEMORY_BYTES:
            raise FormatProblem(f"{what} gives more than {MAX_IN_MEMORY_BYTES} bytes; "
                                "refusing to hold that much in memory")
        chunks.append(bytes(chunk))
