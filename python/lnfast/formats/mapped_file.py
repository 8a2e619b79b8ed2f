"""A checkpoint file mapped into memory, and a bounded file-like view of it.

Mapping lets tensor data be read straight from the page cache without first
copying the whole file into a bytes object. The file-like reader exists
because stdlib parsers (zipfile, pickletools) call read(n) with n taken from
the file; a real file object may allocate n bytes up front, while this
reader never returns or allocates more than what is actually there.
"""

from __future__ import annotations

import errno
import mmap
import os

from .limits import MAX_PICKLE_LINE_BYTES
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

    def __init__(self, buffer, start: int = 0, end: int | None = None):
        self._buffer = buffer
        self._start = start
        self._end = len(buffer) if end is None else end
        self._pos = start

    def read(self, size: int = -1) -> bytes:
        available = self._end - self._pos
        if size is None or size < 0 or size > available:
            size = available
        data = self._buffer[self._pos : self._pos + size]
        self._pos += size
        return bytes(data)

    def readline(self, size: int = -1) -> bytes:
        limit = min(self._end, self._pos + MAX_PICKLE_LINE_BYTES)
        if size is not None and size >= 0:
            limit = min(limit, self._pos + size)
        newline = self._buffer.find(b"\n", self._pos, limit)
        stop = limit if newline < 0 else newline + 1
        data = self._buffer[self._pos : stop]
        self._pos = stop
        return bytes(data)

    def tell(self) -> int:
        return self._pos - self._start

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            target = self._start + offset
        elif whence == 1:
            target = self._pos + offset
        elif whence == 2:
            target = self._end + offset
        else:
            raise OSError(errno.EINVAL, f"invalid whence {whence}")
        if target < self._start:
            # What a real file raises; zipfile relies on catching OSError.
            raise OSError(errno.EINVAL, "negative seek position")
        self._pos = min(target, self._end)
        return self._pos - self._start

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
