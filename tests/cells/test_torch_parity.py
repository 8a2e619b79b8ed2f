"""lnfast against PyTorch versions of every source's cell (tests/torch_cells.py).

Each variant is a torch module with random weights and random (non-unit)
norm gains and shifts, converted to lnfast cells with tests/torch_cells.py's
to_lnfast_* maps, and stepped through 1,000 random inputs (300 at H = 256)
in both, on every instruction set, with step() and with run(). lnfast
computes in float32; the reference is the same module in float64 (and, as a
second check, in float32).

A free-running float64 comparison means something only if the trajectory
forgets float32-sized differences: the weights are drawn so that it does
(_center_and_spread), and assert_not_chaotic checks it per variant. Where
random weights are chaotic, test_one_step_in_chaotic_regime checks each
step on its own instead.

Run with ``-s`` to print the measured errors of every variant.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import lnfast  # noqa: E402
import torch_cells as tc  # noqa: E402

# lnfast's float32 against the exact (float64) computation, max |h error|
# over all steps. Rounding of float32 weights is shared (the modules hold
# float32-representable values), so what remains is float32 arithmetic:
# a few ulps per step, which a contracting trajectory (assert_not_chaotic)
# forgets instead of accumulating.
TOLERANCE_VS_FLOAT64 = 1e-5
# Against torch's own float32 both sides carry float32 rounding.
TOLERANCE_VS_FLOAT32 = 1e-4
# A norm over only H = 3 units meets, on some steps, three nearly equal
# values: it divides their float32 rounding by a spread of 1e-3..5e-3
# (gain up to 300 with eps = 1e-5). Measured: the worst step of every H = 3
# variant is such a step (icefall LSTM, no bias: spread 4.9e-3, error
# 4.6e-5 on AVX2/AVX-512; icefall GRU 1.3e-5; fastrnns' norm of c 2.1e-5 on
# scalar), torch's own float32 is off by up to 8e-6 there too, and the
# error is gone a few steps later. Larger H averages over more units and
# stays under 1e-5.
SMALL_NORM_HIDDEN = 3
SMALL_NORM_TOLERANCE_VS_FLOAT64 = 1e-4
SMALL_NORM_TOLERANCE_VS_FLOAT32 = 1e-3

WEIGHT_SEED = 20240611
INPUT_SEED = 7
NORM_GAIN_SPREAD = 0.3   # gains drawn from 1 +- 0.3
NORM_SHIFT_SPREAD = 0.3  # shifts drawn from +- 0.3
RECURRENT_GAIN_SCALE = 0.5  # gains of norms over U h: see _center_and_spread

ISAS = lnfast.supported_isas()


# --------------------------------------------------------------------------
# Variants: one source's cell at one size


@dataclass(frozen=True)
class Family:
    build: Callable[..., nn.Module]         # (input_size, hidden_size, layers, **options)
    to_lnfast: Callable[[nn.Module], list]


def _single_layer(build):
    """Sources whose checkpoints hold one layer: refuse a stack request
    rather than silently test one layer."""
    def build_one(input_size, hidden_size, layers, **options):
        assert layers == 1, "this source is a single layer"
        return build(input_size, hidden_size, **options)
    return build_one


FAMILIES: Dict[str, Family] = {
    "fastrnns_lstm": Family(
        lambda i, h, layers: tc.FastrnnsStackedLSTM(layers, i, h), tc.to_lnfast_fastrnns),
    "haste_lstm": Family(_single_layer(tc.HasteLayerNormLSTM), tc.to_lnfast_haste_lstm),
    "haste_gru": Family(_single_layer(tc.HasteLayerNormGRU), tc.to_lnfast_haste_gru),
    "icefall_lstm": Family(
        lambda i, h, layers, **kw: tc.IcefallLayerNormLSTM(layers, i, h, **kw),
        tc.to_lnfast_icefall_lstm),
    "icefall_gru": Family(
        lambda i, h, layers, **kw: tc.IcefallLayerNormGRU(layers, i, h, **kw),
        tc.to_lnfast_icefall_gru),
    "paper_gru": Family(_single_layer(tc.PaperLayerNormGRUCell), tc.to_lnfast_paper_gru),
    "paper_rnn": Family(_single_layer(tc.PaperLayerNormRNNCell), tc.to_lnfast_paper_rnn),
    "tfa_rnn": Family(_single_layer(tc.TfaLayerNormSimpleRNNCell), tc.to_lnfast_tfa_simple_rnn),
    "tf_contrib_lstm": Family(
        _single_layer(functools.partial(
            tc.PerGateLayerNormLSTMCell, cell_norm="state", forget_bias=1.0, bias=False,
            eps=1e-12)),
        tc.to_lnfast_per_gate_lstm),
    "magenta_lstm": Family(
        _single_layer(functools.partial(
            tc.PerGateLayerNormLSTMCell, cell_norm="output", forget_bias=1.0, bias=True,
            eps=1e-3)),
        tc.to_lnfast_per_gate_lstm),
    "torch_lstm": Family(lambda i, h, layers, **kw: nn.LSTM(i, h, layers, **kw),
                         tc.to_lnfast_torch_rnn),
    "torch_lstm_proj": Family(lambda i, h, layers, **kw: nn.LSTM(i, h, layers, **kw),
                              tc.to_lnfast_torch_rnn),
    "torch_gru": Family(lambda i, h, layers, **kw: nn.GRU(i, h, layers, **kw),
                        tc.to_lnfast_torch_rnn),
    "torch_rnn": Family(lambda i, h, layers, **kw: nn.RNN(i, h, layers, **kw),
                        tc.to_lnfast_torch_rnn),
}


@dataclass(frozen=True)
class Variant:
    family: str
    hidden_size: int
    input_size: int
    layers: int = 1
    steps: int = 1000
    options: Tuple[Tuple[str, object], ...] = ()

    @property
    def id(self) -> str:
        extra = "".join(f"-{k}={v}" for k, v in self.options)
        return f"{self.family}-H{self.hidden_size}-I{self.input_size}-L{self.layers}{extra}"

    def build(self) -> nn.Module:
        family = FAMILIES[self.family]
        return family.build(self.input_size, self.hidden_size, self.layers, **dict(self.options))


def _sizes_for(family, per_size_options):
    """Every hidden size (1, 3, 17, 37, 100, 256) once per family, paired
    with input sizes so that 1, 5, 13 and 80 each appear too. H = 256 runs
    300 steps to keep the suite quick; every family has 1,000-step cases."""
    sizes = [(1, 5), (3, 13), (17, 80), (37, 1), (100, 5), (256, 13)]
    variants = []
    for (hidden, inputs), (layers, options) in zip(sizes, per_size_options):
        steps = 300 if hidden == 256 else 1000
        variants.append(Variant(family, hidden, inputs, layers, steps, tuple(options.items())))
    return variants


ONE = (1, {})
VARIANTS = (
    _sizes_for("fastrnns_lstm", [ONE, ONE, (2, {}), ONE, (3, {}), (2, {})])
    + _sizes_for("haste_lstm", [ONE, (1, {"zoneout": 0.1}), ONE, (1, {"zoneout": 0.5}), ONE,
                                (1, {"zoneout": 0.1})])
    + _sizes_for("haste_gru", [ONE, (1, {"zoneout": 0.1}), ONE, (1, {"zoneout": 0.5}), ONE,
                               (1, {"zoneout": 0.1})])
    # Without biases at H = 37, I = 1, stacked icefall LSTMs are chaotic (a
    # 1e-7 nudge grew to 2.6e-6), so the bias-free stack is the H = 17 one.
    + _sizes_for("icefall_lstm", [ONE, (1, {"bias": False}), (2, {"bias": False}), (2, {}),
                                  (3, {}), ONE])
    + _sizes_for("icefall_gru", [ONE, (1, {"bias": False}), (2, {"bias": False}), (2, {}),
                                 (3, {}), ONE])
    + _sizes_for("paper_gru", [ONE] * 6)
    # eps = 0 is the paper's own formula. Its norm is over W x + U h, whose
    # spread is never 0 here; a norm over U h alone has zero spread at h = 0,
    # where torch gives NaN and lnfast (docs/math.md#layer-norm) the shift.
    + _sizes_for("paper_rnn", [ONE, (1, {"activation": "relu"}), ONE, (1, {"eps": 0.0}),
                               (1, {"activation": "relu"}), ONE])
    + _sizes_for("tfa_rnn", [ONE, ONE, (1, {"activation": "relu"}), ONE, ONE, ONE])
    + _sizes_for("tf_contrib_lstm", [ONE] * 6)
    + _sizes_for("magenta_lstm", [ONE] * 6)
    + _sizes_for("torch_lstm", [ONE, (2, {"bias": False}), (3, {}), (1, {"bias": False}),
                                (2, {}), (3, {"bias": False})])
    # proj_size P < H (torch requires it, so no H = 1); h, the output and
    # w_hh's columns have P units.
    + [Variant("torch_lstm_proj", hidden, inputs, layers, steps, tuple(options.items()))
       for hidden, inputs, layers, steps, options in [
           (3, 13, 1, 1000, {"proj_size": 1}), (17, 80, 2, 1000, {"proj_size": 5}),
           (37, 1, 2, 1000, {"proj_size": 36, "bias": False}),
           (100, 5, 3, 1000, {"proj_size": 17}), (256, 13, 2, 300, {"proj_size": 128})]]
    + _sizes_for("torch_gru", [ONE, (2, {"bias": False}), (3, {}), (1, {"bias": False}),
                               (2, {}), (3, {"bias": False})])
    + _sizes_for("torch_rnn", [ONE, (2, {"bias": False}), (3, {"nonlinearity": "relu"}),
                               (1, {"bias": False}), (2, {"nonlinearity": "relu"}),
                               (3, {"bias": False})])
)
VARIANT_PARAMS = [pytest.param(v, id=v.id) for v in VARIANTS]


# --------------------------------------------------------------------------
# Random weights and the torch reference (computed once per variant)


# Parameters by role, from their names in each source's layout.
RECURRENT_NORMS = ("layernorm_h", "layernorm_hh_ru", "layernorm_hh_n")  # LN over U h
INPUT_WEIGHTS = ("weight_ih", "kernel")  # W, stored (G*H, I) or, Keras-style, (I, G*H)


def _norm_roles(module: nn.Module) -> Dict[str, str]:
    """Full names of norm gains and shifts: nn.LayerNorm weights/biases, and
    the bare tensors haste and TF Addons use."""
    roles = {}
    for prefix, sub in module.named_modules():
        if isinstance(sub, nn.LayerNorm):
            leaf = prefix.rsplit(".", 1)[-1]
            roles[f"{prefix}.weight"] = "recurrent_gain" if leaf in RECURRENT_NORMS else "gain"
            roles[f"{prefix}.bias"] = "shift"
    for name, _ in module.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf == "gamma" and isinstance(module, (tc.HasteLayerNormLSTM, tc.HasteLayerNormGRU)):
            roles[name] = "haste_gains"
        elif leaf in ("gamma", "gamma_h"):
            roles[name] = "gain"
        elif leaf == "beta_h":
            roles[name] = "shift"
    return roles


def _center_and_spread(name: str, param, role, input_size: int, hidden_size: int,
                       contracting: bool = True):
    """Each parameter is drawn uniformly from center +- spread.

    The draws keep every trajectory contracting, as trained models are: a
    chaotic random network turns a float32 rounding into an O(1) difference
    within 1,000 steps, in torch's own float32 as much as in lnfast, and
    then a float64 comparison tests nothing (assert_not_chaotic checks).
    Two choices do that:
    - input weights get nn.Linear's fan-in bound 1/sqrt(I), recurrent ones
      torch's 1/sqrt(H), so inputs drive the state;
    - a norm over U h rescales it to unit spread whatever U's scale, so the
      recurrent gain lives in that norm's gain: 0.5 * (1 +- 0.3) there.
    contracting=False draws everything as torch's init and gains 1 +- 0.3,
    which makes the larger LN cells chaotic (test_one_step_in_chaotic_regime).
    """
    recurrent_gain_scale = RECURRENT_GAIN_SCALE if contracting else 1.0
    gain = (torch.tensor(1.0), torch.tensor(NORM_GAIN_SPREAD))
    if role == "gain":
        return gain
    if role == "recurrent_gain":
        return recurrent_gain_scale * gain[0], recurrent_gain_scale * gain[1]
    if role == "haste_gains":  # row 0 gains the x norm, row 1 the h norm
        rows = torch.tensor([[1.0], [recurrent_gain_scale]])
        return rows, rows * NORM_GAIN_SPREAD
    if role == "shift":
        return torch.tensor(0.0), torch.tensor(NORM_SHIFT_SPREAD)
    recurrent_bound = torch.tensor(hidden_size ** -0.5)
    input_bound = torch.tensor(input_size ** -0.5) if contracting else recurrent_bound
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "kernel" and param.shape[0] == input_size + hidden_size:
        # The per-gate cells' one kernel over [x, h]: rows [:I] multiply x.
        rows = torch.full((param.shape[0], 1), float(recurrent_bound))
        rows[:input_size] = input_bound
        return torch.tensor(0.0), rows
    if leaf.startswith(INPUT_WEIGHTS):
        return torch.tensor(0.0), input_bound
    return torch.tensor(0.0), recurrent_bound


@torch.no_grad()
def randomize_(module: nn.Module, input_size: int, hidden_size: int, seed: int,
               contracting: bool = True) -> nn.Module:
    """Random weights, and norm gains and shifts away from 1 and 0, so that a
    gain or shift wired to the wrong place shows. Layer k > 0 of a stack
    takes inputs of size H."""
    generator = torch.Generator().manual_seed(seed)
    roles = _norm_roles(module)
    for name, param in module.named_parameters():
        layer_input = input_size if _layer_index(name) == 0 else hidden_size
        center, spread = _center_and_spread(name, param, roles.get(name), layer_input,
                                            hidden_size, contracting)
        noise = torch.rand(param.shape, generator=generator, dtype=torch.float64) * 2 - 1
        param.copy_(center + spread * noise)
    return module


def _layer_index(name: str) -> int:
    """Layer of a parameter: "layers.{k}.cell..." (stacks) or "..._l{k}"
    (nn.LSTM/GRU/RNN); single cells are layer 0."""
    parts = name.split(".")
    if parts[0] == "layers":
        return int(parts[1])
    suffix = parts[-1].rsplit("_l", 1)
    return int(suffix[1]) if len(suffix) == 2 and suffix[1].isdigit() else 0


@dataclass
class Reference:
    inputs: np.ndarray            # (T, I) float32, fed unchanged to both sides
    outputs64: np.ndarray         # torch float64, (T, H)
    outputs32: np.ndarray         # torch float32, (T, H)
    final_states64: list          # per layer {"h": (H,), "c": (H,)}
    cells: list                   # lnfast cells converted from the module


def _torch_outputs(module: nn.Module, inputs: np.ndarray):
    outputs, states = tc.run_steps(module, torch.from_numpy(inputs))
    as_numpy = [{k: v.double().numpy() for k, v in s.items()} for s in states]
    return outputs.double().numpy(), as_numpy


def _map_state(state, fn):
    """A module's state structure (tensors in tuples/lists), fn applied to
    every tensor."""
    if isinstance(state, torch.Tensor):
        return fn(state)
    return type(state)(_map_state(part, fn) for part in state)


@torch.no_grad()
def assert_not_chaotic(module64: nn.Module, inputs: np.ndarray, expected: np.ndarray):
    """float32 can track float64 only if the float64 system itself forgets a
    nudge of float32 size; otherwise the variant tests nothing."""
    steps = tc.stepper(module64)
    x = torch.from_numpy(inputs).double()
    _, state = steps.step(x[:1], steps.initial_state(torch.float64))
    nudged, _ = tc.run_steps(module64, x[1:], _map_state(state, lambda t: t + 1e-7))
    growth = float(np.abs(nudged.numpy() - expected[1:]).max())
    assert growth < 1e-6, f"test case is chaotic: a 1e-7 nudge grew to {growth:.3g}"


@functools.lru_cache(maxsize=None)
def reference(variant: Variant) -> Reference:
    # Batch-1 steps are tiny ops: torch's intra-op threads only contend (10x
    # slower on two busy cores), so the reference runs on one thread.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _compute_reference(variant)
    finally:
        torch.set_num_threads(threads)


def _compute_reference(variant: Variant) -> Reference:
    # The module is built in float32, so its weights are exactly representable
    # in lnfast's float32 and the float64 copy holds the very same values.
    torch.manual_seed(WEIGHT_SEED)
    module = randomize_(variant.build(), variant.input_size, variant.hidden_size,
                        WEIGHT_SEED).float()
    rng = np.random.default_rng(INPUT_SEED)
    inputs = rng.standard_normal((variant.steps, variant.input_size)).astype(np.float32)
    module64 = copy.deepcopy(module).double()
    outputs64, states64 = _torch_outputs(module64, inputs)
    assert_not_chaotic(module64, inputs, outputs64)
    outputs32, _ = _torch_outputs(module, inputs)
    cells = FAMILIES[variant.family].to_lnfast(module)
    return Reference(inputs, outputs64, outputs32, states64, cells)


# --------------------------------------------------------------------------
# Running lnfast


def run_lnfast_steps(stream, inputs: np.ndarray) -> np.ndarray:
    return np.stack([stream.step(x) for x in inputs])


def run_lnfast(variant: Variant, isa: str, mode: str):
    ref = reference(variant)
    stream = lnfast.Model(ref.cells, isa=isa).stream()
    outputs = run_lnfast_steps(stream, ref.inputs) if mode == "step" else stream.run(ref.inputs)
    return outputs, stream.state


def max_abs_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a.astype(np.float64) - b)))


def final_state_error(lnfast_states: list, torch_states: list) -> float:
    """Worst error over every layer's h and c: the state, not only h, tells
    whether a cell norm sits on the output or on the state."""
    assert len(lnfast_states) == len(torch_states)
    errors = []
    for ours, theirs in zip(lnfast_states, torch_states):
        assert set(ours) == set(theirs), (sorted(ours), sorted(theirs))
        errors += [max_abs_error(ours[k], theirs[k]) for k in theirs]
    return max(errors)


# --------------------------------------------------------------------------
# The measured errors, printed with -s for the project's closing note


@dataclass
class Measurement:
    steps: int
    vs_float64: float                      # max |h error| over all steps
    vs_float32: Optional[float] = None
    final_state_vs_float64: Optional[float] = None
    torch32_vs_float64: Optional[float] = None  # how far torch's own float32 drifts


MEASURED: Dict[Tuple[str, str, str], Measurement] = {}


def _cell(value: Optional[float]) -> str:
    return f"{value:>10.2e}" if value is not None else f"{'-':>10}"


@pytest.fixture(scope="module", autouse=True)
def print_measured_errors():
    yield
    if not MEASURED:
        return
    print("\n\nlnfast vs torch, max abs error over all steps (mode 1step: from float64's"
          " own states, chaotic weights; see test_one_step_in_chaotic_regime)")
    header = (f"{'variant':<42} {'isa':<7} {'mode':<5} {'steps':>5} {'vs f64':>10} "
              f"{'vs f32':>10} {'state f64':>10} {'torch32-64':>10}")
    print(header)
    print("-" * len(header))
    for (vid, isa, mode), m in sorted(MEASURED.items()):
        print(f"{vid:<42} {isa:<7} {mode:<5} {m.steps:>5} {_cell(m.vs_float64)} "
              f"{_cell(m.vs_float32)} {_cell(m.final_state_vs_float64)} "
              f"{_cell(m.torch32_vs_float64)}")
    worst = max(max(m.vs_float64, m.final_state_vs_float64 or 0.0) for m in MEASURED.values())
    print(f"worst error vs float64 over everything above: {worst:.2e}")


# --------------------------------------------------------------------------
# Tests


def tolerances(variant: Variant) -> Tuple[float, float]:
    """(vs float64, vs float32) for this variant; see the constants above."""
    has_norms = not variant.family.startswith("torch_")
    if has_norms and variant.hidden_size == SMALL_NORM_HIDDEN:
        return SMALL_NORM_TOLERANCE_VS_FLOAT64, SMALL_NORM_TOLERANCE_VS_FLOAT32
    return TOLERANCE_VS_FLOAT64, TOLERANCE_VS_FLOAT32


@pytest.mark.parametrize("mode", ["step", "run"])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_matches_torch(variant, isa, mode):
    ref = reference(variant)
    outputs, states = run_lnfast(variant, isa, mode)
    assert outputs.shape == ref.outputs64.shape
    err64 = max_abs_error(outputs, ref.outputs64)
    err32 = max_abs_error(outputs, ref.outputs32)
    state64 = final_state_error(states, ref.final_states64)
    MEASURED[(variant.id, isa, mode)] = Measurement(
        variant.steps, err64, err32, state64, max_abs_error(ref.outputs32, ref.outputs64))
    tolerance64, tolerance32 = tolerances(variant)
    assert err64 <= tolerance64
    assert state64 <= tolerance64
    assert err32 <= tolerance32


@pytest.mark.parametrize("variant", VARIANT_PARAMS)
def test_run_equals_steps_exactly(variant):
    """run(X) is a loop of step(x) in C++: the same operations in the same
    order, so the same bits."""
    ref = reference(variant)
    model = lnfast.Model(ref.cells)
    stepped = run_lnfast_steps(model.stream(), ref.inputs)
    assert np.array_equal(model.stream().run(ref.inputs), stepped)


# --------------------------------------------------------------------------
# One step at a time where the trajectory is chaotic
#
# With every norm gain at 1 +- 0.3 and torch's init for every weight, the
# larger LN cells are chaotic: torch's own float32 ends up 1e-4..1e-2 away
# from float64 over 1,000 steps (measured at H = 100: haste LSTM 1.1e-4,
# TF Addons RNN 9.7e-4; at H = 256 up to 4e-3), so no float32 code can
# match a free-running float64 run there. What lnfast must still get right
# is every single step: started from the float64 trajectory's state (rounded
# to float32, as lnfast stores it), its next state must match float64's.

CHAOTIC_SIZE = (100, 5)  # (hidden, input): chaotic for most LN families
ONE_STEP_TOLERANCE = 1e-5
ONE_STEP_STEPS = 1000


def _layer_states_numpy(steps, state) -> list:
    return [{k: v.reshape(-1).double().numpy() for k, v in layer.items()}
            for layer in steps.layer_states(state)]


@functools.lru_cache(maxsize=None)
def chaotic_one_step_reference(family: str):
    """The float64 trajectory with each state rounded to float32 before the
    next step: per step, the float32 start state and float64's next state."""
    hidden, inputs = CHAOTIC_SIZE
    variant = Variant(family, hidden, inputs, steps=ONE_STEP_STEPS)
    torch.manual_seed(WEIGHT_SEED)
    module = randomize_(variant.build(), inputs, hidden, WEIGHT_SEED, contracting=False).float()
    module64 = copy.deepcopy(module).double()
    steps = tc.stepper(module64)
    X = np.random.default_rng(INPUT_SEED).standard_normal((ONE_STEP_STEPS, inputs)).astype(np.float32)
    state = steps.initial_state(torch.float64)
    starts, results = [], []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            for x in torch.from_numpy(X).double():
                state = _map_state(state, lambda t: t.float().double())
                starts.append([{k: v.astype(np.float32) for k, v in layer.items()}
                               for layer in _layer_states_numpy(steps, state)])
                _, state = steps.step(x.unsqueeze(0), state)
                results.append(_layer_states_numpy(steps, state))
    finally:
        torch.set_num_threads(threads)
    return FAMILIES[family].to_lnfast(module), X, starts, results


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_one_step_in_chaotic_regime(family, isa):
    cells, X, starts, results = chaotic_one_step_reference(family)
    stream = lnfast.Model(cells, isa=isa).stream()
    worst = 0.0
    for x, start, expected in zip(X, starts, results):
        stream.state = start
        stream.step(x)
        worst = max(worst, final_state_error(stream.state, expected))
    MEASURED[(f"{family}-H{CHAOTIC_SIZE[0]}-I{CHAOTIC_SIZE[1]}-chaotic", isa, "1step")] = (
        Measurement(len(X), worst))
    assert worst <= ONE_STEP_TOLERANCE


