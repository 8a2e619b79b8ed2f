"""What a pickle's objects may cost: memory, C recursion, hashing, names.

Each payload here is cheap to write and, without the limits in
unpickle_limits.py / safe_unpickler.py / flatten.py, expensive or fatal to
read: hundreds of megabytes from one megabyte, a C stack overflow, minutes
of dict probing, or gigabytes of name strings.
"""

import copyreg
import pickle as P
import struct
import time
import tracemalloc
from collections import OrderedDict

import numpy as np
import pytest

import hostile_files
from formats_test_support import (
    Storage, dumps, float_bytes, ordered, run_isolated, tensor, write_torch_legacy, write_torch_zip,
)
from lnfast.errors import CheckpointError
from lnfast.formats import read_checkpoint

SIX = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
FORMATS = ["zip", "legacy"]


def write(tmp_path, file_format, payload):
    if file_format == "zip":
        return write_torch_zip(tmp_path / "limits.pt", payload, {"0": float_bytes(SIX)})
    return write_torch_legacy(tmp_path / "limits.pt", payload, [("0", 6, float_bytes(SIX))])


def tensor_ops(legacy=False):
    """The opcodes of one pickled tensor (no PROTO, no STOP), for splicing."""
    return dumps(tensor(Storage("0", 6, legacy=legacy), 0, (6,), (1,)))[2:-1]


def short(text: bytes) -> bytes:
    return P.SHORT_BINUNICODE + bytes([len(text)]) + text


def binunicode(text: str) -> bytes:
    data = text.encode()
    return P.BINUNICODE + struct.pack("<I", len(data)) + data


# A small fixed allowance makes the budget bite at test-friendly sizes.
SMALL_ALLOWANCE = 8 << 20


@pytest.fixture
def small_allowance(monkeypatch):
    monkeypatch.setattr("lnfast.formats.limits.READ_BYTES_ALLOWANCE", SMALL_ALLOWANCE)


def read_measured(path):
    """Read, returning (outcome, peak bytes allocated while reading)."""
    tracemalloc.start()
    try:
        outcome = read_checkpoint(path)
    except CheckpointError as error:
        outcome = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome, peak


def within_budget(path, peak) -> bool:
    # The budget's promise, plus a little for the reader's own fixed costs.
    return peak <= 8 * path.stat().st_size + SMALL_ALLOWANCE + (2 << 20)


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("opcode", [P.EMPTY_SET, P.EMPTY_DICT, P.EMPTY_LIST, P.MARK + P.EMPTY_TUPLE + P.TUPLE])
def test_one_byte_objects_stay_within_the_memory_budget(tmp_path, small_allowance, file_format, opcode):
    # 300 000 one-byte opcodes would build up to 65 MB of objects.
    count = 300_000 // len(opcode)
    payload = P.PROTO + b"\x04" + P.EMPTY_LIST + P.MARK + opcode * count + P.APPENDS + P.STOP
    path = write(tmp_path, file_format, payload)
    outcome, peak = read_measured(path)
    assert isinstance(outcome, CheckpointError)
    assert within_budget(path, peak)


def test_a_huge_memo_index_stays_within_the_memory_budget(tmp_path, small_allowance):
    # One LONG_BINPUT at an index about the pickle's length: the C
    # unpickler would allocate a memo table of 2 * index pointers.
    padding = 16 << 20
    payload = (
        P.PROTO + b"\x02" + P.BINBYTES + struct.pack("<I", padding) + bytes(padding)
        + P.LONG_BINPUT + struct.pack("<I", padding) + P.STOP
    )
    path = write(tmp_path, "zip", payload)
    outcome, peak = read_measured(path)
    assert isinstance(outcome, CheckpointError)
    assert within_budget(path, peak)


