"""safetensors files: every dtype lnfast reads, and headers that must be refused."""

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

from lnfast.errors import CheckpointError
from lnfast.formats import read_checkpoint


def test_torch_written_file_with_half_precision(tmp_path):
    generator = torch.Generator().manual_seed(1)
    state = {
        "rnn.weight_ih_l0": torch.randn(8, 3, generator=generator),
        "rnn.weight_hh_l0": torch.randn(8, 2, generator=generator).bfloat16(),
        "rnn.bias": torch.randn(8, generator=generator).half(),
        "norm.gain": torch.randn(8, generator=generator, dtype=torch.float64),
        "steps": torch.tensor([3]),
    }
    path = tmp_path / "weights.bin"  # detected by content, not extension
    save_torch(state, path, metadata={"format": "pt"})
    checkpoint = read_checkpoint(path)
    assert checkpoint.format == "safetensors"
    for name, value in state.items():
        if name == "steps":
            continue
        np.testing.assert_array_equal(checkpoint.tensors[name], value.float().numpy())
        assert checkpoint.tensors[name].dtype == np.float32
        assert checkpoint.tensors[name].flags.c_contiguous
    assert checkpoint.dtypes["rnn.weight_hh_l0"] == "bfloat16"
    assert checkpoint.dtypes["rnn.bias"] == "float16"
    assert checkpoint.extras["skipped_tensors"] == {"steps": "int64"}
    assert checkpoint.extras["metadata"] == {"format": "pt"}


def test_numpy_written_file(tmp_path):
    arrays = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "b": np.ones(5, np.float16)}
    save_numpy(arrays, tmp_path / "w.safetensors")
    checkpoint = read_checkpoint(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(checkpoint.tensors["a"], arrays["a"])
    np.testing.assert_array_equal(checkpoint.tensors["b"], arrays["b"].astype(np.float32))


def write_raw(path, header, data, header_length=None):
    encoded = header if isinstance(header, bytes) else json.dumps(header).encode()
    length = len(encoded) if header_length is None else header_length
    path.write_bytes(struct.pack("<Q", length) + encoded + data)
    return path


def entry(begin, end, shape, dtype="F32"):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


HOSTILE_HEADERS = {
    "overlapping offsets": ({"a": entry(0, 8, [2]), "b": entry(4, 12, [2])}, bytes(12)),
    "hole between tensors": ({"a": entry(0, 8, [2]), "b": entry(12, 16, [1])}, bytes(16)),
    "data past the end": ({"a": entry(0, 64, [16])}, bytes(8)),
    "shape disagrees with bytes": ({"a": entry(0, 8, [3])}, bytes(8)),
    "overflowing shape": ({"a": entry(0, 8, [2**40, 2**40])}, bytes(8)),
    "negative offset": ({"a": entry(-8, 0, [2])}, bytes(8)),
    "empty but huge": ({"a": entry(0, 0, [0, 2**40, 2**40]), "b": entry(0, 4, [1])}, bytes(4)),
    "trailing bytes": ({"a": entry(0, 8, [2])}, bytes(12)),
    "non-json header": (b"{not json at all}", b""),
    "header is a list": (b"[1, 2, 3]           ", b""),
    "duplicate names": (
        b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        bytes(4),
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_HEADERS))
def test_hostile_headers_are_refused(tmp_path, case):
    header, data = HOSTILE_HEADERS[case]
    path = write_raw(tmp_path / "hostile.safetensors", header, data)
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("length", [2**40, 2**63, 2**64 - 1, 1_000_000])
def test_huge_header_length_is_refused(tmp_path, length):
    path = write_raw(tmp_path / "huge.safetensors", {"a": entry(0, 8, [2])}, bytes(8), length)
    with pytest.raises(CheckpointError):
        read_checkpoint(path)


def test_file_with_only_integer_tensors_is_refused(tmp_path):
    save_numpy({"ids": np.arange(4)}, tmp_path / "ints.safetensors")
    with pytest.raises(CheckpointError, match="no floating-point tensors"):
        read_checkpoint(tmp_path / "ints.safetensors")


def test_truncated_safetensors(tmp_path):
    save_numpy({"a": np.arange(6, dtype=np.float32)}, tmp_path / "full.safetensors")
    data = (tmp_path / "full.safetensors").read_bytes()
    for cut in range(1, len(data)):
        (tmp_path / "cut.safetensors").write_bytes(data[:cut])
        with pytest.raises(CheckpointError):
            read_checkpoint(tmp_path / "cut.safetensors")