# --------------------------------------------------------------------------
# The modules' state_dicts have docs/checkpoints.md's layout names and shapes, so a
# checkpoint test can save them and load them with lnfast.

I, H = 5, 3  # small and distinct, so a transposed shape shows


def _layer_norm_keys(prefix: str, names, size: int) -> Dict[str, tuple]:
    return {f"{prefix}{name}.{part}": (size,) for name in names for part in ("weight", "bias")}


def _fastrnns_layout(layers: int) -> Dict[str, tuple]:
    keys = {}
    for k in range(layers):
        prefix = f"layers.{k}.cell."
        keys[prefix + "weight_ih"] = (4 * H, I if k == 0 else H)
        keys[prefix + "weight_hh"] = (4 * H, H)
        keys.update(_layer_norm_keys(prefix, ["layernorm_i", "layernorm_h"], 4 * H))
        keys.update(_layer_norm_keys(prefix, ["layernorm_c"], H))
    return keys


def _icefall_layout(layers: int, gates: int, norm_names) -> Dict[str, tuple]:
    keys = {}
    for k in range(layers):
        prefix = f"layers.{k}.cell."
        keys[prefix + "weight_ih"] = (gates * H, I if k == 0 else H)
        keys[prefix + "weight_hh"] = (gates * H, H)
        keys[prefix + "bias_ih"] = (gates * H,)
        keys[prefix + "bias_hh"] = (gates * H,)
        keys.update(_layer_norm_keys(prefix, norm_names, H))
    return keys


