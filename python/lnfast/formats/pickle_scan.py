"""Walk a pickle's opcodes without executing them, before unpickling it.

The C unpickler trusts numbers in the stream: a BINBYTES8 length is
allocated before the bytes are read, and a LONG_BINPUT index of 2**32
resizes the memo table to match. Walking the opcodes first with pickletools
(which reads every counted argument through a bounded reader and fails on a
short read) proves that every length fits in the data, and lets us reject
memo indices and frame sizes no real writer would produce. The walk also
finds where the pickle ends, which the legacy format needs because several
pickles and raw storages are concatenated in one file.
"""

from __future__ import annotations

import pickletools
import warnings

from .mapped_file import BoundedReader
from .problem import FormatProblem, clipped

_MEMO_PUT_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT"}


def scan_pickle(buffer, start: int, end: int, what: str) -> int:
    """Check the pickle beginning at `start`; return the offset just after STOP."""
    length = end - start
    reader = BoundedReader(buffer, start, end)
    try:
        with warnings.catch_warnings():
            # Decoding a protocol-0 string with an invalid escape only warns;
            # no real pickler writes one, so it is malformed data - and the
            # unpickler, which decodes it again, then never sees it.
            warnings.simplefilter("error")
            return _walk(reader, start, length, what)
    except FormatProblem:
        raise
    except Exception as error:  # pickletools reports malformed data many ways
        raise FormatProblem(
            f"{what} is not a valid pickle (stopped at byte {reader.tell()}): "
            f"{clipped(str(error))}"
        ) from None


def _walk(reader: BoundedReader, start: int, length: int, what: str) -> int:
    for opcode, argument, position in pickletools.genops(reader):
        if opcode.name in _MEMO_PUT_OPCODES:
            # Memo slots are numbered consecutively by real picklers and
            # each PUT costs at least two bytes.
            if not isinstance(argument, int) or argument < 0 or argument > length:
                raise FormatProblem(
                    f"{what}: memo index {argument!r} at byte {position} "
                    f"is impossible in a {length}-byte pickle"
                )
        elif opcode.name == "FRAME":
            if argument > length - reader.tell():
                raise FormatProblem(
                    f"{what}: frame of {argument} bytes at byte {position} "
                    "runs past the end of the data"
                )
        elif opcode.name == "STOP":
            return start + position + 1
    raise FormatProblem(f"{what} is not a valid pickle: no STOP opcode")
