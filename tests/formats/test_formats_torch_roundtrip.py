"""torch.save files (zip and legacy) read back exactly as tensor.float().numpy()."""

import argparse
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
import torch

from formats_test_support import (
    GlobalRef,
    RawPersistentId,
    dumps,
    float_bytes,
    ordered,
    rewrite_zip,
    tensor,
    write_torch_legacy,
    write_zip,
    zip_records,
)
from lnfast.errors import CheckpointError
from lnfast.formats import Checkpoint, read_checkpoint

LEGACY = {"_use_new_zipfile_serialization": False}
BOTH_FORMATS = pytest.mark.parametrize(
    "save_kwargs, expected_format", [({}, "torch-zip"), (LEGACY, "torch-legacy")], ids=["zip", "legacy"]
)


class CustomHyperParameters:
    def __init__(self):
        self.hidden = 32
        self.name = "ln-lstm"


def assert_same(array, tensor):
    expected = tensor.detach().float().numpy()
    assert array.dtype == np.float32
    assert array.flags.c_contiguous
    assert array.shape == expected.shape
    np.testing.assert_array_equal(array, expected)


def save_and_read(tmp_path, obj, save_kwargs, name="model.pt") -> Checkpoint:
    path = tmp_path / name
    torch.save(obj, path, **save_kwargs)
    return read_checkpoint(path)


def mixed_dtype_state():
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(6, 5, generator=generator)
    return OrderedDict(
        f32=torch.randn(4, 3, generator=generator),
        f16=torch.randn(7, generator=generator).half(),
        bf16=torch.randn(3, 2, generator=generator).bfloat16(),
        f64=torch.randn(2, 2, generator=generator, dtype=torch.float64) * 1e3,
        transposed=base.t(),
        row_slice=base[2:4],
        column_slice=base[:, 1],
        stepped=base[::2, ::3],
        shares_base=base,
        scalar=torch.tensor(3.5),
        empty=torch.zeros(0, 4),
        expanded=torch.randn(1, 3, generator=generator).expand(4, 3),
    )


@BOTH_FORMATS
def test_dtypes_views_and_shared_storages(tmp_path, save_kwargs, expected_format):
    state = mixed_dtype_state()
    checkpoint = save_and_read(tmp_path, state, save_kwargs)
    assert checkpoint.format == expected_format
    assert list(checkpoint.tensors) == list(state)
    for name, value in state.items():
        assert_same(checkpoint.tensors[name], value)
    assert checkpoint.dtypes["f16"] == "float16"
    assert checkpoint.dtypes["bf16"] == "bfloat16"
    assert checkpoint.dtypes["f64"] == "float64"
    assert checkpoint.dtypes["transposed"] == "float32"


@BOTH_FORMATS
def test_float64_beyond_float32_range_becomes_inf_like_torch(tmp_path, save_kwargs, expected_format):
    state = {"big": torch.tensor([1e300, -1e300, 1.0], dtype=torch.float64)}
    checkpoint = save_and_read(tmp_path, state, save_kwargs)
    assert_same(checkpoint.tensors["big"], state["big"])


@BOTH_FORMATS
def test_integer_tensors_are_skipped_and_reported(tmp_path, save_kwargs, expected_format):
    state = {"w": torch.ones(2), "steps": torch.tensor(7), "mask": torch.tensor([True, False])}
    checkpoint = save_and_read(tmp_path, state, save_kwargs)
    assert list(checkpoint.tensors) == ["w"]
    assert checkpoint.extras["skipped_tensors"] == {"steps": "int64", "mask": "bool"}


@BOTH_FORMATS
def test_nested_wrappers_are_flattened_with_dots(tmp_path, save_kwargs, expected_format):
    lstm = torch.nn.LSTM(3, 4, num_layers=2)
    wrapped = {
        "state_dict": lstm.state_dict(),
        "model": {"head": {"weight": torch.ones(2, 4)}},
        "layers": [torch.zeros(3), {"gain": torch.full((3,), 2.0)}],
    }
    checkpoint = save_and_read(tmp_path, wrapped, save_kwargs)
    for name, value in lstm.state_dict().items():
        assert_same(checkpoint.tensors[f"state_dict.{name}"], value)
    assert_same(checkpoint.tensors["model.head.weight"], torch.ones(2, 4))
    assert_same(checkpoint.tensors["layers.0"], torch.zeros(3))
    assert_same(checkpoint.tensors["layers.1.gain"], torch.full((3,), 2.0))


