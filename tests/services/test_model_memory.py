"""A model holds its weights once: after lnfast.load of the 64 MiB
checkpoint the process grows by at most 1.25x the packed weight bytes, for
fp32, bf16 and int8 alike (measured by bench/load/load_memory.py, in a fresh
interpreter per format), and no Python object keeps the arrays it was
built from."""
import gc
import sys
import weakref

import numpy as np
import pytest

import lnfast
from paths import ROOT

pytest.importorskip("torch")
sys.path.insert(0, str(ROOT))
from bench.load.checkpoint import default_path, write_lstm_checkpoint  # noqa: E402
from bench.load.load_memory import FORMATS, GOAL, growth_in_child  # noqa: E402


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_lstm_checkpoint(default_path(str(tmp_path_factory.mktemp("load"))))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("weights", FORMATS)
def test_loading_grows_the_process_by_the_packed_weights_only(checkpoint, weights):
    r = growth_in_child(checkpoint, weights)
    stored = {"fp32": 4, "bf16": 2, "int8": 1}[weights]
    assert r["packed"] >= 2 * 2 * 4096 * 1024 * stored  # the four matrices are all there
    assert r["ratio"] <= GOAL, f"{weights}: grew {r['grew'] / 2**20:.1f} MiB for " \
                               f"{r['packed'] / 2**20:.1f} MiB of packed weights"


@pytest.mark.parametrize("weights", FORMATS)
def test_a_model_keeps_no_reference_to_the_arrays_it_packed(weights):
    rng = np.random.default_rng(0)
    w_ih = rng.standard_normal((16, 3)).astype(np.float32)
    w_hh = rng.standard_normal((16, 4)).astype(np.float32)
    arrays = [weakref.ref(w_ih), weakref.ref(w_hh)]
    cell = lnfast.LSTM(w_ih, w_hh, norm="separate")
    cells = weakref.ref(cell)
    model = lnfast.Model(cell, weights=weights)
    del w_ih, w_hh, cell
    gc.collect()
    assert cells() is None and all(a() is None for a in arrays)
    assert model.stream().step(np.ones(3, np.float32)).shape == (4,)


def test_weight_bytes_counts_panels_and_int8_scales():
    rng = np.random.default_rng(0)
    cell = lnfast.LSTM(rng.standard_normal((64, 32)), rng.standard_normal((64, 16)))
    assert lnfast.Model(cell).weight_bytes >= 4 * 64 * 48
    assert lnfast.Model(cell, weights="bf16").weight_bytes >= 2 * 64 * 48
    int8 = lnfast.Model(cell, weights="int8").weight_bytes
    assert int8 >= 64 * 48 + 4 * 2 * 64
