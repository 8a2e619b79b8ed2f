"""Mutated and hostile checkpoints: every outcome is a Checkpoint or a
CheckpointError, in bounded time.

Any other exception type, a crash or a hang is a bug in the readers'
validation. The zip format does not check CRCs, so mutations inside
data.pkl reach the unpickler - the part most worth fuzzing. Besides
mutations, the structures that once stalled the loader are generated with
random sizes: tuple keys built from shared tuples, keys sharing one hash,
tensors under deep shared paths, huge layer indices. The run is seeded
(derandomized) and bounded: each example gets EXAMPLE_SECONDS, and a hang
in C code that no alarm interrupts ends the process after WATCHDOG_SECONDS
with a traceback rather than never.
"""

import faulthandler
import signal
import struct
import warnings
import zipfile

import pickle

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

import hostile_files
import lnfast
from lnfast.errors import CheckpointError
from lnfast.formats import Checkpoint, read_checkpoint
from lnfast.formats.flatten import MAX_NAME_LENGTH
from lnfast.formats.unpickle_limits import MAX_COLLIDING_KEYS, MAX_TUPLE_NESTING

FUZZ_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
STRUCTURE_SETTINGS = settings(FUZZ_SETTINGS, max_examples=40)
EXAMPLE_SECONDS = 5
WATCHDOG_SECONDS = 120


class ExampleTookTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise ExampleTookTooLong(f"one read took more than {EXAMPLE_SECONDS} s")


@pytest.fixture(autouse=True)
def bounded_time():
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
    previous = signal.signal(signal.SIGALRM, _alarm)
    yield
    signal.signal(signal.SIGALRM, previous)
    faulthandler.cancel_dump_traceback_later()


def within_seconds(read, *args):
    signal.alarm(EXAMPLE_SECONDS)
    try:
        return read(*args)
    finally:
        signal.alarm(0)


def small_state():
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(4, 3, generator=generator)
    return {
        "state_dict": {
            "rnn.weight": base,
            "rnn.weight_t": base.t(),
            "rnn.bias": torch.randn(3, generator=generator).half(),
            "norm.gain": torch.randn(3, generator=generator).bfloat16(),
        },
        "hyper_parameters": {"hidden": 3, "name": "x"},
        "epoch": 1,
    }


@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz_originals")
    state = small_state()
    torch.save(state, folder / "zip.pt")
    torch.save(state, folder / "legacy.pt", _use_new_zipfile_serialization=False)
    save_file(dict(state["state_dict"], **{"rnn.weight_t": state["state_dict"]["rnn.weight_t"].contiguous()}),
              folder / "weights.safetensors")
    files = {name: (folder / name).read_bytes() for name in ("zip.pt", "legacy.pt", "weights.safetensors")}
    with zipfile.ZipFile(folder / "zip.pt") as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/data.pkl"))
        local_header = files["zip.pt"][info.header_offset : info.header_offset + 30]
        name_length = int.from_bytes(local_header[26:28], "little")
        extra_length = int.from_bytes(local_header[28:30], "little")
        start = info.header_offset + 30 + name_length + extra_length
    return {"files": files, "pickle_span": (start, start + info.file_size), "folder": folder}


def read_outcome(folder, data: bytes):
    path = folder / "mutated.pt"
    path.write_bytes(data)
    return read_path_outcome(path)


def read_path_outcome(path):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = within_seconds(read_checkpoint, path)
    except CheckpointError as error:
        assert str(path) in str(error)
        return error
    finally:
        # Damaged files are reported by errors, never by stray warnings.
        assert [str(w.message) for w in caught] == []
    assert isinstance(result, Checkpoint)
    for array in result.tensors.values():
        assert array.dtype == np.float32 and array.flags.c_contiguous
    return result


mutations = st.lists(
    st.tuples(st.floats(min_value=0.0, max_value=1.0, exclude_max=True), st.integers(0, 255)),
    min_size=1,
    max_size=12,
)


def apply(data: bytes, edits, span=None) -> bytes:
    start, end = span or (0, len(data))
    mutated = bytearray(data)
    for where, value in edits:
        mutated[start + int(where * (end - start))] = value
    return bytes(mutated)


@pytest.mark.parametrize("name", ["zip.pt", "legacy.pt", "weights.safetensors"])
def test_unmutated_originals_read(originals, name):
    assert isinstance(read_outcome(originals["folder"], originals["files"][name]), Checkpoint)


@FUZZ_SETTINGS
@given(edits=mutations, cut=st.none() | st.floats(min_value=0.0, max_value=1.0))
def test_mutated_zip(originals, edits, cut):
    data = apply(originals["files"]["zip.pt"], edits)
    if cut is not None:
        data = data[: int(cut * len(data))]
    read_outcome(originals["folder"], data)


@FUZZ_SETTINGS
@given(edits=mutations)
def test_mutated_zip_pickle(originals, edits):
    data = apply(originals["files"]["zip.pt"], edits, originals["pickle_span"])
    read_outcome(originals["folder"], data)


