"""Saved and loaded, every variant in every storage format steps with the
bits of the model it came from, and the loaded model is a Model in every
other way: its fingerprint, state blobs, pickling and saving again."""
import pickle

import numpy as np
import pytest

import lnfast
from model_file_support import inputs, saved, small_model
from variants import LSTM_VARIANTS, VARIANTS, make_projected_cell, make_stack, stepped_outputs_agreeing

STORAGES = [("fp32", "fp32"), ("bf16", "fp32"), ("int8", "fp32"), ("int8", "int8")]


def round_trip(tmp_path, model):
    path = saved(tmp_path, model)
    loaded = lnfast.load(path)
    assert isinstance(loaded, lnfast.model_file.MappedModel) and loaded.mapped
    assert (loaded.weights, loaded.activations) == (model.weights, model.activations)
    assert loaded.fingerprint == model.fingerprint
    X = inputs(model)
    assert np.array_equal(stepped_outputs_agreeing(loaded, X), stepped_outputs_agreeing(model, X))
    return loaded


@pytest.mark.parametrize("weights,activations", STORAGES)
@pytest.mark.parametrize("kind", VARIANTS)
def test_every_variant_and_storage(tmp_path, kind, weights, activations):
    model = lnfast.Model(make_stack(kind, [7, 9, 5], np.random.default_rng(3)), weights=weights,
                         activations=activations)
    loaded = round_trip(tmp_path, model)
    assert [(layer.family, layer.input_size, layer.output_size) for layer in loaded.layers] == \
        [(type(c).__name__, c.input_size, c.output_size) for c in model.layers]


@pytest.mark.parametrize("weights,activations", STORAGES)
@pytest.mark.parametrize("kind", LSTM_VARIANTS)
def test_projections(tmp_path, kind, weights, activations):
    rng = np.random.default_rng(4)
    cells = [make_projected_cell(kind, 7, 12, 5, rng), make_projected_cell(kind, 5, 9, 3, rng)]
    round_trip(tmp_path, lnfast.Model(cells, weights=weights, activations=activations))


def test_state_blobs_travel_between_the_model_and_its_file(tmp_path):
    model = small_model()
    loaded = lnfast.load(saved(tmp_path, model))
    X = inputs(model)
    a = model.stream()
    a.run(X)
    b = loaded.stream(a.to_bytes())  # same fingerprint: accepted
    assert np.array_equal(b.run(X), a.run(X))
    assert b.state[0]["c"].shape == (8,)  # per-layer state views work on stored layers


def test_pickles_as_its_path_and_refuses_a_file_that_changed_model(tmp_path):
    path = saved(tmp_path)
    loaded = lnfast.load(path)
    blob = pickle.dumps(loaded)
    assert len(blob) < 1000  # the path, not the weights
    again = pickle.loads(blob)
    X = inputs(loaded)
    assert np.array_equal(again.run(X), loaded.run(X))
    small_model(seed=9).save(path)  # another model under the same name
    with pytest.raises(lnfast.CheckpointError, match="holds another model now"):
        pickle.loads(blob)


def test_a_loaded_model_saves_again_to_the_same_bytes(tmp_path):
    first = saved(tmp_path, small_model("int8", "int8"))
    second = tmp_path / "again.lnfast"
    lnfast.load(first).save(second)
    assert first.read_bytes() == second.read_bytes()


def test_saving_over_a_mapped_file_leaves_the_mapping_intact(tmp_path):
    path = saved(tmp_path)
    loaded = lnfast.load(path)
    X = inputs(loaded)
    before = loaded.run(X)
    small_model(seed=5).save(path)  # renamed over: the old inode stays mapped
    assert np.array_equal(loaded.run(X), before)
    loaded.verify()
    assert not list(tmp_path.glob("*.tmp-*"))  # no temporary file left behind


def test_loading_skips_the_checksum_on_request(tmp_path):
    model = small_model()
    loaded = lnfast.load(saved(tmp_path, model), verify_checksum=False)
    assert np.array_equal(loaded.run(inputs(model)), model.run(inputs(model)))


def test_a_file_whose_norms_no_option_names_loads_and_says_custom(tmp_path):
    # The core accepts any segmentation without gaps or overlaps that keeps
    # within gates; a file may hold one no lnfast.LSTM option places (W x
    # normalized per gate, U h not at all).
    from lnfast import _core
    rng = np.random.default_rng(3)
    spec = _core.LayerSpec()
    spec.type = _core.CellType.LSTM
    spec.input_size, spec.hidden_size = 3, 4
    spec.w_ih = rng.standard_normal(16 * 3)
    spec.w_hh = rng.standard_normal(16 * 4)
    spec.x_norms = [_core.Norm(4 * g, 4) for g in range(4)]
    path = str(tmp_path / "custom.lnfast")
    _core.save_model_file(_core.Model([spec]), path)
    mapped = lnfast.load(path)
    (layer,) = mapped.layers
    assert layer.norm == "custom" and layer.state_parts == ("h", "c")
    assert layer.state_part_sizes() == (4, 4)
    assert "norm='custom'" in repr(mapped)
    assert np.isfinite(mapped.run(rng.standard_normal((2, 3)).astype(np.float32))).all()
