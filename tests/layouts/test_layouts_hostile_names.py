"""Layout discovery on hostile tensor names: time linear in the number of
tensors, and a LayoutError (never another exception) for names no real
network has."""
from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

import lnfast
from layout_test_support import load_in_child


def write_empty_tensors(path, names, shapes=None):
    """A safetensors file of float32 tensors, empty unless given a shape."""
    shapes = shapes or {}
    save_file({name: np.zeros(shapes.get(name, (0,)), np.float32) for name in names}, str(path))
    return path


def test_huge_layer_indices_cost_time_linear_in_the_tensors(tmp_path):
    # 1 000 prefixes each holding only layer 999 999: discovery looped over
    # every missing layer index, 10**9 steps for an 80 KB file (51-70 s).
    names = [f"p{i}.weight_ih_l999999" for i in range(1000)]
    path = write_empty_tensors(tmp_path / "layers.safetensors", names)
    outcome = load_in_child(path, timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome
    assert "found 1000 recurrent networks" in outcome["message"]


@pytest.mark.parametrize("layers, shown", [
    ([0, 4], "1, 2, 3"),
    ([2], "0, 1"),
    ([999_999], "0, 1, 2, 3, 4 and 999994 more"),
])
def test_missing_layers_are_named_first_few_then_counted(tmp_path, layers, shown):
    names = [f"rnn.weight_ih_l{k}" for k in layers]
    path = write_empty_tensors(tmp_path / "gaps.safetensors", names)
    with pytest.raises(lnfast.CheckpointError, match=f"layer\\(s\\) {shown} are absent while "
                                                     f"layer {layers[-1]} is present"):
        lnfast.load(path)


def test_a_layer_index_beyond_six_digits_is_not_a_layer(tmp_path):
    # Once set(range(max + 1)) was built from it.
    path = write_empty_tensors(tmp_path / "layers.safetensors",
                               ["rnn.weight_hh_l0", "rnn.weight_hh_l1000000000000"])
    outcome = load_in_child(path, timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome


@pytest.mark.parametrize("name", ["rnn.weight_hh_l" + "1" * 5000, "1" * 5000 + ".weight_hh"],
                         ids=["layer index", "cell index"])
def test_an_index_longer_than_the_int_digit_limit(tmp_path, name):
    # int() of more than 4300 digits raises ValueError.
    names = [name] if "_l" in name else [name, "1" * 5000 + ".weight_ih"]
    with pytest.raises(lnfast.CheckpointError):
        lnfast.load(write_empty_tensors(tmp_path / "digits.safetensors", names))


def test_a_haste_cell_with_zero_hidden_size(tmp_path):
    # Hidden size 0 made every expected shape a wildcard; np.split then
    # raised ValueError on 7 rows that are not 4 gate blocks.
    shapes = {"kernel": (3, 7), "recurrent_kernel": (0, 7), "bias": (7,),
              "gamma": (2, 7), "gamma_h": (1,), "beta_h": (1,)}
    with pytest.raises(lnfast.CheckpointError):
        lnfast.load(write_empty_tensors(tmp_path / "haste.safetensors", shapes, shapes))


def test_many_cell_prefixes_are_not_quadratic(tmp_path):
    # One prefix query per cell: each scanned (or skipped) all names, so
    # 30 000 "m<i>.weight_hh" tensors took ~45 s.
    path = write_empty_tensors(tmp_path / "many.safetensors", [f"m{i}.weight_hh" for i in range(30_000)])
    outcome = load_in_child(path, timeout=20)
    assert outcome["outcome"] == "CheckpointError", outcome
