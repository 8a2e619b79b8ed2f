"""A checkpoint file mapped into memory, and a bounded file-like view of it.

Mapping lets tensor data be read straight from the page cache without first
copying the whole file into a bytes object. The file-like reader exists
because zipfile calls read(n) with n taken from the file; a real file
object may allocate n bytes up front, while this reader never returns or
allocates more than what is actually there.

The file must not be truncated while it is mapped: touching a page past
the new end raises SIGBUS. Readers copy tensors out before returning.
"""

from __future__ import annotations

import errno
import mmap
import os

from .problem import FormatProblem


class MappedFile:
    """Read-only memory map of a whole file; use as a context manager."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as handle:
            self.size = os.fstat(handle.fileno()).st_size
            if self.size == 0:  # mmap cannot map an empty file
                raise FormatProblem("the file is empty")
            self.view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def read_at(self, offset: int, length: int) -> bytes:
        """Copy out bytes [offset, offset + length), clipped to the file."""
        return self.view[offset : offset + length]

    def close(self) -> None:
        try:
            self.view.close()
        except BufferError:
            # A numpy view on the map is still alive (only possible while an
            # exception traceback holds it); the map is released when that
            # view is garbage collected.
            pass

    def __enter__(self) -> "MappedFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class BoundedReader:
    """Minimal binary file interface over a buffer, never reading past its end."""

    def __init__(self, buffer):
        self._buffer = buffer
        self._size = len(buffer)
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        available = self._size - self._pos
        if size is None or size < 0 or size > available:
            size = available
        data = self._buffer[self._pos : self._pos + size]
        self._pos += size
        return bytes(data)

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            target = offset
        elif whence == 1:
            target = self._pos + offset
        elif whence == 2:
            target = self._size + offset
        else:
            raise OSError(errno.EINVAL, f"invalid whence {whence}")
        if target < 0:
            # What a real file raises; zipfile relies on catching OSError.
            raise OSError(errno.EINVAL, "negative seek position")
        self._pos = min(target, self._size)
        return self._pos

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
