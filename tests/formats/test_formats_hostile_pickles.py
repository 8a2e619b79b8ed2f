"""Pickles that try to run code, escape their storage or exhaust memory.

Each case is written in both the zip and the legacy format, since the two
readers resolve storages differently. The marker file proves nothing ran.
"""

import copyreg
import os
import pickle
import struct
import subprocess
import warnings

import numpy as np
import pytest
import torch

from formats_test_support import (
    Call,
    GlobalRef,
    RawPersistentId,
    Storage,
    dumps,
    float_bytes,
    ordered,
    tensor,
    write_torch_legacy,
    write_torch_zip,
)
from lnfast.errors import CheckpointError
from lnfast.formats import read_checkpoint

FORMATS = ["zip", "legacy"]


class SystemCall:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class EvalCall:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (eval, (self.code,))


class PopenCall:
    def __init__(self, argv):
        self.argv = argv

    def __reduce__(self):
        return (subprocess.Popen, (self.argv,))


def attacks(marker):
    touch = f"touch {marker}"
    return {
        "os.system": SystemCall(touch),
        "builtins.eval": EvalCall(f"open({str(marker)!r}, 'w')"),
        "subprocess.Popen": PopenCall(["touch", str(marker)]),
    }


def global_name(attack):
    function = attack.__reduce__()[0]
    return f"{function.__module__}.{function.__qualname__}"


def torch_write(tmp_path, obj, file_format):
    path = tmp_path / f"checkpoint_{file_format}.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=file_format == "zip")
    return path


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("kind", ["os.system", "builtins.eval", "subprocess.Popen"])
def test_attack_in_hyper_parameters_stays_inert(tmp_path, file_format, kind):
    marker = tmp_path / "pwned"
    attack = attacks(marker)[kind]
    weights = {"rnn.weight_ih_l0": torch.randn(8, 2)}
    lightning = {
        "state_dict": weights,
        "hyper_parameters": {"config": {"on_load": attack, "depth": 2}, "list": [attack]},
    }
    checkpoint = read_checkpoint(torch_write(tmp_path, lightning, file_format))
    assert not marker.exists()
    np.testing.assert_array_equal(
        checkpoint.tensors["state_dict.rnn.weight_ih_l0"], weights["rnn.weight_ih_l0"].numpy()
    )
    assert global_name(attack) in checkpoint.extras["placeholders"]


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("kind", ["os.system", "builtins.eval", "subprocess.Popen"])
def test_attack_in_place_of_a_tensor_is_refused(tmp_path, file_format, kind):
    marker = tmp_path / "pwned"
    attack = attacks(marker)[kind]
    state = {"state_dict": {"rnn.weight_ih_l0": torch.randn(8, 2), "rnn.bias": attack}}
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(torch_write(tmp_path, state, file_format))
    assert not marker.exists()
    assert global_name(attack) in str(caught.value)
    assert "state_dict.rnn.bias" in str(caught.value)


@pytest.mark.parametrize("file_format", FORMATS)
def test_attack_as_the_only_content_is_refused(tmp_path, file_format):
    marker = tmp_path / "pwned"
    path = torch_write(tmp_path, {"model": SystemCall(f"touch {marker}")}, file_format)
    with pytest.raises(CheckpointError, match="no floating-point tensors.*system"):
        read_checkpoint(path)
    assert not marker.exists()


# --- hand-written torch-like pickles --------------------------------------

