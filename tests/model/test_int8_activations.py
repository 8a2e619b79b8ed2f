"""int8 weights by int8 activations (weights="int8", activations="int8").

Each GEMM's input vector is rounded per step to int8 with its own scale
(max|x| / 127), so the products run on integer dot products (AVX512-VNNI
vpdpbusd) where the CPU has them, and through the widening int8 path with
the same rounded inputs elsewhere (LNFAST_I8_DOT=0 forces it). Norms, gates
and state stay fp32. Errors are max abs differences of h against the fp32
model, for every variant as a 2-layer stack (13 -> 37 -> 17):

- one step from the fp32 model's state after 200 steps: measured worst
  2.3e-2 (rnn_ln_relu); bound 0.05;
- over 1,000 steps: measured worst 1.03e-1 (lstm_separate_output_gainonly);
  bound 0.2, int8 weights' own (tests/model/test_weight_formats.py).

Run with -s for the table.
"""
import pickle

import numpy as np
import pytest

import lnfast
from variants import stepped_outputs_agreeing, VARIANTS, make_stack

ISAS = lnfast.supported_isas()
ONE_STEP_BOUND = 0.05
RUN_BOUND = 0.2


def has_int8_dot():
    return "avx512" in ISAS and lnfast._core.testing.int8_activations_dot("avx512")


# "dot": the integer dot products where the CPU has them; "widened": forced off.
PATHS = ["dot", "widened"]


@pytest.fixture
def path(request, monkeypatch):
    if request.param == "widened":
        monkeypatch.setenv("LNFAST_I8_DOT", "0")
    return request.param


@pytest.fixture(scope="module")
def errors_table():
    table = {}
    yield table
    print("\nint8 x int8 activations, max abs error of h vs fp32 (I=13, H=37, 17):")
    for (kind, path, isa, what), err in sorted(table.items()):
        print(f"  {kind:32s} {path:8s} {isa:7s} {what:14s} {err:.2e}")


def int8_model(cells, isa):
    return lnfast.Model(cells, isa=isa, weights="int8", activations="int8")


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("kind", VARIANTS)
def test_error_against_fp32_is_bounded(kind, path, isa, errors_table):
    rng = np.random.default_rng(0)
    cells = make_stack(kind, (13, 37, 17), rng)
    X = rng.standard_normal((1000, 13)).astype(np.float32)
    fp32_model = lnfast.Model(cells)
    model = int8_model(cells, isa)
    assert model.activations == "int8" and model.weights == "int8"
    fp32 = fp32_model.stream().run(X)
    err = np.abs(model.stream().run(X) - fp32).max()
    errors_table[(kind, path, isa, "1000 steps")] = err
    assert 0 < err <= RUN_BOUND

    # One step from the fp32 model's own state: the rounding of one step.
    warm = fp32_model.stream()
    warm.run(X[:200])
    step = model.stream(state=warm.state).step(X[200])
    one = np.abs(step - fp32[200]).max()
    errors_table[(kind, path, isa, "one step")] = one
    assert 0 < one <= ONE_STEP_BOUND


@pytest.mark.parametrize("path", PATHS, indirect=True)
def test_run_step_and_step_many_give_the_same_bits(path):
    rng = np.random.default_rng(1)
    cells = make_stack("lstm_separate_state", (7, 45, 29), rng)
    X = rng.standard_normal((60, 7)).astype(np.float32)
    for isa in ISAS:
        model = int8_model(cells, isa)
        stepped = stepped_outputs_agreeing(model, X)


def test_dot_products_and_widening_agree(monkeypatch):
    # Same rounded weights and inputs; only the summation differs (exact
    # int32 on vpdpbusd, float32 on the widening path): one step from the
    # same state, on every ISA.
    rng = np.random.default_rng(2)
    cells = make_stack("lstm_separate_state", (300, 257), rng)
    x = rng.standard_normal(300).astype(np.float32)
    warm = lnfast.Model(cells).stream()
    warm.run(rng.standard_normal((20, 300)).astype(np.float32))
    state = warm.state
    results = {isa: int8_model(cells, isa).stream(state=state).step(x) for isa in ISAS}
    monkeypatch.setenv("LNFAST_I8_DOT", "0")
    results["avx512 widened"] = int8_model(cells, ISAS[-1]).stream(state=state).step(x)
    first = next(iter(results.values()))
    for name, h in results.items():
        assert np.abs(h - first).max() <= 1e-5, name


@pytest.mark.skipif(not has_int8_dot(), reason="CPU without AVX512_VNNI")
def test_switch_really_switches(monkeypatch):
    rng = np.random.default_rng(3)
    cells = make_stack("lstm_plain", (13, 37), rng)
    X = rng.standard_normal((50, 13)).astype(np.float32)
    dot = int8_model(cells, "avx512").stream().run(X)
    monkeypatch.setenv("LNFAST_I8_DOT", "0")
    assert not lnfast._core.testing.int8_activations_dot("avx512")
    widened = int8_model(cells, "avx512").stream().run(X)
    assert not np.array_equal(dot, widened)
    assert np.abs(dot - widened).max() <= 1e-4


def test_non_finite_input_is_refused_and_state_kept():
    rng = np.random.default_rng(4)
    cells = make_stack("gru_per_gate", (5, 9), rng)
    stream = int8_model(cells, None).stream()
    stream.step(rng.standard_normal(5).astype(np.float32))
    before = stream.to_bytes()
    with pytest.raises(ValueError):
        stream.step(np.array([0, np.nan, 0, 0, 0], np.float32))
    assert stream.to_bytes() == before


def test_zero_input_and_pickle():
    rng = np.random.default_rng(5)
    cells = make_stack("lstm_plain", (5, 9), rng)
    model = int8_model(cells, None)
    X = rng.standard_normal((20, 5)).astype(np.float32)
    X[3] = 0.0  # a zero vector gets scale 0 and contributes 0
    clone = pickle.loads(pickle.dumps(model))
    assert clone.activations == "int8" and "activations='int8'" in repr(clone)
    assert np.array_equal(clone.stream().run(X), model.stream().run(X))
    assert np.isfinite(model.stream().run(X)).all()


@pytest.mark.parametrize("weights", ["fp32", "bf16"])
def test_int8_activations_need_int8_weights(weights):
    cells = make_stack("gru_plain", (3, 4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="int8 activations need int8 weights"):
        lnfast.Model(cells, weights=weights, activations="int8")
    with pytest.raises(ValueError, match="activations='int8' needs weights='int8'"):
        lnfast.layouts.options.LoadOptions(weights=weights, activations="int8")


@pytest.mark.parametrize("bad", ["int4", "bf16", "", None])
def test_unknown_activations(bad):
    cells = make_stack("gru_plain", (3, 4), np.random.default_rng(0))
    with pytest.raises(ValueError, match="activations"):
        lnfast.Model(cells, weights="int8", activations=bad)
    assert lnfast.Model(cells).activations == "fp32"
