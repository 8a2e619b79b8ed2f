"""A checkpoint file opened for reading, and bounded file-like views of it.

Everything the readers take from the file is copied into memory they own,
by pread on the one descriptor opened here - never through a plain memory
map - except the storages ``lnfast.load`` packs in place (``map_storages``):
those are viewed through the core's guarded mapping, see ``storage_bytes``.
Why pread:
 - a memory map turns a concurrent truncation (torch.save rewriting the
   file in place, say) into SIGBUS, which kills the whole process; a read
   merely comes back short, and a short read - or a size or mtime that
   differs at the end from the start - is reported as a file that changed
   while it was read, so torn contents are never returned;
 - the descriptor is opened with O_NONBLOCK and checked with fstat before
   anything is read, so a FIFO or a device is refused instead of blocking
   in open() or read(); and what fstat checked is what is read, since the
   path is never opened again (see reopenable_path);
 - every read is clamped to the file's size: zipfile and pickles ask for
   lengths taken from the file, and a real file object allocates whatever
   it is asked for before it reads.
"""

from __future__ import annotations

import errno
import io
import os
import stat

import numpy as np

from .problem import FormatProblem

_NOT_REGULAR = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)
_BUFFER_BYTES = 1 << 16
# readline() stops after this many bytes instead of copying the rest of a
# multi-gigabyte file when no newline comes.
LINE_LIMIT = 1 << 16


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_size, info.st_mtime_ns


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), "not a regular file")


class CheckpointFile:
    """One open, regular file; use as a context manager."""

    def __init__(self, path: str, map_storages: bool = False):
        self.path = path
        self._map_storages = map_storages
        self._guarded = None  # the core's GuardedMapping, once mapped
        self._mapping = None  # a uint8 view of all of it
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            info = os.fstat(descriptor)
            kind = _not_regular(info.st_mode)
            if kind is not None:
                raise FormatProblem(f"cannot read the file: it is {kind}, not a regular file")
            os.set_blocking(descriptor, True)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        self.size = info.st_size
        self._identity = _identity(info)

    @property
    def reopenable_path(self) -> str:
        """A name that opens this very file again, even if `path` has since
        been replaced (by a FIFO, say): the descriptor's /proc entry."""
        own = f"/proc/self/fd/{self._descriptor}"
        return own if os.path.exists(own) else self.path

    def read_at(self, offset: int, length: int) -> bytes:
        """Bytes [offset, offset + length), clipped to the file's size."""
        length = max(0, min(length, self.size - offset))
        buffer = bytearray(length)
        self.read_into(offset, buffer)
        return bytes(buffer)

    def read_into(self, offset: int, buffer) -> None:
        """Fill `buffer` from `offset`, or raise if the file has become shorter."""
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view):
            got = self.read_some(offset + done, view[done:])
            if got == 0:
                raise self.changed_problem()
            done += got

    def read_some(self, offset: int, view: memoryview) -> int:
        """One pread into `view`: how many bytes came (0 at the end)."""
        return os.preadv(self._descriptor, [view], offset)

    def storage_bytes(self, offset: int, length: int):
        """Bytes [offset, offset + length) of the file as a read-only numpy
        array. Opened with ``map_storages``, a view of the file's guarded
        mapping (the core's ``GuardedMapping``): no copy, and a file cut
        short meanwhile reads zeros instead of raising SIGBUS, so whoever
        uses the view must check ``has_changed()`` once done with it
        (``formats.mapped_checkpoint`` does). Otherwise a private copy."""
        if self._map_storages and self._mapping is None:
            self._map()
        if self._mapping is None:
            return copy_storage(self, offset, length)
        check_storage_span(self, offset, length)
        return self._mapping[offset : offset + length]

    def _map(self) -> None:
        from .. import _core  # the compiled core owns the SIGBUS guard
        from ..errors import CheckpointError

        try:
            # The descriptor's own name: what fstat checked is what is
            # mapped. Every page mapped in up front, on every CPU: the
            # packer reads them all, and a fault per 64 KiB costs more
            # (docs/speed.md#loading).
            self._guarded = _core.GuardedMapping(self.reopenable_path, populate=True)
        except CheckpointError:
            # No mapping to be had (address space, every guard slot taken
            # by live mappings): read copies, as read_checkpoint does.
            self._map_storages = False
            return
        self._mapping = np.frombuffer(self._guarded, dtype=np.uint8)

    def stream(self, start: int, end: int) -> "RegionReader":
        return RegionReader(self, start, min(end, self.size))

    in_memory = False

    def changed_problem(self) -> FormatProblem:
        now = os.fstat(self._descriptor).st_size
        return FormatProblem(
            "the file changed while it was being read (it was "
            f"{self.size} bytes when opened and is {now} now; rewritten by another process?)"
        )

    def has_changed(self) -> bool:
        """Whether the file was truncated, extended or written to since it
        was opened (a rewrite to the same size changes its mtime), or a
        truncation was caught reading the mapping."""
        if self._guarded is not None and self._guarded.damaged:
            return True
        return _identity(os.fstat(self._descriptor)) != self._identity

    def close(self) -> None:
        # Views handed out keep the mapping itself alive (and guarded).
        self._guarded = self._mapping = None
        if self._descriptor >= 0:
            os.close(self._descriptor)
            self._descriptor = -1

    def __enter__(self) -> "CheckpointFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def check_storage_span(file, offset: int, length: int) -> None:
    """FormatProblem unless bytes [offset, offset + length) lie within
    `file` (a CheckpointFile or a MemorySource)."""
    if offset < 0 or length < 0 or offset + length > file.size:
        raise FormatProblem(f"a storage's bytes [{offset}, {offset + length}) reach past the "
                            f"end of the {file.size} bytes")


