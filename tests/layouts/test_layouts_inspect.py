"""lnfast.inspect: the tensors a checkpoint holds and the networks found in it."""
from __future__ import annotations

import argparse

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402


class Recognizer(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm1d(5)   # its num_batches_tracked is an int64 buffer
        self.rnn = tc.IcefallLayerNormLSTM(2, 5, 9)
        self.head = nn.Linear(9, 4).half()


@pytest.fixture
def lightning_file(tmp_path):
    torch.manual_seed(0)
    state = {f"model.{k}": v for k, v in Recognizer().state_dict().items()}
    path = tmp_path / "recognizer.ckpt"
    torch.save({"state_dict": state, "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(3)}}}],
                "hyper_parameters": {"args": argparse.Namespace(hidden=9)}}, path)
    return path


def test_tensors_with_shapes_and_stored_dtypes(lightning_file):
    info = lnfast.inspect(lightning_file)
    assert info.format == "torch-zip"
    by_name = {t.name: t for t in info.tensors}
    assert by_name["state_dict.model.rnn.layers.1.cell.weight_hh"].shape == (36, 9)
    assert by_name["state_dict.model.head.weight"].dtype == "float16"
    assert info.skipped["state_dict.model.norm.num_batches_tracked"] == "int64"
    assert "argparse.Namespace" in info.placeholders


def test_candidates_and_statuses(lightning_file):
    info = lnfast.inspect(lightning_file)
    [candidate] = info.candidates
    assert (candidate.layout, candidate.prefix, candidate.family, candidate.num_layers,
            candidate.sizes) == ("icefall_lstm", "state_dict.model.rnn.layers.", "LSTM", 2, (5, 9, 9))
    assert info.statuses == ["ok"]
    model = lnfast.load(lightning_file, prefix=candidate.prefix)
    assert model.num_layers == 2


def test_readable_table(lightning_file):
    text = str(lnfast.inspect(lightning_file))
    for expected in ("torch-zip", "icefall_lstm", "state_dict.model.rnn.layers.", "5 -> 9 -> 9",
                     "ok", "state_dict.model.head.weight", "(4, 9)", "float16",
                     "num_batches_tracked", "int64", "argparse.Namespace"):
        assert expected in text, expected


def test_networks_that_cannot_load_say_why(tmp_path):
    path = tmp_path / "two.pt"
    # An encoder whose layer 1 is missing (bidirectional stacks load now).
    encoder = {k: v for k, v in nn.LSTM(3, 5, 3).state_dict().items() if "_l1" not in k}
    torch.save({**{f"enc.{k}": v for k, v in encoder.items()},
                **{f"dec.{k}": v for k, v in nn.GRU(5, 7).state_dict().items()}}, path)
    info = lnfast.inspect(path)
    assert [(c.prefix, s.split(" (")[0]) for c, s in zip(info.candidates, info.statuses)] == [
        ("dec.", "ok"), ("enc.", "cannot load: layers missing")]
    with pytest.raises(lnfast.LayoutError, match="cannot load: layers missing"):
        lnfast.load(path)
    with pytest.raises(lnfast.LayoutError, match="layer 2 is present"):
        lnfast.load(path, prefix="enc")


def test_a_file_without_networks(tmp_path):
    path = tmp_path / "linear.pt"
    torch.save(nn.Linear(3, 4).state_dict(), path)
    info = lnfast.inspect(path)
    assert info.candidates == []
    assert "no recurrent network" in str(info) and "weight" in str(info)
