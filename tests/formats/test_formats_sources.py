"""lnfast.load / inspect / read_tensors take a path, bytes or a binary file
object, through the same reader and with the same refusals."""
import io

import numpy as np
import pytest
import torch

import lnfast
from lnfast import CheckpointError
from lnfast.formats import memory_source


@pytest.fixture
def lstm_file(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.LSTM(3, 5, num_layers=2)
    path = tmp_path / "lstm.pt"
    torch.save(module.state_dict(), path)
    return path, module


class Unseekable(io.RawIOBase):
    """A pipe-like binary stream: read/readinto only, no seek or tell."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        return self._data.readinto(buffer)


def sources(path):
    data = path.read_bytes()
    return {"path": path, "str": str(path), "bytes": data, "bytearray": bytearray(data),
            "memoryview": memoryview(data), "BytesIO": io.BytesIO(data),
            "open file": open(path, "rb"), "unseekable": Unseekable(data)}


@pytest.mark.parametrize("kind", ["path", "str", "bytes", "bytearray", "memoryview", "BytesIO",
                                  "open file", "unseekable"])
def test_every_source_reads_the_same_tensors_and_model(lstm_file, kind):
    path, module = lstm_file
    expected = {name: t.detach().numpy() for name, t in module.state_dict().items()}
    got = lnfast.read_tensors(sources(path)[kind])
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name].dtype == np.float32 and got[name].flags.c_contiguous
        np.testing.assert_array_equal(got[name], expected[name])
    X = np.random.default_rng(1).standard_normal((7, 3)).astype(np.float32)
    reference = lnfast.load(path).run(X)
    np.testing.assert_array_equal(lnfast.load(sources(path)[kind]).run(X), reference)
    summary = lnfast.inspect(sources(path)[kind])
    assert summary.format == "torch-zip" and len(summary.candidates) == 1


def test_read_tensors_is_public():
    assert "read_tensors" in lnfast.__all__


@pytest.mark.parametrize("wrap", [bytes, io.BytesIO], ids=["bytes", "file object"])
def test_damaged_bytes_give_the_same_error_as_a_damaged_file(lstm_file, tmp_path, wrap):
    path, _ = lstm_file
    cut = path.read_bytes()[:300]
    (tmp_path / "cut.pt").write_bytes(cut)
    with pytest.raises(CheckpointError) as from_file:
        lnfast.read_tensors(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError) as from_memory:
        lnfast.read_tensors(wrap(cut))
    assert from_memory.value.problem == from_file.value.problem


def test_safetensors_bytes(tmp_path):
    from safetensors.numpy import save
    data = save({"rnn.weight_ih_l0": np.ones((8, 3), np.float32)}, metadata={"who": "test"})
    assert lnfast.read_tensors(data)["rnn.weight_ih_l0"].shape == (8, 3)
    with pytest.raises(CheckpointError, match="safetensors"):
        lnfast.read_tensors(data[:-4])


def test_empty_bytes_and_text_streams_are_refused():
    with pytest.raises(CheckpointError, match="<bytes>.*empty"):
        lnfast.read_tensors(b"")
    with pytest.raises(CheckpointError, match="binary mode"):
        lnfast.read_tensors(io.StringIO("PK"))


def test_not_a_source_is_a_type_error():
    with pytest.raises(TypeError, match="path, bytes or a binary file object"):
        lnfast.read_tensors(42)


def test_an_endless_stream_is_refused_at_the_memory_bound(monkeypatch):
    monkeypatch.setattr(memory_source, "MAX_IN_MEMORY_BYTES", 1 << 20)

    class Endless(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, buffer):
            buffer[:] = b"\0" * len(buffer)
            return len(buffer)

    with pytest.raises(CheckpointError, match="refusing to hold that much"):
        lnfast.read_tensors(Endless())
