"""Bounds on work and memory that numbers inside a file can demand.

A checkpoint is untrusted input: a few bytes can claim a terabyte tensor
(stride 0 over a one-element storage), a memo slot at index 2**32, or a
million copies of one large list. Every such claim is charged against a
budget proportional to the file's real size, so a small hostile file can
only cost a small amount of memory.
"""

from __future__ import annotations

from .problem import FormatProblem

# Output tensors are float32 and may legitimately exceed the bytes they came
# from: float16/bfloat16 double in size, and a checkpoint can hold several
# views of one storage (a weight and its transpose). Eight times the file
# plus a fixed allowance covers all of that with room to spare.
OUTPUT_BYTES_PER_FILE_BYTE = 8
OUTPUT_BYTES_ALLOWANCE = 64 * 1024 * 1024

# Container constructors named by a pickle (builtins.list, set, ...) copy
# elements that were already paid for by pickle bytes; a pickle could call
# them repeatedly on the same large list. Allow a generous multiple.
COPIED_ELEMENTS_PER_PICKLE_BYTE = 8
COPIED_ELEMENTS_ALLOWANCE = 1 << 20

# Protocol-0 text opcodes are single lines; anything longer is not a pickle
# a real writer produced.
MAX_PICKLE_LINE_BYTES = 1 << 20

MAX_TENSOR_DIMS = 64
# Sizes, strides and offsets beyond this cannot index any real file and
# would overflow C integers downstream.
MAX_INDEX_VALUE = 1 << 62


class Budget:
    """A countdown of units (bytes or elements) that raises when spent."""

    def __init__(self, limit: int, what: str):
        self.remaining = limit
        self.limit = limit
        self.what = what

    def charge(self, amount: int) -> None:
        self.remaining -= amount
        if self.remaining < 0:
            raise FormatProblem(
                f"the file would need more than {self.limit} {self.what}; "
                "refusing to allocate that much for a file of this size"
            )


def output_budget(file_size: int) -> Budget:
    return Budget(
        OUTPUT_BYTES_PER_FILE_BYTE * file_size + OUTPUT_BYTES_ALLOWANCE,
        "bytes of output tensors",
    )


def copy_budget(pickle_size: int) -> Budget:
    return Budget(
        COPIED_ELEMENTS_PER_PICKLE_BYTE * pickle_size + COPIED_ELEMENTS_ALLOWANCE,
        "container elements built by pickle constructors",
    )
