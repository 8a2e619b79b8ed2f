"""Every cell variant against the float64 NumPy reference, on every ISA.

Tolerance: max abs error of h over 1,000 steps <= 1e-5 against float64.
The core computes in float32 (unit roundoff 6e-8); the states are bounded
by the norms and squashing functions, so per-step errors of a few ulps must
not accumulate: a drifting state would exceed the bound long before 1,000
steps, so the bound over all steps is also the no-drift check.
"""
import functools

import numpy as np
import pytest

import lnfast
from reference import ReferenceModel
from variants import VARIANTS, make_stack

ISAS = lnfast.supported_isas()
SIZES = [(1, 1), (5, 3), (13, 17), (80, 37), (5, 100), (80, 256)]
STEPS = 1000
TOLERANCE = 1e-5
TOLERANCE_BY_KIND = {}
# A norm over U h for tiny H sees a vector that is almost a multiple of h
# (exactly so for H = 1): LN then returns about sign(h) times a constant, and
# eps = 0 (or a small eps) gives it no smoothing near h = 0, so the float32
# rounding of h is magnified there. Measured 2.8e-5 (H = 1, eps = 0) and
# 1.7e-5 (H = 3); the same cells at H >= 17 stay under 1e-5.
TOLERANCE_BY_CASE = {("lstm_separate_nocellnorm", (1, 1)): 5e-5, ("rnn_separate", (5, 3)): 3e-5}


def assert_not_chaotic(cells, X, expected):
    """A float32 result can track float64 only if the float64 system itself
    forgets a nudge of float32 size; otherwise the case tests nothing."""
    ref = ReferenceModel(cells)
    ref.step(X[0])
    for layer_state in ref.state:
        layer_state["h"] = layer_state["h"] + 1e-7
    nudged = np.stack([ref.step(x) for x in X[1:]])
    growth = np.abs(nudged - expected[1:]).max()
    assert growth < 1e-6, f"test case is chaotic: a 1e-7 nudge grew to {growth:.3g}"


@functools.lru_cache(maxsize=None)
def case(kind, sizes, seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    cells = make_stack(kind, sizes, rng)
    X = rng.standard_normal((steps, sizes[0])).astype(np.float32)
    expected = ReferenceModel(cells).run(X)
    assert_not_chaotic(cells, X, expected)
    return cells, X, expected


def lnfast_steps(cells, X, isa):
    stream = lnfast.Model(cells, isa=isa).stream()
    return np.stack([stream.step(x) for x in X])


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("sizes", SIZES, ids=lambda s: f"I{s[0]}H{s[1]}")
@pytest.mark.parametrize("kind", VARIANTS)
def test_single_layer_matches_float64(kind, sizes, isa):
    cells, X, expected = case(kind, sizes)
    got = lnfast_steps(cells, X, isa)
    err = np.abs(got - expected).max()
    bound = TOLERANCE_BY_CASE.get((kind, sizes), TOLERANCE_BY_KIND.get(kind, TOLERANCE))
    assert err <= bound, f"{kind} {sizes} on {isa}: max abs error {err:.3g}"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind", ["rnn_ln", "lstm_separate_state", "lstm_per_gate_state",
                                  "lstm_plain", "gru_paper", "gru_per_gate", "gru_plain"])
def test_stack_matches_float64(kind, isa):
    cells, X, expected = case(kind, (13, 37, 17, 64))
    got = lnfast_steps(cells, X, isa)
    err = np.abs(got - expected).max()
    assert err <= TOLERANCE_BY_KIND.get(kind, TOLERANCE), f"3-layer {kind} on {isa}: max abs error {err:.3g}"


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("kind", VARIANTS)
def test_run_equals_steps_bit_for_bit(kind, isa):
    # One GEMM over all steps' inputs must give the very bits of T GEMVs: each
    # output is one FMA chain over k in the same order in both.
    cells, X, _ = case(kind, (13, 37, 17), steps=300)
    model = lnfast.Model(cells, isa=isa)
    stream = model.stream()
    stepped = np.stack([stream.step(x) for x in X])
    ran = model.stream().run(X)
    assert np.array_equal(stepped, ran)


@pytest.mark.parametrize("kind", ["lstm_separate_state", "gru_per_gate", "rnn_ln"])
def test_isas_agree_closely(kind):
    cells, X, _ = case(kind, (80, 256), steps=200)
    results = [lnfast_steps(cells, X, isa) for isa in ISAS]
    for other in results[1:]:
        assert np.abs(other - results[0]).max() <= 2 * TOLERANCE_BY_KIND.get(kind, TOLERANCE)
