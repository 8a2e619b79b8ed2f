"""lnfast.load packs a checkpoint's float32 storages straight from the
file's guarded mapping (formats.mapped_checkpoint): the same model as from
copied tensors, no mapping left once loaded, public readers still handing
out their own copies, and a file cut short or rewritten during the load
refused cleanly instead of a SIGBUS or a model of torn weights."""
import gc
import os
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import lnfast
from child_process import run_child
from lnfast.formats import mapped_checkpoint, read_checkpoint
from lnfast.loading import load_tensors

needs_proc_maps = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                     reason="reads /proc/self/maps")


def lstm_checkpoint(tmp_path, name="lstm.pt", layers=2, **save):
    torch.manual_seed(0)
    module = torch.nn.LSTM(24, 40, num_layers=layers)
    path = str(tmp_path / name)
    if name.endswith(".safetensors"):
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, path)
    else:
        torch.save(module.state_dict(), path, **save)
    return path


def mapped_here(path: str) -> bool:
    real = os.path.realpath(path)
    with open("/proc/self/maps") as maps:
        return any(line.rstrip().endswith(real) for line in maps)


@pytest.mark.parametrize("name,save", [("lstm.pt", {}),
                                       ("legacy.pt", {"_use_new_zipfile_serialization": False}),
                                       ("lstm.safetensors", {})])
def test_a_mapped_load_is_the_model_copied_tensors_give(tmp_path, name, save):
    path = lstm_checkpoint(tmp_path, name, **save)
    copied = load_tensors(read_checkpoint(path).tensors, path)
    mapped = lnfast.load(path)
    assert mapped.fingerprint == copied.fingerprint
    x = np.random.default_rng(1).standard_normal((5, 24)).astype(np.float32)
    np.testing.assert_array_equal(mapped.run(x), copied.run(x))


@needs_proc_maps
def test_the_storages_are_views_of_the_mapping_only_inside_the_block(tmp_path):
    path = lstm_checkpoint(tmp_path)
    with mapped_checkpoint(path) as checkpoint:
        weight = checkpoint.tensors["weight_ih_l0"]
        assert mapped_here(path)
        assert not weight.flags.writeable  # a view of the read-only mapping
        del weight, checkpoint
    gc.collect()
    assert not mapped_here(path)


@needs_proc_maps
def test_a_loaded_model_keeps_no_mapping_of_the_checkpoint(tmp_path):
    path = lstm_checkpoint(tmp_path)
    model = lnfast.load(path)
    gc.collect()
    assert not mapped_here(path)
    model.stream().step(np.ones(24, np.float32))  # its own panels, not the file


def test_read_tensors_still_hands_out_writable_copies(tmp_path):
    path = lstm_checkpoint(tmp_path)
    arrays = lnfast.read_tensors(path)
    for array in arrays.values():
        assert array.flags.writeable and array.flags.owndata or array.base.flags.owndata
    arrays["weight_ih_l0"][0, 0] = 1.0  # no error: the caller's own memory


TRUNCATE_INSIDE = """
from lnfast.formats import mapped_checkpoint
path = {path!r}
try:
    with mapped_checkpoint(path) as checkpoint:
        os.truncate(path, 0)
        # Every page is past the new end: SIGBUS without the guard.
        total = sum(float(a.sum()) for a in checkpoint.tensors.values())
        print("read after truncation:", total)
except lnfast.CheckpointError as error:
    print("refused:", error)
"""


def test_a_checkpoint_cut_short_while_mapped_reads_zeros_and_is_refused(tmp_path):
    path = lstm_checkpoint(tmp_path)
    out = run_child("import os\n" + TRUNCATE_INSIDE.format(path=path))
    assert "read after truncation: 0.0" in out, out  # zeros, never SIGBUS
    assert "refused:" in out and "changed while it was being read" in out, out
    assert path in out


def test_a_load_of_a_checkpoint_cut_short_during_packing_is_refused(tmp_path, monkeypatch):
    # Cut short after the tensors are found, before the core packs them:
    # the pack reads zeros through the guard and the load is refused.
    path = lstm_checkpoint(tmp_path)
    import lnfast.loading as loading

    real = loading.load_tensors

    def truncating(*args, **kwargs):
        os.truncate(path, 4096)
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "load_tensors", truncating)
    with pytest.raises(lnfast.CheckpointError, match="changed while it was being read"):
        lnfast.load(path)


def test_a_checkpoint_rewritten_in_place_during_the_load_is_refused(tmp_path, monkeypatch):
    path = lstm_checkpoint(tmp_path)
    import lnfast.loading as loading

    real = loading.load_tensors

    def rewriting(*args, **kwargs):
        with open(path, "r+b") as f:  # same size, new bytes, new mtime
            f.seek(-8, os.SEEK_END)
            f.write(b"\0" * 8)
        stat = os.stat(path)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        return real(*args, **kwargs)

    monkeypatch.setattr(loading, "load_tensors", rewriting)
    with pytest.raises(lnfast.CheckpointError, match="changed while it was being read"):
        lnfast.load(path)


def test_a_nan_weight_is_still_named_by_layer_and_key_path(tmp_path):
    # The cells leave the NaN check of their matrices to the core's pack:
    # the message still names the layer and where it came from.
    torch.manual_seed(0)
    module = torch.nn.Sequential()
    module.add_module("rnn", torch.nn.LSTM(6, 8, num_layers=2))
    state = module.state_dict()
    state["rnn.weight_ih_l1"][5, 3] = float("inf")  # row 5 of 8 columns: index 43
    path = str(tmp_path / "nan.pt")
    torch.save(state, path)
    with pytest.raises(lnfast.CheckpointError,
                       match=r"layer 1 at prefix 'rnn\.': LSTM\.w_ih holds a non-finite value "
                             r"at flat index 43"):
        lnfast.load(path)


def test_a_load_falls_back_to_copies_when_no_mapping_can_be_had(tmp_path, monkeypatch):
    from lnfast import _core

    path = lstm_checkpoint(tmp_path)

    def no_mapping(*args, **kwargs):
        raise lnfast.CheckpointError(path, "every guarded range is in use")

    monkeypatch.setattr(_core, "GuardedMapping", no_mapping)
    model = lnfast.load(path)
    assert model.fingerprint == load_tensors(read_checkpoint(path).tensors, path).fingerprint