@BOTH_FORMATS
@pytest.mark.parametrize("hyper", [argparse.Namespace(lr=0.1, layers=[1, 2]), CustomHyperParameters()])
def test_lightning_like_checkpoint(tmp_path, save_kwargs, expected_format, hyper):
    model = torch.nn.GRU(3, 5)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.randn(2, 1, 3))[0].sum().backward()
    optimizer.step()
    lightning = {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.0.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "optimizer_states": [optimizer.state_dict()],
        "lr_schedulers": [],
        "hyper_parameters": {"hparams": hyper, "hidden": 5},
        "callbacks": {"ModelCheckpoint": {"best_model_score": torch.tensor(0.25), "monitor": "val"}},
    }
    checkpoint = save_and_read(tmp_path, lightning, save_kwargs)
    for name, value in model.state_dict().items():
        assert_same(checkpoint.tensors[f"state_dict.model.{name}"], value)
    exp_avg = optimizer.state_dict()["state"][0]["exp_avg"]
    assert_same(checkpoint.tensors["optimizer_states.0.state.0.exp_avg"], exp_avg)
    hyper_class = f"{type(hyper).__module__}.{type(hyper).__name__}"
    assert hyper_class in checkpoint.extras["placeholders"]


@BOTH_FORMATS
def test_whole_pickled_module_reads_like_its_state_dict(tmp_path, save_kwargs, expected_format):
    model = torch.nn.Sequential(torch.nn.LSTM(3, 4), torch.nn.LayerNorm(4))
    checkpoint = save_and_read(tmp_path, model, save_kwargs)
    for name, value in model.state_dict().items():
        assert_same(checkpoint.tensors[name], value)
    assert "torch.nn.modules.rnn.LSTM" in checkpoint.extras["placeholders"]
    # The LSTM's _flat_weights list holds the same parameter objects again.
    assert checkpoint.extras["aliases"]["0._flat_weights.0"] == "0.weight_ih_l0"


@BOTH_FORMATS
def test_bare_tensor_and_parameter(tmp_path, save_kwargs, expected_format):
    value = torch.nn.Parameter(torch.randn(3, 2))
    checkpoint = save_and_read(tmp_path, value, save_kwargs)
    assert_same(checkpoint.tensors["tensor"], value)


def test_zip_prefix_follows_the_file_name(tmp_path):
    state = {"w": torch.randn(3, 3)}
    checkpoint = save_and_read(tmp_path, state, {}, name="mymodel.pt")
    assert checkpoint.extras["archive_folder"] == "mymodel"
    assert_same(checkpoint.tensors["w"], state["w"])


def test_zip_rewritten_to_another_prefix_without_alignment(tmp_path):
    state = {"w": torch.randn(5, 3), "h": torch.randn(3).half()}
    torch.save(state, tmp_path / "original.pt")
    rewritten = rewrite_zip(
        tmp_path / "original.pt",
        tmp_path / "rewritten.pt",
        rename=lambda name: "some_other-folder/" + name.split("/", 1)[1],
    )
    checkpoint = read_checkpoint(rewritten)
    assert checkpoint.extras["archive_folder"] == "some_other-folder"
    for name, value in state.items():
        assert_same(checkpoint.tensors[name], value)


def test_big_endian_zip_is_byteswapped(tmp_path):
    state = {"w": torch.randn(4, 3), "h": torch.randn(5).half(), "b": torch.randn(2).bfloat16()}
    torch.save(state, tmp_path / "little.pt")
    records = zip_records(tmp_path / "little.pt")
    itemsizes = {}
    # Which storage key holds which dtype: the order torch wrote them in.
    for key, value in zip(sorted(k for k in records if "/data/" in k), state.values()):
        itemsizes[key] = value.element_size()

    def to_big_endian(name, data):
        if name.endswith("/byteorder"):
            return b"big"
        if name in itemsizes:
            array = np.frombuffer(data, dtype=f"<u{itemsizes[name]}")
            return array.astype(f">u{itemsizes[name]}").tobytes()
        return data

    big = rewrite_zip(tmp_path / "little.pt", tmp_path / "big.pt", transform=to_big_endian)
    checkpoint = read_checkpoint(big)
    assert checkpoint.extras["byteorder"] == "big"
    for name, value in state.items():
        assert_same(checkpoint.tensors[name], value)


def test_cuda_location_tags_are_ignored(tmp_path):
    state = {"w": torch.randn(2, 2)}
    torch.save(state, tmp_path / "cpu.pt")
    records = zip_records(tmp_path / "cpu.pt")
    pickle_name = next(name for name in records if name.endswith("/data.pkl"))
    records[pickle_name] = records[pickle_name].replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
    write_zip(tmp_path / "cuda.pt", list(records.items()))
    assert_same(read_checkpoint(tmp_path / "cuda.pt").tensors["w"], state["w"])


