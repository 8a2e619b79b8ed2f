"""A freed model's panel memory is kept for the next load
(lnfast.release_freed_memory; docs/speed.md#loading). A model packed into
memory another model left must not see a bit of it: its padding rows and
columns read 0 as in fresh memory, so it steps bit for bit like the same
model packed after every kept region was handed back.

The sizes are chosen so that every matrix of the second model (odd sizes:
padding rows, and padding columns in the bf16 and int8 panels) fits the
regions of the first one (H = I = 1024, matrices of 2 MiB and more, which
take the huge-page path that regions are kept for).
"""
import gc

import numpy as np
import pytest

import lnfast
from variants import make_cell

MODES = [{"weights": "fp32"}, {"weights": "bf16"}, {"weights": "int8"},
         {"weights": "int8", "activations": "int8"}]


def first_model(rng, **mode):
    return lnfast.Model([make_cell("lstm_separate_state", 1024, 1024, rng)], **mode)


def odd_cell(seed):
    return make_cell("lstm_separate_state", 1019, 1021, np.random.default_rng(seed))


def saved(model, tmp_path, name):
    """The model's .lnfast file: its panels byte for byte, padding included."""
    path = tmp_path / name
    model.save(str(path))
    return path.read_bytes()


def release_all():
    """Hands back every kept region, models freed by earlier tests' cycles too."""
    gc.collect()
    lnfast.release_freed_memory()


def stepped(model, X):
    stream = model.stream()
    return np.stack([stream.step(x) for x in X])


@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(m.values()))
def test_a_model_in_reused_memory_steps_as_in_fresh_memory(mode, tmp_path):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((12, 1019)).astype(np.float32)
    release_all()
    fresh = lnfast.Model([odd_cell(9)], **mode)
    expected = stepped(fresh, X)
    fingerprint, panels = fresh.fingerprint, saved(fresh, tmp_path, "fresh.lnfast")
    del fresh
    release_all()

    left = first_model(rng, **mode)
    del left
    gc.collect()
    reused = lnfast.Model([odd_cell(9)], **mode)
    # The first model's regions went to the second: nothing is left to release.
    assert lnfast.release_freed_memory() == 0
    assert reused.fingerprint == fingerprint
    assert saved(reused, tmp_path, "reused.lnfast") == panels
    np.testing.assert_array_equal(stepped(reused, X), expected)


def test_release_hands_back_what_a_freed_model_left():
    release_all()
    model = first_model(np.random.default_rng(1))
    packed = model.weight_bytes
    del model
    gc.collect()
    released = lnfast.release_freed_memory()
    # Each region is its matrix plus a huge page of alignment slack.
    assert packed <= released <= packed + 2 * (2 << 20)
    assert lnfast.release_freed_memory() == 0


def test_a_live_model_keeps_its_memory():
    release_all()
    model = first_model(np.random.default_rng(2))
    assert lnfast.release_freed_memory() == 0
    stream = model.stream()
    assert np.all(np.isfinite(stream.step(np.ones(1024, np.float32))))