@pytest.mark.parametrize("file_format", FORMATS)
def test_many_placeholder_classes_stay_within_the_memory_budget(tmp_path, small_allowance, file_format):
    # Each distinct global name becomes a class of about 2 kB.
    names = b"".join(P.GLOBAL + b"m\nn%d\n" % i + P.POP for i in range(40_000))
    path = write(tmp_path, file_format, P.PROTO + b"\x02" + names + P.NONE + P.STOP)
    outcome, peak = read_measured(path)
    assert isinstance(outcome, CheckpointError)
    assert within_budget(path, peak)


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("use", ["dict key", "set item", "frozenset argument"])
def test_deeply_nested_tuples_are_refused_before_hashing(tmp_path, file_format, use):
    # Hashing a tuple recurses in C without a depth check: 300 000 levels
    # (one byte each) would overflow the C stack and kill the interpreter.
    nested = P.EMPTY_TUPLE + P.TUPLE1 * 300_000
    if use == "dict key":
        body = P.EMPTY_DICT + nested + P.NONE + P.SETITEM
    elif use == "set item":
        body = P.EMPTY_SET + P.MARK + nested + P.ADDITEMS
    else:
        body = P.GLOBAL + b"builtins\nfrozenset\n" + nested + P.TUPLE1 + P.TUPLE1 + P.REDUCE
    payload = P.PROTO + b"\x04" + body + P.STOP
    with pytest.raises(CheckpointError, match="nested more than 100 deep"):
        read_checkpoint(write(tmp_path, file_format, payload))


def test_moderately_nested_tuples_are_fine(tmp_path):
    nested = P.EMPTY_TUPLE + P.TUPLE1 * 50
    payload = (
        P.PROTO + b"\x02" + P.EMPTY_DICT + short(b"w") + tensor_ops() + P.SETITEM
        + nested + P.NONE + P.SETITEM + P.STOP
    )
    assert read_checkpoint(write(tmp_path, "zip", payload)).tensors["w"].tolist() == SIX


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("kind", ["int", "float", "tuple of int"])
def test_colliding_hash_keys_are_refused_quickly(tmp_path, file_format, kind):
    # int and float hashes are not randomised: these 30 000 keys all hash
    # alike, and filling one dict with them takes O(n^2) probes (~15 s).
    modulus = 2**61 - 1

    def key(k):
        if kind == "float":
            return P.BINFLOAT + struct.pack(">d", 1.5 * 2.0 ** (61 * (k % 16) - 500 + 0 * k))
        value = (k * modulus).to_bytes(16, "little", signed=True)
        one = P.LONG1 + bytes([len(value)]) + value
        return one + P.TUPLE1 if kind == "tuple of int" else one

    items = b"".join(key(k) + P.NONE for k in range(1, 30_001))
    payload = P.PROTO + b"\x02" + P.EMPTY_DICT + P.MARK + items + P.SETITEMS + P.STOP
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="hashes can be made to collide"):
        read_checkpoint(write(tmp_path, file_format, payload))
    assert time.perf_counter() - started < 2


