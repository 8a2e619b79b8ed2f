"""Bounds on work and memory that numbers inside a file can demand.

A checkpoint is untrusted input: a few bytes can claim a terabyte tensor
(stride 0 over a one-element storage), and a megabyte of one-byte opcodes
can build hundreds of megabytes of Python objects. Every such cost is
charged against a budget proportional to the file's real size, so a small
hostile file can only cost a small amount of memory.
"""

from __future__ import annotations

from .problem import FormatProblem

# One budget covers everything a read builds: the objects its pickles make
# (each opcode is charged an estimate, see unpickle_limits.py) and the
# float32 tensors copied out. Tensors may legitimately exceed the bytes
# they came from: float16/bfloat16 double in size, and a checkpoint can
# hold several views of one storage (a weight and its transpose). Eight
# times the file plus a fixed allowance covers real files with room to
# spare, and bounds what a small hostile file can cost.
READ_BYTES_PER_FILE_BYTE = 8
READ_BYTES_ALLOWANCE = 64 * 1024 * 1024

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


def read_budget(file_size: int) -> Budget:
    return Budget(
        READ_BYTES_PER_FILE_BYTE * file_size + READ_BYTES_ALLOWANCE,
        "bytes of objects and tensors",
    )
