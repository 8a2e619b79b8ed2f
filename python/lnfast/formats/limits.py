"""Bounds on work and memory that numbers inside a file can demand.

A checkpoint is untrusted input: a few bytes can claim a terabyte tensor
(stride 0 over a one-element storage), and a megabyte of one-byte opcodes
can build hundreds of megabytes of Python objects. Every such cost is
charged against a budget proportional to the file's real size, so a small
hostile file can only cost a small amount of memory and time.

The loader's limits (each names the constant that holds it; a file that
reaches one raises lnfast.CheckpointError naming the limit):

| limit | value | what it bounds |
| --- | --- | --- |
| read budget (`READ_BYTES_PER_FILE_BYTE`, `READ_BYTES_ALLOWANCE`) | 8 bytes per byte of the file + 64 MiB | everything a read builds: the objects its pickles make (each opcode charged an estimate), the hashing work of every dict key and set item, the tensor names, the float32 output tensors |
| tensor dimensions (`MAX_TENSOR_DIMS`) | 64 | sizes and strides of one tensor |
| sizes, strides, offsets (`MAX_INDEX_VALUE`) | below 2**62 | any index a file gives |
| tuple nesting (`unpickle_limits.MAX_TUPLE_NESTING`) | 100 levels | C recursion when a tuple is hashed |
| hashing one key | the budget left | a tuple key built from shared tuples (2**40 leaves in 569 bytes) is refused before it is hashed |
| colliding keys (`unpickle_limits.MAX_COLLIDING_KEYS`) | 1000 insertions | dict/set insertions that meet an earlier key of the same hash in that container, whatever the key type |
| tensor name length (`flatten.MAX_NAME_LENGTH`) | 4096 characters | one dotted tensor name |
| aliases listed (`flatten.MAX_ALIASES`) | 1000 | names of tensors already named elsewhere |
| storage key (`storage_ids.MAX_STORAGE_KEY_LENGTH`) | 256 characters | one storage's record name |
| text line of a pickle (`checkpoint_file.LINE_LIMIT`) | 64 KiB | protocol-0 opcodes that read up to a newline |
| layer index in a name | 6 digits | `weight_ih_l{k}`, `layers.{k}.` |

Besides these: only regular files are read (a FIFO, device or directory is
refused without blocking), every byte is copied into memory the reader owns
(no memory map), and a file whose size changes while it is read is reported
as changed, not as damaged and never by a signal. Layout discovery takes
time linear in the number of tensors (times the log for sorting them).
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
