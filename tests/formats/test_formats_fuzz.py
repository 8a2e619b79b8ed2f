"""Mutated checkpoints: every outcome is a Checkpoint or a CheckpointError.

Any other exception type, a crash or a hang is a bug in the readers'
validation. The zip format does not check CRCs, so mutations inside
data.pkl reach the unpickler - the part most worth fuzzing.
"""

import warnings
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save_file

from lnfast.errors import CheckpointError
from lnfast.formats import Checkpoint, read_checkpoint

FUZZ_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


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
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = read_checkpoint(path)
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
