"""LSTM projections (torch's proj_size): every norm and cell-norm placement
with h' = w_hr (sigma(o) tanh(.)), against the float64 reference on every
ISA, through step, run, step_many and split steps, in every weight format.

Tolerance as tests/cells/test_cells_reference.py: max abs error of h over
1,000 steps <= 1e-5 against float64, on cases checked not to be chaotic.
"""
import numpy as np
import pytest

import lnfast
from reference import ReferenceModel
from test_cells_reference import assert_not_chaotic
from variants import LSTM_VARIANTS, make_projected_cell

ISAS = lnfast.supported_isas()
STEPS = 1000
TOLERANCE = 1e-5
# (input, hidden, projection) for the two layers: tiny, P < H, P = H - 1. P = 1
# is left out: a norm over U h then sees a multiple of the scalar h and
# returns sign(h) times a constant, magnifying its rounding (as H = 1 does
# in test_cells_reference.py); H = 3 norms magnify it too (tests/cells/
# test_torch_parity.py, SMALL_NORM_HIDDEN).
SIZES = [(5, 8, 4), (13, 37, 17), (80, 100, 99)]


def projected_stack(kind, I, H, P, seed=0):
    rng = np.random.default_rng(seed)
    return [make_projected_cell(kind, I, H, P, rng), make_projected_cell(kind, P, H, P, rng)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: "I%d-H%d-P%d" % s)
@pytest.mark.parametrize("kind", LSTM_VARIANTS)
def test_matches_float64(kind, sizes, isa):
    I, H, P = sizes
    cells = projected_stack(kind, I, H, P)
    X = np.random.default_rng(1).standard_normal((STEPS, I)).astype(np.float32)
    ref = ReferenceModel(cells)
    expected = ref.run(X)
    assert_not_chaotic(cells, X, expected)
    stream = lnfast.Model(cells, isa=isa).stream()
    got = np.stack([stream.step(x) for x in X])
    assert got.shape == (STEPS, P)
    assert np.abs(got - expected).max() <= TOLERANCE
    for ours, theirs in zip(stream.state, ref.state):
        assert ours["h"].shape == (P,) and ours["c"].shape == (H,)
        assert np.abs(ours["c"] - theirs["c"]).max() <= TOLERANCE


@pytest.mark.parametrize("weights", lnfast.WEIGHT_FORMATS if hasattr(lnfast, "WEIGHT_FORMATS")
                         else ["fp32", "bf16", "int8"])
def test_run_step_many_and_threads_equal_steps(weights):
    I, H, P = 80, 300, 64  # 4H x I large enough for split steps
    model = lnfast.Model(projected_stack("lstm_separate_state", I, H, P), weights=weights)
    assert model.hidden_size == P
    X = np.random.default_rng(2).standard_normal((40, I)).astype(np.float32)
    stream = model.stream()
    want = np.stack([stream.step(x) for x in X])
    assert np.array_equal(model.stream().run(X), want)
    streams = [model.stream() for _ in range(3)]
    many = np.stack([model.step_many(streams, np.stack([x] * 3)) for x in X])
    assert many.shape == (40, 3, P) and np.array_equal(many[:, 2], want)
    lnfast.set_num_threads(2)
    try:
        split = model.stream()
        assert np.array_equal(np.stack([split.step(x) for x in X]), want)
    finally:
        lnfast.set_num_threads(1)


@pytest.mark.parametrize("weights, bound", [("bf16", 0.1), ("int8", 0.2)])
def test_stored_weight_formats_stay_close(weights, bound):
    # Bounds as tests/model/test_weight_formats.py: the error of the rounded
    # weights alone.
    cells = projected_stack("lstm_per_gate_state", 13, 37, 17)
    X = np.random.default_rng(3).standard_normal((300, 13)).astype(np.float32)
    exact = lnfast.Model(cells).stream().run(X)
    assert np.abs(lnfast.Model(cells, weights=weights).stream().run(X) - exact).max() <= bound


def test_state_round_trips_with_its_two_sizes():
    model = lnfast.Model(projected_stack("lstm_plain", 5, 7, 3))
    stream = model.stream()
    stream.run(np.ones((4, 5), np.float32))
    state = stream.state
    twin = model.stream()
    twin.state = state
    x = np.ones(5, np.float32)
    assert np.array_equal(twin.step(x), stream.step(x))
    with pytest.raises(ValueError, match=r"\(3,\)"):
        twin.state = [{"h": np.zeros(7), "c": np.zeros(7)}, state[1]]


def test_bad_projection_shapes_are_named():
    rng = np.random.default_rng(0)
    w_ih, w_hh = rng.standard_normal((28, 5)), rng.standard_normal((28, 3))
    with pytest.raises(ValueError, match="w_hr must have shape"):
        lnfast.LSTM(w_ih, w_hh, w_hr=np.zeros((3, 6)))
    with pytest.raises(ValueError, match="w_hh"):
        lnfast.LSTM(w_ih, w_hh, w_hr=np.zeros((4, 7)))
    with pytest.raises(ValueError, match="non-finite"):
        lnfast.LSTM(w_ih, w_hh, w_hr=np.full((3, 7), np.nan))
    good = lnfast.LSTM(w_ih, w_hh, w_hr=np.zeros((3, 7)))
    with pytest.raises(ValueError, match="layer 1 takes inputs of size 7"):
        lnfast.Model([good, lnfast.LSTM(rng.standard_normal((28, 7)), rng.standard_normal((28, 7)))])


def test_the_core_refuses_a_projection_outside_lstm():
    spec = lnfast.GRU(np.zeros((9, 2)), np.zeros((9, 3))).to_core()
    spec.proj_size = 2
    matrices = (np.zeros((9, 2), np.float32), np.zeros((9, 3), np.float32),
                np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="only for LSTM"):
        lnfast._core.validate_layer(spec, matrices, "GRU")


def test_repr_and_pickle_keep_the_projection():
    import pickle
    cell = projected_stack("lstm_per_gate_output_forget", 5, 7, 3)[0]
    assert "proj_size=3" in repr(cell)
    again = pickle.loads(pickle.dumps(cell))
    assert np.array_equal(again.w_hr, cell.w_hr) and again.output_size == 3