def test_a_key_made_of_shared_tuples_is_refused_before_anything_hashes_it(tmp_path):
    # t_i = (t_{i-1}, t_{i-1}), 40 levels in 569 bytes: hashing it visits
    # 2**40 leaves, and so did the old cost estimate. In a child process,
    # so that a regression fails by its timeout instead of hanging here.
    path = hostile_files.write_tuple_dag_key(tmp_path / "dag.pt", levels=40)
    outcome = run_isolated(path, timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome
    assert "refusing to hash it" in outcome["message"]


def test_a_key_of_a_few_shared_tuples_is_fine(tmp_path):
    payload = (
        P.PROTO + b"\x02" + P.EMPTY_DICT + short(b"w") + tensor_ops() + P.SETITEM
        + hostile_files.tuple_dag_key(10) + P.NONE + P.SETITEM + P.STOP
    )
    assert read_checkpoint(write(tmp_path, "zip", payload)).tensors["w"].tolist() == SIX


@pytest.mark.parametrize("container", ["dict", "frozenset"])
def test_tuple_keys_sharing_one_hash_are_refused_quickly(tmp_path, container):
    # Tuples of ints below 2**60 chosen to share one tuple hash: 60 000 of
    # them (1.3 MB) kept unpickling busy for 45-90 s. 3 000 make the point.
    path = hostile_files.write_colliding_keys(tmp_path / "collide.pt", 3000, container)
    outcome = run_isolated(path, timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome
    assert "hashes can be made to collide" in outcome["message"]


def test_keys_that_merely_hash_alike_in_a_few_places_are_fine(tmp_path):
    # -1 and -2 share a hash in CPython, as do 1 and 1 + (2**61 - 1):
    # a handful of collisions is normal and costs nothing.
    keys = b"".join(
        P.BININT + struct.pack("<i", k) + P.NONE for k in (-1, -2, 1, 2, 3)
    ) + hostile_files._int_ops(1 + (2**61 - 1)) + P.NONE
    payload = (
        P.PROTO + b"\x02" + P.EMPTY_DICT + short(b"w") + tensor_ops() + P.SETITEM
        + P.EMPTY_DICT + P.MARK + keys + P.SETITEMS + P.POP + P.STOP
    )
    assert read_checkpoint(write(tmp_path, "zip", payload)).tensors["w"].tolist() == SIX


@pytest.mark.parametrize("file_format", FORMATS)
def test_rehashing_one_huge_tuple_key_is_charged(tmp_path, file_format):
    # Tuples do not cache their hash: inserting a 100 000-item tuple key
    # 100 000 times would hash 10**10 items.
    big = P.MARK + P.NONE * 100_000 + P.TUPLE + P.BINPUT + b"\x01"
    inserts = (P.BINGET + b"\x01" + P.NONE + P.SETITEM) * 100_000
    payload = P.PROTO + b"\x02" + big + P.POP + P.EMPTY_DICT + inserts + P.STOP
    started = time.perf_counter()
    with pytest.raises(CheckpointError, match="refusing to allocate"):
        read_checkpoint(write(tmp_path, file_format, payload))
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("shape", ["wide", "deep"])
def test_long_keys_are_not_copied_into_every_path(tmp_path, small_allowance, file_format, shape):
    if shape == "wide":
        # {1 MB key: [None] * 200 000}: 200 000 names of 1 MB each = 200 GB.
        payload = (
            P.PROTO + b"\x02" + P.EMPTY_DICT + binunicode("k" * (1 << 20))
            + P.EMPTY_LIST + P.MARK + P.NONE * 200_000 + P.APPENDS + P.SETITEM + P.STOP
        )
    else:
        # {K: {K: {K: ...}}} 20 000 deep with a 4 kB K shared via the memo.
        payload = (
            P.PROTO + b"\x02" + binunicode("k" * 4000) + P.BINPUT + b"\x00" + P.POP
            + (P.EMPTY_DICT + P.BINGET + b"\x00") * 20_000 + P.NONE + P.SETITEM * 20_000 + P.STOP
        )
    path = write(tmp_path, file_format, payload)
    started = time.perf_counter()
    outcome, peak = read_measured(path)
    assert isinstance(outcome, CheckpointError)
    assert time.perf_counter() - started < 10
    assert within_budget(path, peak)


def test_many_tensors_under_a_deep_path_pay_for_their_names(tmp_path):
    # 100 000 tensors 2 000 dicts deep under one memoized key (1 MB): each
    # name is ~4 000 characters, 400 MB in all, and took 18 s to build.
    path = hostile_files.write_deep_names(tmp_path / "deep.pt", tensors=100_000, depth=2000)
    size = path.stat().st_size
    outcome = run_isolated(path, timeout=30)
    assert outcome["outcome"] == "CheckpointError", outcome
    assert "refusing to allocate" in outcome["message"]
    # The budget limits.py promises: 8 bytes per file byte + 64 MB.
    assert outcome["peak"] <= 8 * size + (64 << 20), outcome


def test_shared_deep_paths_name_their_tensors_correctly(tmp_path):
    path = hostile_files.write_deep_names(tmp_path / "deep.pt", tensors=3, depth=4)
    names = list(read_checkpoint(path).tensors)
    assert names == ["k.k.k.k.0", "k.k.k.k.1", "k.k.k.k.2"]


@pytest.mark.parametrize("file_format", FORMATS)
def test_a_tensor_under_an_overlong_name_is_refused(tmp_path, file_format):
    payload = (
        P.PROTO + b"\x02" + P.EMPTY_DICT + binunicode("k" * 5000)
        + tensor_ops(legacy=file_format == "legacy") + P.SETITEM + P.STOP
    )
    with pytest.raises(CheckpointError, match="5000 characters long"):
        read_checkpoint(write(tmp_path, file_format, payload))


@pytest.mark.parametrize("file_format", FORMATS)
def test_thousands_of_aliases_are_listed_only_up_to_a_cap(tmp_path, file_format):
    one = tensor(Storage("0", 6, legacy=file_format == "legacy"), 0, (6,), (1,))
    root = ordered(w=one, copies=[one] * 50_000)
    checkpoint = read_checkpoint(write(tmp_path, file_format, dumps(root)))
    assert list(checkpoint.tensors) == ["w"]
    assert len(checkpoint.extras["aliases"]) == 1000


# --- EXT opcodes and the process-wide copyreg cache ------------------------

EXT_CODE = 0x7E


@pytest.fixture
def registered_extension():
    """os.system registered (and cached) as a copyreg extension, as some
    other library in the process might have done."""
    import os

    copyreg.add_extension("os", "system", EXT_CODE)
    P.loads(b"\x80\x02\x82" + bytes([EXT_CODE]) + b".")  # fills copyreg's cache
    yield
    copyreg.remove_extension("os", "system", EXT_CODE)
    assert os.system  # (the cache entry is removed with the extension)


@pytest.mark.parametrize("file_format", FORMATS)
def test_ext_opcodes_never_reach_copyregs_cache(tmp_path, file_format, registered_extension):
    marker = tmp_path / "executed"
    command = f"touch {marker}".encode()
    payload = P.PROTO + b"\x02" + P.EXT1 + bytes([EXT_CODE]) + short(command) + P.TUPLE1 + P.REDUCE + P.STOP
    with pytest.raises(CheckpointError, match="extension code"):
        read_checkpoint(write(tmp_path, file_format, payload))
    assert not marker.exists()


def test_ext_opcodes_leave_copyregs_cache_alone(tmp_path):
    copyreg.add_extension("collections", "OrderedDict", EXT_CODE)
    try:
        with pytest.raises(CheckpointError):
            read_checkpoint(write(tmp_path, "zip", P.PROTO + b"\x02" + P.EXT1 + bytes([EXT_CODE]) + P.STOP))
        assert P.loads(b"\x80\x02\x82" + bytes([EXT_CODE]) + b".") is OrderedDict
    finally:
        copyreg.remove_extension("collections", "OrderedDict", EXT_CODE)


# --- objects the file builds never get their methods replaced ---------------


def ordered_dict_with_attribute(attribute: bytes, value_ops: bytes, content=b"") -> bytes:
    # OrderedDict instances have a __dict__: a BUILD could plant an
    # attribute that shadows a method such as items() or get().
    return (
        P.GLOBAL + b"collections\nOrderedDict\n" + P.EMPTY_TUPLE + P.REDUCE + content
        + P.EMPTY_DICT + short(attribute) + value_ops + P.SETITEM + P.BUILD
    )


REPLACEMENTS = {
    "placeholder class": P.GLOBAL + b"evil\nthing\n",
    "allowed function": P.GLOBAL + b"torch.jit._pickle\nbuild_intlist\n",
}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("method", [b"items", b"get", b"keys", b"__setstate__", b"values"])
@pytest.mark.parametrize("replacement", sorted(REPLACEMENTS))
def test_build_on_an_ordered_dict_cannot_shadow_its_methods(tmp_path, file_format, method, replacement):
    content = short(b"w") + tensor_ops(legacy=file_format == "legacy") + P.SETITEM
    payload = (
        P.PROTO + b"\x02"
        + ordered_dict_with_attribute(method, REPLACEMENTS[replacement], content)
        + P.STOP
    )
    checkpoint = read_checkpoint(write(tmp_path, file_format, payload))
    assert checkpoint.tensors["w"].tolist() == SIX


def test_a_legacy_sys_info_with_a_planted_get_is_never_called(tmp_path):
    # The legacy reader reads sys_info and ignores it; a get() planted on
    # it must not be what anything calls.
    sys_info = P.PROTO + b"\x02" + ordered_dict_with_attribute(
        b"get", P.GLOBAL + b"torch._utils\n_rebuild_tensor\n") + P.STOP
    parts = [
        P.dumps(0x1950A86A20F9469CFC6C, protocol=2), P.dumps(1001, protocol=2), sys_info,
        dumps(ordered(w=tensor(Storage("0", 6, legacy=True), 0, (6,), (1,)))),
        P.dumps(["0"], protocol=2), struct.pack("<q", 6) + float_bytes(SIX),
    ]
    path = tmp_path / "legacy.pt"
    path.write_bytes(b"".join(parts))
    assert read_checkpoint(path).tensors["w"].tolist() == SIX


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("target", [P.EMPTY_DICT, P.EMPTY_LIST, P.GLOBAL + b"evil\nthing\n"])
def test_build_on_anything_but_a_placeholder_or_ordered_dict_is_refused(tmp_path, file_format, target):
    payload = P.PROTO + b"\x02" + target + P.EMPTY_DICT + P.BUILD + P.STOP
    with pytest.raises(CheckpointError, match="BUILD on"):
        read_checkpoint(write(tmp_path, file_format, payload))


# --- reading the right bytes ------------------------------------------------


def test_one_storage_record_has_one_dtype_like_in_torch(tmp_path):
    # torch caches storages by key: the first id fixes the dtype; a later
    # id naming the same key as HalfStorage still gets float32 data.
    root = ordered(
        a=tensor(Storage("0", 6), 0, (6,), (1,)),
        b=tensor(Storage("0", 12, "HalfStorage"), 0, (6,), (1,)),
    )
    checkpoint = read_checkpoint(write_torch_zip(tmp_path / "two.pt", dumps(root), {"0": float_bytes(SIX)}))
    assert checkpoint.dtypes == {"a": "float32", "b": "float32"}
    np.testing.assert_array_equal(checkpoint.tensors["b"], SIX)


@pytest.mark.parametrize("file_format", FORMATS)
def test_size_one_dimension_with_a_huge_stride(tmp_path, file_format):
    # The stride of a size-1 dimension is never used; numpy would overflow
    # multiplying 2**61 by the item size.
    root = ordered(w=tensor(Storage("0", 6, legacy=file_format == "legacy"), 2, (1, 3), (2**61, 1)))
    checkpoint = read_checkpoint(write(tmp_path, file_format, dumps(root)))
    assert checkpoint.tensors["w"].tolist() == [[3.0, 4.0, 5.0]]


def test_size_one_dimension_with_a_huge_stride_in_float64(tmp_path):
    root = ordered(w=tensor(Storage("0", 6, "DoubleStorage"), 0, (1,), (2**61,)))
    path = write_torch_zip(tmp_path / "double.pt", dumps(root), {"0": struct.pack("<6d", *SIX)})
    assert read_checkpoint(path).tensors["w"].tolist() == [1.0]


# --- messages ---------------------------------------------------------------


@pytest.mark.parametrize("where", ["no-tensor hint", "placeholder among tensors", "bad storage"])
def test_messages_escape_and_clip_names_from_the_file(tmp_path, where):
    name = "\x1b[2J\x1b[31mfake\nsecond line" + "x" * 1_000_000
    named_global = short(b"evil") + binunicode(name) + P.STACK_GLOBAL
    if where == "no-tensor hint":
        payload = P.PROTO + b"\x04" + named_global + P.STOP
    elif where == "placeholder among tensors":
        payload = (
            P.PROTO + b"\x04" + P.EMPTY_DICT + P.MARK + short(b"a") + tensor_ops()
            + short(b"b") + named_global + P.EMPTY_TUPLE + P.NEWOBJ + P.SETITEMS + P.STOP
        )
    else:
        rebuild = P.GLOBAL + b"torch._utils\n_rebuild_tensor\n"
        payload = (
            P.PROTO + b"\x04" + rebuild + named_global + P.EMPTY_TUPLE + P.NEWOBJ
            + P.BININT1 + b"\x00" + P.EMPTY_TUPLE + P.EMPTY_TUPLE + P.TUPLE + P.STOP
        )
        payload = payload.replace(rebuild + named_global, rebuild + P.MARK + named_global)
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(write(tmp_path, "zip", payload))
    message = str(caught.value)
    assert len(message) < 2000
    assert "\x1b" not in message and "\n" not in message


# --- the documented limits are the enforced ones ----------------------------


def test_the_limits_table_states_the_values_in_force():
    from lnfast.formats import checkpoint_file, flatten, limits, storage_ids, unpickle_limits

    table = limits.__doc__
    stated = [
        f"{limits.READ_BYTES_PER_FILE_BYTE} bytes per byte of the file + "
        f"{limits.READ_BYTES_ALLOWANCE >> 20} MiB",
        f"| {limits.MAX_TENSOR_DIMS} |",
        f"below 2**{limits.MAX_INDEX_VALUE.bit_length() - 1}",
        f"| {unpickle_limits.MAX_TUPLE_NESTING} levels |",
        f"| {unpickle_limits.MAX_COLLIDING_KEYS} insertions |",
        f"| {flatten.MAX_NAME_LENGTH} characters |",
        f"| {flatten.MAX_ALIASES} |",
        f"| {storage_ids.MAX_STORAGE_KEY_LENGTH} characters |",
        f"| {checkpoint_file.LINE_LIMIT >> 10} KiB |",
    ]
    assert [text for text in stated if text not in table] == []