def test_arrays_stay_valid_after_the_file_is_gone(tmp_path):
    state = {"w": torch.randn(64, 64)}
    path = tmp_path / "model.pt"
    torch.save(state, path)
    checkpoint = read_checkpoint(path)
    path.unlink()
    assert_same(checkpoint.tensors["w"], state["w"])
    checkpoint.tensors["w"] += 1  # our own writable copy


def test_checkpoint_error_names_the_file(tmp_path):
    path = tmp_path / "not_a_model.bin"
    path.write_bytes(b"hello world, definitely not a checkpoint")
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(path)
    assert str(path) in str(caught.value)
    assert "not a recognised checkpoint" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_missing_file_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read"):
        read_checkpoint(tmp_path / "absent.pt")


def test_compressed_records_we_never_read_are_fine(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "plain.pt")
    records = zip_records(tmp_path / "plain.pt")
    prefix = next(iter(records)).split("/")[0]
    records[f"{prefix}/extra/notes.txt"] = b"x" * 1000
    path = tmp_path / "with_extra.pt"
    write_zip(path, list(records.items()), compressed={f"{prefix}/extra/notes.txt"})
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo(f"{prefix}/extra/notes.txt").compress_type == zipfile.ZIP_DEFLATED
    assert_same(read_checkpoint(path).tensors["w"], torch.ones(2))


class TaggedTensor(torch.Tensor):
    pass


@BOTH_FORMATS
def test_tensor_subclasses_parameters_with_state_and_new_dtypes(tmp_path, save_kwargs, expected_format):
    parameter = torch.nn.Parameter(torch.randn(2, 3))
    parameter.note = "extra attribute, saved through _rebuild_parameter_with_state"
    state = {
        "subclass": torch.randn(3).as_subclass(TaggedTensor),
        "parameter": parameter,
        "f8": torch.randn(3).to(torch.float8_e4m3fn),
        "u16": torch.zeros(3, dtype=torch.uint16),
    }
    checkpoint = save_and_read(tmp_path, state, save_kwargs)
    assert_same(checkpoint.tensors["subclass"], state["subclass"].as_subclass(torch.Tensor))
    assert_same(checkpoint.tensors["parameter"], parameter)
    assert checkpoint.extras["skipped_tensors"] == {"f8": "float8_e4m3fn", "u16": "uint16"}
    assert f"{__name__}.TaggedTensor" in checkpoint.extras["placeholders"]


def test_legacy_storage_views_from_old_torch(tmp_path):
    """Torch < 0.4 could save storage views: ('storage', type, root, loc, n, (view, offset, size))."""
    def view_id(offset, size):
        return RawPersistentId(
            ("storage", GlobalRef("torch", "FloatStorage"), "root", "cpu", 6, ("view", offset, size))
        )

    values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    good = ordered(w=tensor(view_id(2, 3), 1, (2,), (1,)))
    path = write_torch_legacy(tmp_path / "views.pt", dumps(good), [("root", 6, float_bytes(values))])
    assert read_checkpoint(path).tensors["w"].tolist() == [4.0, 5.0]

    past_root = ordered(w=tensor(view_id(4, 3), 0, (3,), (1,)))
    path = write_torch_legacy(tmp_path / "bad.pt", dumps(past_root), [("root", 6, float_bytes(values))])
    with pytest.raises(CheckpointError, match="holds only 24 bytes"):
        read_checkpoint(path)


def test_reading_never_imports_torch(tmp_path):
    """torch is a test dependency only: the readers must work without it."""
    import subprocess
    import sys

    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    script = (
        "import sys\n"
        "sys.modules['torch'] = None  # any 'import torch' now fails\n"
        "from lnfast.formats import read_checkpoint\n"
        f"print(read_checkpoint({str(path)!r}).tensors['w'].tolist())\n"
        f"print(read_checkpoint({str(tmp_path / 'legacy.pt')!r}).tensors['w'].tolist())\n"
    )
    # The lnfast under test, installed or on the caller's PYTHONPATH (a bare
    # source tree has no compiled core).
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[1.0, 1.0]", "[1.0, 1.0]"]


@BOTH_FORMATS
@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_pickle_protocols(tmp_path, save_kwargs, expected_format, protocol):
    state = {"w": torch.randn(3, 2), "nested": {"h": torch.randn(4).half()}}
    checkpoint = save_and_read(tmp_path, state, dict(save_kwargs, pickle_protocol=protocol))
    assert_same(checkpoint.tensors["w"], state["w"])
    assert_same(checkpoint.tensors["nested.h"], state["nested"]["h"])