GOOD_VALUES = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def write_crafted(tmp_path, file_format, root, storages=None, legacy_counts=None):
    """Write `root` (built from formats_test_support objects) with storage bytes."""
    storages = storages if storages is not None else {"0": float_bytes(GOOD_VALUES)}
    if file_format == "zip":
        return write_torch_zip(tmp_path / "crafted.pt", dumps(root), storages)
    counts = legacy_counts or {}
    records = [(key, counts.get(key, len(data) // 4), data) for key, data in storages.items()]
    return write_torch_legacy(tmp_path / "crafted.pt", dumps(root), records)


def storage(file_format, numel=6, key="0", **kwargs):
    return Storage(key, numel, legacy=file_format == "legacy", **kwargs)


@pytest.mark.parametrize("file_format", FORMATS)
def test_crafted_good_file_reads(tmp_path, file_format):
    root = ordered(w=tensor(storage(file_format), 1, (2, 2), (1, 2)))
    checkpoint = read_checkpoint(write_crafted(tmp_path, file_format, root))
    np.testing.assert_array_equal(checkpoint.tensors["w"], [[2.0, 4.0], [3.0, 5.0]])


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("module, name", [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen")])
def test_dangerous_global_in_place_of_the_tensor_rebuild(tmp_path, file_format, module, name):
    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,), rebuild=GlobalRef(module, name)))
    with pytest.raises(CheckpointError, match=f"{module}.{name}"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_unsupported_torch_rebuild_is_refused_by_name(tmp_path, file_format):
    rebuild = GlobalRef("torch._utils", "_rebuild_qtensor")
    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,), rebuild=rebuild))
    with pytest.raises(CheckpointError, match="torch._utils._rebuild_qtensor"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_dangerous_global_as_storage_type(tmp_path, file_format):
    evil_type = storage(file_format, type_ref=GlobalRef("os", "system"))
    root = ordered(w=tensor(evil_type, 0, (6,), (1,)))
    with pytest.raises(CheckpointError, match="os.system"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_placeholder_in_place_of_the_storage(tmp_path, file_format):
    fake_storage = Call(GlobalRef("os", "system"), "echo hi")
    root = ordered(w=tensor(fake_storage, 0, (6,), (1,)))
    with pytest.raises(CheckpointError, match="storage is a call to os.system"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_placeholder_in_place_of_parameter_data(tmp_path, file_format):
    rebuild = GlobalRef("torch._utils", "_rebuild_parameter")
    root = ordered(w=Call(rebuild, Call(GlobalRef("posix", "system"), "id"), False, ordered()))
    with pytest.raises(CheckpointError, match="parameter's data is a call to posix.system"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize(
    "pid",
    [("module", "x"), ("evil", 1, 2), "storage", ("storage",)],
    ids=["module", "unknown-kind", "plain-string", "too-short"],
)
def test_persistent_ids_that_are_not_storages(tmp_path, file_format, pid):
    if file_format == "legacy" and pid[0] == "module":
        return  # legacy files describe pickled nn.Module classes this way; see below
    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,)), other=RawPersistentId(pid))
    with pytest.raises(CheckpointError, match="persistent id|storage id"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


def test_legacy_module_ids_resolve_to_their_inert_class(tmp_path):
    module_id = RawPersistentId(("module", GlobalRef("mymodels", "Net"), "net.py", "class Net: ..."))
    root = ordered(w=tensor(storage("legacy"), 0, (6,), (1,)), cls=module_id)
    checkpoint = read_checkpoint(write_crafted(tmp_path, "legacy", root))
    assert checkpoint.tensors["w"].tolist() == GOOD_VALUES
    assert "mymodels.Net" in checkpoint.extras["placeholders"]


BAD_VIEWS = {
    "offset past the end": (6, (1,), (1,)),
    "size past the end": (0, (7,), (1,)),
    "stride past the end": (0, (2, 2), (5, 1)),
    "offset plus size": (3, (2, 2), (2, 1)),
    "negative size": (0, (-1,), (1,)),
    "negative stride": (5, (6,), (-1,)),
    "negative offset": (-1, (2,), (1,)),
    "float size": (0, (2.0,), (1,)),
    "bool size": (0, (True,), (1,)),
    "size and stride lengths differ": (0, (2, 3), (1,)),
    "too many dimensions": (0, (1,) * 100, (1,) * 100),
    "overflowing product": (0, (2**40, 2**40), (2**40, 1)),
    "huge offset": (2**70, (1,), (1,)),
    "size not a tuple": (0, "ab", (1,)),
    "empty but huge": (0, (0, 2**31, 2**31, 2**31), (1, 1, 1, 1)),
}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("case", sorted(BAD_VIEWS))
def test_views_outside_their_storage_are_refused(tmp_path, file_format, case):
    offset, size, stride = BAD_VIEWS[case]
    root = ordered(w=tensor(storage(file_format), offset, size, stride))
    with pytest.raises(CheckpointError):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_declared_storage_larger_than_its_record(tmp_path, file_format):
    root = ordered(w=tensor(storage(file_format, numel=10**15), 0, (10**15,), (1,)))
    with pytest.raises(CheckpointError, match="storage"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


def test_legacy_storage_count_larger_than_the_file(tmp_path):
    root = ordered(w=tensor(storage("legacy"), 0, (6,), (1,)))
    path = write_crafted(tmp_path, "legacy", root, legacy_counts={"0": 10**15})
    with pytest.raises(CheckpointError, match="past the end"):
        read_checkpoint(path)


def test_legacy_negative_storage_count(tmp_path):
    root = ordered(w=tensor(storage("legacy"), 0, (6,), (1,)))
    path = write_crafted(tmp_path, "legacy", root, legacy_counts={"0": -3})
    with pytest.raises(CheckpointError):
        read_checkpoint(path)


@pytest.mark.parametrize("file_format", FORMATS)
def test_zero_stride_bomb_hits_the_output_budget(tmp_path, file_format):
    # A one-element storage "expanded" to 10**12 elements: valid indices,
    # absurd output. Must be refused before allocating anything.
    root = ordered(w=tensor(storage(file_format), 0, (10**6, 10**6), (0, 0)))
    with pytest.raises(CheckpointError, match="refusing to allocate"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_many_views_of_one_storage_hit_the_output_budget(tmp_path, file_format):
    # 40 distinct full-size views of one 4 MiB storage would be 160 MiB of
    # output from a 4 MiB file.
    numel = 1 << 20
    big = np.full(numel, 0.5, dtype="<f4").tobytes()
    shared = Storage("0", numel, legacy=file_format == "legacy")
    root = ordered(**{f"w{i}": tensor(shared, 0, (numel,), (1,)) for i in range(40)})
    with pytest.raises(CheckpointError, match="refusing to allocate"):
        read_checkpoint(write_crafted(tmp_path, file_format, root, storages={"0": big}))


@pytest.mark.parametrize("file_format", FORMATS)
def test_build_cannot_modify_an_allowed_global(tmp_path, file_format):
    # BUILD on the rebuild function would set attributes on shared code.
    payload = (
        pickle.PROTO + b"\x02"
        + pickle.GLOBAL + b"torch._utils\n_rebuild_tensor_v2\n"
        + pickle.EMPTY_DICT
        + pickle.SHORT_BINUNICODE + b"\x0c__defaults__"
        + pickle.EMPTY_TUPLE
        + pickle.SETITEM
        + pickle.BUILD
        + pickle.STOP
    )
    if file_format == "zip":
        path = write_torch_zip(tmp_path / "build.pt", payload, {})
    else:
        path = write_torch_legacy(tmp_path / "build.pt", payload, [])
    with pytest.raises(CheckpointError, match="modify the global torch._utils._rebuild_tensor_v2"):
        read_checkpoint(path)
    # A normal file still reads afterwards: nothing was changed.
    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,)))
    assert read_checkpoint(write_crafted(tmp_path, file_format, root)).tensors["w"].size == 6


def raw_pickle_file(tmp_path, file_format, payload):
    if file_format == "zip":
        return write_torch_zip(tmp_path / "raw.pt", payload, {})
    return write_torch_legacy(tmp_path / "raw.pt", payload, [])


# Numbers that make a naive unpickler allocate what they claim: each must be
# refused (or read) without allocating it.
PICKLE_BOMBS = {
    # BINBYTES8 claiming an exabyte: the C unpickler allocates before reading.
    "huge BINBYTES8": pickle.PROTO + b"\x04" + b"\x8e" + struct.pack("<Q", 2**60) + b"xx.",
    "huge BINUNICODE8": pickle.PROTO + b"\x04" + b"\x8d" + struct.pack("<Q", 2**40) + b"xx.",
    "huge BINBYTES": pickle.PROTO + b"\x03" + b"B" + struct.pack("<I", 2**31) + b"xx.",
    # A memo slot at 2**32 - 1 makes the C unpickler resize its memo table.
    "huge LONG_BINPUT": pickle.PROTO + b"\x02" + b"N" + b"r" + struct.pack("<I", 2**32 - 1) + b".",
    "huge text PUT": b"N" + b"p99999999999\n" + b".",
    "huge FRAME": pickle.PROTO + b"\x04" + b"\x95" + struct.pack("<Q", 2**62) + b"N.",
    "no STOP": pickle.PROTO + b"\x02" + b"N",
    "huge LONG": b"L" + b"9" * 100000 + b"L\n.",
    "huge BYTEARRAY8": pickle.PROTO + b"\x05" + b"\x96" + struct.pack("<Q", 2**40) + b"xx.",
}


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("case", sorted(PICKLE_BOMBS))
def test_pickle_bombs_are_refused_cheaply(tmp_path, file_format, case):
    with pytest.raises(CheckpointError):
        read_checkpoint(raw_pickle_file(tmp_path, file_format, PICKLE_BOMBS[case]))


@pytest.mark.parametrize("file_format", FORMATS)
def test_invalid_string_escape_is_an_error_not_a_warning(tmp_path, file_format):
    payload = b"S'\\q'\n."  # protocol 0 STRING with an invalid escape
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(CheckpointError, match="invalid escape"):
            read_checkpoint(raw_pickle_file(tmp_path, file_format, payload))
    assert caught == []


def repeated_list_copies(copies: int, length: int) -> bytes:
    """builtins.list(L) called `copies` times on one `length`-element list."""
    body = pickle.PROTO + b"\x02" + pickle.EMPTY_LIST + pickle.BINPUT + b"\x00"
    body += pickle.MARK + pickle.NONE * length + pickle.APPENDS
    body += pickle.GLOBAL + b"builtins\nlist\n" + pickle.BINPUT + b"\x01"
    body += pickle.EMPTY_LIST + pickle.BINPUT + b"\x02"
    one_copy = pickle.BINGET + b"\x01" + pickle.BINGET + b"\x00" + pickle.TUPLE1 + pickle.REDUCE
    body += pickle.MARK + one_copy * copies + pickle.APPENDS
    return body + pickle.STOP


@pytest.mark.parametrize("file_format", FORMATS)
def test_repeated_container_copies_hit_the_copy_budget(tmp_path, file_format):
    payload = repeated_list_copies(copies=50_000, length=50_000)
    with pytest.raises(CheckpointError, match="refusing to allocate"):
        read_checkpoint(raw_pickle_file(tmp_path, file_format, payload))


@pytest.mark.parametrize("file_format", FORMATS)
def test_deep_nesting_and_cycles_are_walked_safely(tmp_path, file_format):
    depth = 100_000
    # [[[[ ... ]]]] 100k deep, then a list that contains itself, then a tensor.
    nested = pickle.EMPTY_LIST * depth + pickle.APPEND * (depth - 1)
    cycle = pickle.EMPTY_LIST + pickle.BINPUT + b"\x07" + pickle.BINGET + b"\x07" + pickle.APPEND
    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,)))
    good = dumps(root)
    assert good.startswith(pickle.PROTO + b"\x02") and good.endswith(pickle.STOP)
    # Wrap the good dict: ( nested, cycle, good ) as a tuple at the root.
    payload = (
        pickle.PROTO + b"\x02" + pickle.MARK + nested + cycle
        + good[2:-1] + pickle.TUPLE + pickle.STOP
    )
    if file_format == "zip":
        path = write_torch_zip(tmp_path / "deep.pt", payload, {"0": float_bytes(GOOD_VALUES)})
    else:
        path = write_torch_legacy(tmp_path / "deep.pt", payload, [("0", 6, float_bytes(GOOD_VALUES))])
    checkpoint = read_checkpoint(path)
    np.testing.assert_array_equal(checkpoint.tensors["2.w"], GOOD_VALUES)