@FUZZ_SETTINGS
@given(edits=mutations, cut=st.none() | st.floats(min_value=0.0, max_value=1.0))
def test_mutated_legacy(originals, edits, cut):
    data = apply(originals["files"]["legacy.pt"], edits)
    if cut is not None:
        data = data[: int(cut * len(data))]
    read_outcome(originals["folder"], data)


@FUZZ_SETTINGS
@given(edits=mutations)
def test_mutated_safetensors(originals, edits):
    read_outcome(originals["folder"], apply(originals["files"]["weights.safetensors"], edits))


@FUZZ_SETTINGS
@given(
    data=st.binary(max_size=600),
    magic=st.sampled_from([b"", b"PK\x03\x04", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19."]),
)
def test_arbitrary_bytes_after_a_magic(originals, data, magic):
    read_outcome(originals["folder"], magic + data)


# --- the structures that once stalled the loader, at random sizes ----------

P = pickle


def with_a_tensor(body: bytes) -> bytes:
    """A protocol-4 dict {"w": tensor} after `body`, which leaves nothing on the stack."""
    return (P.PROTO + b"\x04" + body + P.EMPTY_DICT + P.SHORT_BINUNICODE + b"\x01w"
            + hostile_files.tensor_ops() + P.SETITEM + P.STOP)


@STRUCTURE_SETTINGS
@given(levels=st.integers(0, MAX_TUPLE_NESTING + 20), arity=st.sampled_from([2, 3]),
       use=st.sampled_from(["dict key", "set item", "frozenset item"]))
def test_keys_built_from_shared_tuples(tmp_path, levels, arity, use):
    build = {2: P.DUP + P.TUPLE2, 3: P.DUP + P.DUP + P.TUPLE3}[arity]
    key = P.EMPTY_TUPLE + build * levels
    body = {
        "dict key": P.EMPTY_DICT + key + P.NONE + P.SETITEM,
        "set item": P.EMPTY_SET + P.MARK + key + P.ADDITEMS,
        "frozenset item": P.MARK + key + P.FROZENSET,
    }[use] + P.POP
    outcome = read_path_outcome(hostile_files.zip_with(tmp_path / "dag.pt", with_a_tensor(body)))
    if levels >= MAX_TUPLE_NESTING:
        assert isinstance(outcome, CheckpointError)

_PAIRS = hostile_files.colliding_pairs(2 * MAX_COLLIDING_KEYS + 500)


@STRUCTURE_SETTINGS
@given(colliding=st.integers(0, len(_PAIRS)), plain=st.integers(0, 500),
       container=st.sampled_from(["dict", "frozenset"]))
def test_keys_sharing_one_hash(tmp_path, colliding, plain, container):
    keys = _PAIRS[:colliding] + [(-k, k) for k in range(1, plain + 1)]
    items = b"".join(hostile_files._int_ops(a) + hostile_files._int_ops(b) + P.TUPLE2
                     + (P.NONE if container == "dict" else b"") for a, b in keys)
    body = (P.EMPTY_DICT + P.MARK + items + P.SETITEMS if container == "dict"
            else P.MARK + items + P.FROZENSET) + P.POP
    outcome = read_path_outcome(hostile_files.zip_with(tmp_path / "collide.pt", with_a_tensor(body)))
    # (-k, k) never collide with each other or with the crafted pairs'
    # hash, so exactly colliding - 1 insertions meet an earlier equal hash.
    refused = colliding - 1 > MAX_COLLIDING_KEYS
    assert isinstance(outcome, CheckpointError) == refused, outcome
    if refused:
        assert "hashes can be made to collide" in str(outcome)


@STRUCTURE_SETTINGS
@given(tensors=st.integers(0, 3000), depth=st.integers(0, 3000))
def test_tensors_under_deep_shared_paths(tmp_path, tensors, depth):
    path = hostile_files.zip_with(tmp_path / "deep.pt", hostile_files.deep_names_payload(tensors, depth))
    outcome = read_path_outcome(path)
    longest = 2 * depth + len(str(max(tensors - 1, 0)))  # "k." per level, then the index
    if isinstance(outcome, Checkpoint):
        assert len(outcome.tensors) == tensors
        assert all(len(name) <= MAX_NAME_LENGTH for name in outcome.tensors)
    else:
        assert tensors == 0 or longest > MAX_NAME_LENGTH, outcome


@STRUCTURE_SETTINGS
@given(layers=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 999_999)), min_size=1, max_size=300))
def test_layer_indices_anywhere_below_a_million(tmp_path, layers):
    names = sorted({f"p{prefix}.weight_ih_l{layer}" for prefix, layer in layers})
    path = hostile_files.write_safetensors(tmp_path / "layers.safetensors", hostile_files.zero_size_f32(names))
    with pytest.raises(CheckpointError):  # no weight_hh anywhere: never a network
        within_seconds(lnfast.load, path)