SPEC_LAYOUTS = [
    pytest.param(lambda: tc.FastrnnsStackedLSTM(2, I, H), _fastrnns_layout(2), id="fastrnns"),
    pytest.param(lambda: tc.HasteLayerNormLSTM(I, H), {
        "kernel": (I, 4 * H), "recurrent_kernel": (H, 4 * H), "bias": (4 * H,),
        "gamma": (2, 4 * H), "gamma_h": (H,), "beta_h": (H,)}, id="haste_lstm"),
    pytest.param(lambda: tc.HasteLayerNormGRU(I, H), {
        "kernel": (I, 3 * H), "recurrent_kernel": (H, 3 * H), "bias": (3 * H,),
        "recurrent_bias": (3 * H,), "gamma": (2, 3 * H)}, id="haste_gru"),
    pytest.param(lambda: tc.IcefallLayerNormLSTM(2, I, H), _icefall_layout(
        2, 4, ["layernorm_i", "layernorm_f", "layernorm_cx", "layernorm_o", "layernorm_cy"]),
        id="icefall_lstm"),
    pytest.param(lambda: tc.IcefallLayerNormGRU(2, I, H), _icefall_layout(
        2, 3, ["layernorm_r", "layernorm_i", "layernorm_n"]), id="icefall_gru"),
]


@pytest.mark.parametrize("build, expected", SPEC_LAYOUTS)
def test_state_dict_layout_matches_spec(build, expected):
    shapes = {key: tuple(value.shape) for key, value in build().state_dict().items()}
    assert shapes == expected