def copy_storage(file, offset: int, length: int) -> np.ndarray:
    """A private, writable copy of bytes [offset, offset + length) of `file`."""
    check_storage_span(file, offset, length)
    data = np.empty(length, dtype=np.uint8)
    file.read_into(offset, data)
    return data


class _RegionRaw(io.RawIOBase):
    """Unbuffered reads of bytes [start, end) of the file, at absolute offsets."""

    def __init__(self, file, start: int, end: int):
        super().__init__()
        self._file = file
        self._end = end
        self._position = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        length = max(0, min(len(buffer), self._end - self._position))
        if length == 0:
            return 0
        view = memoryview(buffer).cast("B")[:length]
        got = self._file.read_some(self._position, view)
        self._position += got
        return got

    def seek(self, offset: int, whence: int = 0) -> int:
        self._position = offset if whence == 0 else self._position + offset
        return self._position

    def tell(self) -> int:
        return self._position


class RegionReader:
    """A binary file interface over bytes [start, end) of the file, at
    absolute offsets, that never reads, returns or allocates past `end`."""

    def __init__(self, file, start: int, end: int):
        self._start = start
        self._end = max(start, end)
        self._position = start
        self._buffered = io.BufferedReader(_RegionRaw(file, start, self._end), _BUFFER_BYTES)

    def read(self, size: int = -1) -> bytes:
        available = self._end - self._position
        if size is None or size < 0 or size > available:
            size = available
        data = self._buffered.read(size)
        self._position += len(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        limit = min(LINE_LIMIT, self._end - self._position)
        if size is not None and 0 <= size < limit:
            limit = size
        line = self._buffered.readline(limit)
        self._position += len(line)
        return line

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            target = offset
        elif whence == 1:
            target = self._position + offset
        elif whence == 2:
            target = self._end + offset
        else:
            raise OSError(errno.EINVAL, f"invalid whence {whence}")
        if target < 0:
            # What a real file raises; zipfile relies on catching OSError.
            raise OSError(errno.EINVAL, "negative seek position")
        self._position = min(max(target, self._start), self._end)
        self._buffered.seek(self._position)
        return self._position

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True