class Innocent:
    def __init__(self):
        self.value = 1


@pytest.mark.parametrize("file_format", FORMATS)
def test_object_in_place_of_a_tensor_is_refused(tmp_path, file_format):
    state = {"state_dict": {"rnn.weight": torch.ones(2), "rnn.bias": Innocent()}}
    with pytest.raises(CheckpointError, match=f"an object of {__name__}.Innocent"):
        read_checkpoint(torch_write(tmp_path, state, file_format))


@pytest.mark.parametrize("file_format", FORMATS)
def test_storage_handed_to_an_allocated_placeholder_is_refused(tmp_path, file_format):
    # NEWOBJ (allocation, not a call) of os.system with a storage argument.
    system = GlobalRef("os", "system")

    class Allocated:
        @property
        def __class__(self):  # the pickler checks cls is obj.__class__
            return system

        def __reduce__(self):
            return (copyreg.__newobj__, (system, storage(file_format)))

    root = ordered(w=tensor(storage(file_format), 0, (6,), (1,)), hidden={"x": Allocated()})
    with pytest.raises(CheckpointError, match="os.system applied to tensor storage"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


@pytest.mark.parametrize("file_format", FORMATS)
def test_unprintable_values_do_not_break_reading_or_messages(tmp_path, file_format):
    huge = 10**5000  # str() of this raises ValueError in Python >= 3.11
    state = {huge: torch.ones(2), "w": torch.ones(3), "meta": {"n": huge, "s": "x" * 10**6}}
    checkpoint = read_checkpoint(torch_write(tmp_path, state, file_format))
    assert list(checkpoint.tensors) == ["w"]

    root = ordered(w=tensor(storage(file_format), huge, (1,), (1,)))
    with pytest.raises(CheckpointError, match="storage offset a very large integer"):
        read_checkpoint(write_crafted(tmp_path, file_format, root))


# --- globals named in every protocol's way ---------------------------------


def _short(text: bytes) -> bytes:
    return pickle.SHORT_BINUNICODE + bytes([len(text)]) + text


def inert_payloads(marker: str) -> dict:
    touch = f"touch {marker}".encode()
    return {
        # protocol 0/1 object creation opcodes and Python 2 names
        "INST": b"(S'" + touch + b"'\nios\nsystem\n.",
        "OBJ": b"(cos\nsystem\nS'" + touch + b"'\no.",
        "REDUCE protocol 0": b"cos\nsystem\n(S'" + touch + b"'\ntR.",
        "__builtin__.eval": b"c__builtin__\neval\n(S'open(\"" + marker.encode() + b"\", \"w\")'\ntR.",
        "getattr(__import__('os'), 'system')": (
            b"cbuiltins\ngetattr\n(cbuiltins\n__import__\n(S'os'\ntRS'system'\ntR(S'" + touch + b"'\ntR."
        ),
        "copy_reg._reconstructor on os.system": (
            b"ccopy_reg\n_reconstructor\n(cos\nsystem\nc__builtin__\nobject\nNtR."
        ),
        "functools.partial": (
            pickle.PROTO + b"\x02" + pickle.GLOBAL + b"functools\npartial\n" + pickle.GLOBAL + b"os\nsystem\n" + _short(touch)
            + pickle.TUPLE2 + pickle.REDUCE + pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.STOP
        ),
        "NEWOBJ_EX": (
            pickle.PROTO + b"\x04" + pickle.GLOBAL + b"os\nsystem\n" + pickle.EMPTY_TUPLE + pickle.EMPTY_DICT + pickle.NEWOBJ_EX + pickle.STOP
        ),
        "_rebuild_from_type_v2 through os.system": (
            pickle.PROTO + b"\x02" + pickle.GLOBAL + b"torch._tensor\n_rebuild_from_type_v2\n"
            + pickle.MARK + pickle.GLOBAL + b"os\nsystem\n" + pickle.NONE + _short(touch) + pickle.TUPLE1 + pickle.NONE + pickle.TUPLE
            + pickle.REDUCE + pickle.STOP
        ),
        "PERSID text": b"Pstorage\n.",
        "EXT1 unregistered": pickle.PROTO + b"\x02" + pickle.EXT1 + b"\x01" + pickle.STOP,
        "NEXT_BUFFER": pickle.PROTO + b"\x05" + pickle.NEXT_BUFFER + pickle.STOP,
        "BUILD slot state on an allowed global": (
            pickle.PROTO + b"\x02" + pickle.GLOBAL + b"builtins\nlist\n" + pickle.NONE + pickle.EMPTY_DICT + pickle.TUPLE2 + pickle.BUILD + pickle.STOP
        ),
    }


@pytest.mark.parametrize("case", sorted(inert_payloads("m")))
def test_regression_named_callables_stay_inert_in_every_protocol(tmp_path, case, monkeypatch):
    monkeypatch.chdir(tmp_path)
    payload = inert_payloads("m")[case]  # the marker "m" is relative to tmp_path
    six = float_bytes([1.0] * 6)
    for path in (
        write_torch_zip(tmp_path / "z.pt", payload, {"0": six}),
        write_torch_legacy(tmp_path / "l.pt", payload, [("0", 6, six)]),
    ):
        with pytest.raises(CheckpointError):
            read_checkpoint(path)
    assert not (tmp_path / "m").exists()
