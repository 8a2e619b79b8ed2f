"""Broken and hostile .lnfast files are refused with a CheckpointError that
names the file and the problem, like every other format; options a file
answers itself are refused by name. (The C++ core test fuzzes the header
parser with resealed checksums: cpp/tests/test_model_file.cpp.)"""
import os

import numpy as np
import pytest

import lnfast
from model_file_support import FILE_BYTES_AT, HEADER_BYTES, VERSION_AT, inputs, saved, small_model


def refused(path, pattern, **options):
    with pytest.raises(lnfast.CheckpointError, match=pattern) as caught:
        lnfast.load(path, **options)
    assert str(caught.value).startswith(str(path) + ": ")
    return caught.value


def edited(tmp_path, at, new_bytes, source=None):
    """A copy of `source` (default: a fresh small model's file) with new_bytes at `at`."""
    data = bytearray((source or saved(tmp_path)).read_bytes())
    data[at:at + len(new_bytes)] = new_bytes
    path = tmp_path / "edited.lnfast"
    path.write_bytes(bytes(data))
    return path


def test_truncated_anywhere(tmp_path):
    data = saved(tmp_path).read_bytes()
    cut = tmp_path / "cut.lnfast"
    for size in [9, 20, HEADER_BYTES - 1, HEADER_BYTES, 300, 4096, len(data) - 1]:
        cut.write_bytes(data[:size])
        refused(cut, "truncated")


def test_only_the_magic(tmp_path):
    path = tmp_path / "magic.lnfast"
    path.write_bytes(lnfast.model_file.MAGIC)
    refused(path, "shorter than the 128-byte header")


def test_a_newer_format_version_is_refused_by_name(tmp_path):
    path = edited(tmp_path, VERSION_AT, (2).to_bytes(4, "little"))
    error = refused(path, "newer lnfast: format version 2")
    assert "reads versions up to 1" in error.problem


def test_a_header_claiming_another_size(tmp_path):
    path = edited(tmp_path, FILE_BYTES_AT, (1 << 62).to_bytes(8, "little"))
    refused(path, "says the file has 4611686018427387904 bytes")


def test_appended_bytes(tmp_path):
    path = saved(tmp_path)
    with open(path, "ab") as f:
        f.write(b"\0" * 16)
    refused(path, "bytes appended")


@pytest.mark.parametrize("at", [24, 40, 48, 130, 200])
def test_a_flipped_bit_in_the_header_or_table(tmp_path, at):
    data = saved(tmp_path).read_bytes()
    path = edited(tmp_path, at, bytes([data[at] ^ 0x10]))
    refused(path, "header or layer table is corrupted|table .* payload")


def test_a_flipped_bit_in_the_weights(tmp_path):
    path = saved(tmp_path)
    offset = lnfast.model_file.describe(path)["layers"][1]["matrices"]["w_hh"]["offset"]
    data = path.read_bytes()
    path = edited(tmp_path, offset + 3, bytes([data[offset + 3] ^ 1]), source=path)
    refused(path, "weights are corrupted")
    # Skipping the checksum is the caller's promise that the file is intact.
    lnfast.load(path, verify_checksum=False)


def test_a_non_finite_int8_scale_is_refused_even_unverified(tmp_path):
    model = small_model("int8")
    path = saved(tmp_path, model)
    info = lnfast.model_file.describe(path)["layers"][0]["matrices"]["w_ih"]
    path = edited(tmp_path, info["scales_offset"], np.float32(np.nan).tobytes(), source=path)
    refused(path, "scale of row 0 is not finite", verify_checksum=False)


def test_not_a_model_file_at_all(tmp_path):
    path = tmp_path / "noise.lnfast"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(lnfast.CheckpointError):  # not .lnfast: the checkpoint reader's message
        lnfast.load(path)


def test_empty_missing_and_directory(tmp_path):
    with pytest.raises(lnfast.CheckpointError, match="no such file|cannot"):
        lnfast.model_file.load(tmp_path / "missing.lnfast")
    empty = tmp_path / "empty.lnfast"
    empty.write_bytes(b"")
    with pytest.raises(lnfast.CheckpointError, match="empty"):
        lnfast.model_file.load(empty)
    with pytest.raises(lnfast.CheckpointError, match="not a regular file"):
        lnfast.model_file.load(tmp_path)


def test_bytes_and_file_objects_are_pointed_to_a_path(tmp_path):
    data = saved(tmp_path).read_bytes()
    with pytest.raises(lnfast.CheckpointError, match="maps it from its path"):
        lnfast.load(data)
    with pytest.raises(lnfast.CheckpointError, match="not tensors"):
        lnfast.read_tensors(tmp_path / "model.lnfast")


@pytest.mark.parametrize("options,pattern", [
    ({"weights": "bf16"}, "stores weights 'fp32', weights='bf16'"),
    ({"activations": "int8"}, "stores activations 'fp32'"),
    ({"prefix": "rnn"}, "holds exactly one model"),
    ({"layout": "torch_nn"}, "holds exactly one model"),
    ({"zoneout": 0.1}, "zoneout is stored in a .lnfast file"),
])
def test_options_the_file_answers(tmp_path, options, pattern):
    refused(saved(tmp_path), pattern, **options)


def test_unknown_options_and_isas(tmp_path):
    path = saved(tmp_path)
    with pytest.raises(TypeError, match="unknown load option"):
        lnfast.load(path, colour="red")
    with pytest.raises(ValueError, match="not available here"):
        lnfast.load(path, isa="sparc")
    assert lnfast.load(path, weights="fp32").weights == "fp32"  # agreeing is fine


def test_an_unwritable_target(tmp_path):
    with pytest.raises(lnfast.CheckpointError, match="cannot create"):
        small_model().save(tmp_path / "missing-dir" / "model.lnfast")
    assert np.isfinite(small_model().run(inputs(small_model()))).all()
