"""Small files that once stalled, bloated or killed the loader, built by hand.

Each builder writes one file and returns its path. The regression tests and
the fuzz run use them; so can anyone measuring the loader on them.
"""

from __future__ import annotations

import json
import os
import pickle as P
import struct

from formats_test_support import Storage, dumps, float_bytes, tensor, write_torch_zip

SIX = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def zip_with(path, payload: bytes):
    """A torch zip whose data.pkl is `payload`, with a 6-float storage "0"."""
    return write_torch_zip(path, payload, {"0": float_bytes(SIX)})


def write_safetensors(path, header: dict, data: bytes = b""):
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(text)) + text + data)
    return path


def zero_size_f32(names) -> dict:
    return {name: {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]} for name in names}


def tensor_ops() -> bytes:
    """The opcodes of one pickled tensor of storage "0" (no PROTO, no STOP)."""
    return dumps(tensor(Storage("0", 6), 0, (6,), (1,)))[2:-1]


# --- a dict key that is a DAG of tuples ------------------------------------


def tuple_dag_key(levels: int) -> bytes:
    """t_i = (t_{i-1}, t_{i-1}): `levels` opcodes pairs, 2**levels leaves."""
    return P.EMPTY_TUPLE + (P.DUP + P.TUPLE2) * levels


def write_tuple_dag_key(path, levels=40):
    payload = P.PROTO + b"\x02" + P.EMPTY_DICT + tuple_dag_key(levels) + P.NONE + P.SETITEM + P.STOP
    return zip_with(path, payload)


# --- tuples of small ints that share one hash ------------------------------

_MASK = (1 << 64) - 1
_PRIME_1, _PRIME_2, _PRIME_5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def _rotate_left(x):
    return ((x << 31) | (x >> 33)) & _MASK


def _rotate_right(x):
    return ((x >> 31) | (x << 33)) & _MASK


def _after_one(lane):
    return (_rotate_left((_PRIME_5 + lane * _PRIME_2) & _MASK) * _PRIME_1) & _MASK


def colliding_pairs(count: int) -> list[tuple[int, int]]:
    """`count` pairs (a, b) of ints below 2**60 with one tuple hash.

    CPython's tuple hash (xxHash's round on each item's hash) is not keyed,
    and each round can be inverted: for any a, solve for the hash b must
    have; ints below 2**60 hash to themselves, so keep the a whose b fits.
    """
    target = _after_one(0)
    target = (_rotate_left(target) * _PRIME_1) & _MASK  # the state after (0, 0)
    unrotated = _rotate_right((target * pow(_PRIME_1, -1, 1 << 64)) & _MASK)
    inverse_2 = pow(_PRIME_2, -1, 1 << 64)
    pairs, a = [(0, 0)], 1
    while len(pairs) < count:
        lane = ((unrotated - _after_one(a)) * inverse_2) & _MASK
        if lane < 1 << 60:
            pairs.append((a, lane))
        elif lane >= (1 << 64) - (1 << 60) and lane != _MASK:  # hash(-1) is -2
            pairs.append((a, lane - (1 << 64)))
        a += 1
    return pairs


def _int_ops(value: int) -> bytes:
    data = value.to_bytes(8, "little", signed=True)
    return P.LONG1 + b"\x08" + data


def colliding_keys_payload(count: int, container="dict") -> bytes:
    value = P.NONE if container == "dict" else b""
    keys = b"".join(_int_ops(a) + _int_ops(b) + P.TUPLE2 + value for a, b in colliding_pairs(count))
    if container == "dict":
        return P.PROTO + b"\x02" + P.EMPTY_DICT + P.MARK + keys + P.SETITEMS + P.STOP
    return P.PROTO + b"\x04" + P.MARK + keys + P.FROZENSET + P.STOP


def write_colliding_keys(path, count=60_000, container="dict"):
    return zip_with(path, colliding_keys_payload(count, container))


# --- layer indices far beyond the number of tensors ------------------------


def write_huge_layer_indices(path, count=1000, layer=999_999):
    names = [f"p{i}.weight_ih_l{layer}" for i in range(count)]
    return write_safetensors(path, zero_size_f32(names))


# --- many tensors under one deep, memoized path ----------------------------


def _binget(index: int) -> bytes:
    return P.BINGET + bytes([index])


def deep_names_payload(tensors: int, depth: int) -> bytes:
    """{K: {K: ... {0: T, 1: T', ...}}}: `depth` dicts under one memoized
    one-letter key K, then `tensors` distinct tensors of one storage."""
    # tensor_ops() leaves the rebuild function in memo 0 and its argument
    # tuple in memo 10 just before its final REDUCE; each further tensor
    # then costs BINGET, BINGET, REDUCE: distinct tensors, 5 bytes each.
    rebuild_ops = tensor_ops()
    assert rebuild_ops.endswith(P.BINPUT + b"\x0a" + P.REDUCE + P.BINPUT + b"\x0b")
    head = (
        P.PROTO + b"\x02" + P.SHORT_BINUNICODE + b"\x01k" + P.BINPUT + b"\x64" + P.POP
        + rebuild_ops[:-3] + P.POP + P.POP
    )
    nesting = (P.EMPTY_DICT + _binget(100)) * depth
    items = []
    for start in range(0, tensors, 1000):
        batch = b"".join(
            P.BININT + struct.pack("<i", i) + _binget(0) + _binget(10) + P.REDUCE
            for i in range(start, min(start + 1000, tensors))
        )
        items.append(P.MARK + batch + P.SETITEMS)
    return head + nesting + P.EMPTY_DICT + b"".join(items) + P.SETITEM * depth + P.STOP


def write_deep_names(path, tensors=100_000, depth=2000):
    return zip_with(path, deep_names_payload(tensors, depth))


# --- a file that is not a file ---------------------------------------------


def make_fifo(path):
    os.mkfifo(path)
    return path
