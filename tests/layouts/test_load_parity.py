"""Every layout of docs/checkpoints.md#layouts, saved by torch and loaded by lnfast.load in a
process that never imports torch, against the source's formula in torch.

Each case builds the source's module (tests/torch_cells.py, or torch.nn) with
odd sizes, random weights and random non-unit norm gains and shifts, writes a
checkpoint the way users get them (plain state_dict, wrapped, Lightning,
legacy, safetensors, TorchScript), and steps 500 random inputs through both.
Run with -s to print the measured errors.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

import numpy as np
import pytest

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")
from torch import nn  # noqa: E402

import torch_cells as tc  # noqa: E402
from layout_test_support import (STEPS, TOLERANCE_VS_FLOAT32, TOLERANCE_VS_FLOAT64,  # noqa: E402
                                 CellList, IfogLSTMCell, Wrapped, load_in_fresh_process,
                                 max_abs_error, random_inputs, randomize, run_torch)

# torch 2.13 deprecates torch.jit; TorchScript files still exist in the wild.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


# --------------------------------------------------------------------------
# How checkpoints are written


def save_state_dict(module, path):
    torch.save(module.state_dict(), path)


def save_legacy(module, path):
    torch.save(module.state_dict(), path, _use_new_zipfile_serialization=False)


def save_whole_module(module, path):
    """torch.save of the module object itself: its class is named in the
    pickle, which lnfast keeps inert (never imports)."""
    torch.save(module, path)


def save_float16(module, path):
    torch.save({k: v.half() for k, v in module.state_dict().items()}, path)


def save_safetensors(module, path):
    safetensors_torch.save_file({k: v.contiguous() for k, v in module.state_dict().items()}, path)


def save_wrapped(key: str):
    """{key: state_dict of a model holding the network at encoder.rnn}."""
    def save(module, path):
        hidden = max(p.shape[-1] for p in module.parameters())
        torch.save({key: Wrapped(module, hidden).state_dict(), "epoch": 3}, path)
    return save


def save_lightning(module, path):
    """What a PyTorch Lightning checkpoint holds: the state_dict under a
    LightningModule attribute, optimizer state, and hyper-parameters that are
    arbitrary Python objects."""
    state = {f"model.{k}": v for k, v in module.state_dict().items()}
    torch.save({
        "epoch": 12, "global_step": 3400, "pytorch-lightning_version": "2.4.0",
        "state_dict": state,
        "optimizer_states": [{"state": {i: {"step": torch.tensor(3400.0),
                                            "exp_avg": torch.zeros_like(v)}
                                        for i, v in enumerate(state.values())},
                              "param_groups": [{"lr": 1e-3, "params": list(range(len(state)))}]}],
        "lr_schedulers": [],
        "hyper_parameters": {"args": argparse.Namespace(hidden=13, lr=1e-3), "zoneout": 0.25},
    }, path)


class ScriptableRNN(nn.Module):
    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def save_torchscript(module, path):
    torch.jit.save(torch.jit.script(ScriptableRNN(module)), path)


def save_nemo_prediction_network(module, path):
    """NeMo's rnn(norm=None, proj_size=P) is LSTMDropout, an nn.LSTM at
    ``.lstm``; an RNN-T decoder holds it at prediction.dec_rnn beside the
    label embedding."""
    state = {f"decoder.prediction.dec_rnn.lstm.{k}": v for k, v in module.state_dict().items()}
    state["decoder.prediction.embed.weight"] = torch.zeros(11, module.input_size)
    torch.save({"state_dict": state}, path)


def save_icefall_rnn_encoder_layer(module, path):
    """As lstm_transducer_stateless/lstm.py's RNNEncoderLayer holds a
    ScaledLSTM(d_model, rnn_hidden_size, proj_size=d_model): beside
    ScaledLinear feed-forward weights with their own weight_scale/bias_scale,
    in an icefall {"model": ...} checkpoint."""
    state = {f"encoder.encoder.layers.0.lstm.{k}": v for k, v in module.state_dict().items()}
    width = module.proj_size or module.hidden_size
    for name, shape in (("feed_forward.0.weight", (16, width)), ("feed_forward.0.bias", (16,)),
                        ("feed_forward.0.weight_scale", ()), ("feed_forward.0.bias_scale", ()),
                        ("norm_final.eps", ())):
        state[f"encoder.encoder.layers.0.{name}"] = torch.zeros(shape)
    torch.save({"model": state, "epoch": 30}, path)


def save_sheeprl_world_model(module, path):
    """Where sheeprl's DreamerV3 agent keeps it: world_model.rssm.recurrent_model.rnn,
    after the recurrent model's own MLP and its norm, in a Fabric checkpoint."""
    prefix = "world_model.rssm.recurrent_model."
    state = {f"{prefix}rnn.{k}": v for k, v in module.state_dict().items()}
    state[f"{prefix}mlp._model.0._model.0.weight"] = torch.zeros(module.input_size, 4)
    state[f"{prefix}mlp._model.0._model.1.weight"] = torch.ones(module.input_size)
    state[f"{prefix}mlp._model.0._model.1.bias"] = torch.zeros(module.input_size)
    torch.save({"agent": state, "iter_num": 1000}, path)


def save_dreamerv3_torch_agent(module, path):
    """dreamerv3-torch's agent holds the cell at _wm.dynamics._cell."""
    torch.save({"agent_state_dict": {f"_wm.dynamics._cell.{k}": v
                                     for k, v in module.state_dict().items()}}, path)


class WithCell(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.cell = cell
        self.readout = nn.Linear(cell.hidden_size, 3)


def save_under_cell(module, path):
    torch.save(WithCell(module).state_dict(), path)


# --------------------------------------------------------------------------
# The cases


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], nn.Module]
    hidden_size: int
    input_size: int
    save: Callable = save_state_dict
    suffix: str = ".pt"
    kwargs: Dict[str, object] = field(default_factory=dict)
    mapping: Optional[Dict[str, object]] = None
    layers: int = 1
    float16_weights: bool = False   # the reference uses the float16-rounded weights


IFOG_MAPPING = dict(family="LSTM", w_ih="weight_ih", w_hh="weight_hh", b_ih="bias_ih",
                    b_hh="bias_hh", gate_order="ifog")

CASES = [
    Case("torch_lstm_3layers", lambda: nn.LSTM(7, 13, 3), 13, 7, layers=3),
    Case("torch_gru_nobias_legacy", lambda: nn.GRU(5, 11, 2, bias=False), 11, 5, save=save_legacy, layers=2),
    Case("torch_rnn_relu_safetensors", lambda: nn.RNN(6, 9, 2, nonlinearity="relu"), 9, 6,
         save=save_safetensors, suffix=".safetensors", kwargs={"activation": "relu"}, layers=2),
    Case("torch_rnn_tanh", lambda: nn.RNN(5, 7, 1), 7, 5, save=save_wrapped("model")),
    Case("torch_lstm_torchscript", lambda: nn.LSTM(5, 9, 2), 9, 5, save=save_torchscript, layers=2),
    Case("torch_lstmcell", lambda: nn.LSTMCell(7, 13), 13, 7),
    Case("torch_grucell_stack", lambda: CellList([nn.GRUCell(5, 11), nn.GRUCell(11, 11)]), 11, 5, layers=2),
    Case("fastrnns_3layers", lambda: tc.FastrnnsStackedLSTM(3, 7, 13), 13, 7,
         save=save_wrapped("model"), layers=3),
    Case("haste_lstm_zoneout", lambda: tc.HasteLayerNormLSTM(7, 13, zoneout=0.1), 13, 7,
         kwargs={"zoneout": 0.1}),
    Case("haste_lstm_stack", lambda: CellList([tc.HasteLayerNormLSTM(5, 9),
                                               tc.HasteLayerNormLSTM(9, 9)]), 9, 5,
         save=save_wrapped("state_dict"), layers=2),
    Case("haste_gru_zoneout_lightning", lambda: tc.HasteLayerNormGRU(5, 11, zoneout=0.25), 11, 5,
         save=save_lightning, kwargs={"zoneout": 0.25}),
    Case("icefall_lstm_3layers", lambda: tc.IcefallLayerNormLSTM(3, 7, 13), 13, 7, layers=3),
    Case("icefall_lstm_nobias_eps1e-3", lambda: tc.IcefallLayerNormLSTM(2, 5, 9, bias=False, eps=1e-3),
         9, 5, kwargs={"eps": 1e-3}, layers=2),
    Case("icefall_lstm_proj_2layers", lambda: tc.IcefallLayerNormLSTM(2, 7, 13, proj_size=5),
         13, 7, layers=2),
    Case("icefall_lstm_proj_nobias_safetensors",
         lambda: tc.IcefallLayerNormLSTM(3, 5, 9, bias=False, proj_size=4), 9, 5,
         save=save_safetensors, suffix=".safetensors", layers=3),
    Case("nemo_lstm_proj_prediction_network", lambda: nn.LSTM(7, 13, 2, proj_size=6), 13, 7,
         save=save_nemo_prediction_network, layers=2),
    Case("icefall_scaled_lstm_2layers", lambda: tc.IcefallScaledLSTM(7, 13, 2), 13, 7, layers=2),
    Case("icefall_scaled_lstm_proj_encoder_layer",
         lambda: tc.IcefallScaledLSTM(6, 11, proj_size=6), 11, 6,
         save=save_icefall_rnn_encoder_layer, layers=1),
    Case("sheeprl_dreamerv3_gru", lambda: tc.SheeprlLayerNormGRUCell(7, 13), 13, 7,
         save=save_sheeprl_world_model),
    Case("sheeprl_dreamerv2_gru_bias_eps1e-5",
         lambda: tc.SheeprlLayerNormGRUCell(5, 11, bias=True, eps=1e-5), 11, 5,
         save=save_safetensors, suffix=".safetensors"),
    Case("dreamerv3_torch_gru", lambda: tc.Dreamerv3TorchGRUCell(6, 9), 9, 6,
         save=save_dreamerv3_torch_agent),
    Case("dreamerv3_torch_gru_no_norm", lambda: tc.Dreamerv3TorchGRUCell(5, 7, norm=False), 7, 5),
    Case("icefall_gru_2layers", lambda: tc.IcefallLayerNormGRU(2, 5, 11), 11, 5,
         save=save_safetensors, suffix=".safetensors", layers=2),
    Case("icefall_gru_whole_module_pickle", lambda: tc.IcefallLayerNormGRU(2, 7, 9), 9, 7,
         save=save_whole_module, layers=2),
    Case("torch_gru_float16", lambda: nn.GRU(5, 11, 2), 11, 5, save=save_float16, layers=2,
         float16_weights=True),
    Case("mapping_ifog_cell", lambda: IfogLSTMCell(7, 13), 13, 7, save=save_under_cell,
         kwargs={"prefix": "cell"}, mapping=IFOG_MAPPING),
]
CASE_PARAMS = [pytest.param(case, id=case.name) for case in CASES]


def build(case: Case) -> nn.Module:
    torch.manual_seed(20240611)
    module = randomize(case.build(), case.hidden_size, seed=11)
    return module.half().float() if case.float16_weights else module


# --------------------------------------------------------------------------
# One child process loads every checkpoint


@dataclass
class Result:
    ours: np.ndarray
    torch64: np.ndarray
    torch32: np.ndarray
    report: dict


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Dict[str, Result]:
    workdir = tmp_path_factory.mktemp("parity")
    jobs, references = [], {}
    for case in CASES:
        module = build(case)
        inputs = random_inputs(STEPS, case.input_size)
        checkpoint = workdir / f"{case.name}{case.suffix}"
        case.save(module, str(checkpoint))
        np.save(workdir / f"{case.name}_inputs.npy", inputs)
        jobs.append({"name": case.name, "checkpoint": str(checkpoint), "kwargs": case.kwargs,
                     "mapping": case.mapping, "inputs": str(workdir / f"{case.name}_inputs.npy"),
                     "outputs": str(workdir / f"{case.name}_outputs.npy")})
        references[case.name] = (run_torch(module, inputs, torch.float64),
                                 run_torch(module, inputs, torch.float32))
    report = load_in_fresh_process(jobs, str(workdir))
    assert report["torch_modules"] == []
    return {name: Result(np.load(workdir / f"{name}_outputs.npy"), ref64, ref32,
                         report["jobs"][name])
            for name, (ref64, ref32) in references.items()}


MEASURED: Dict[str, tuple] = {}


@pytest.fixture(scope="module", autouse=True)
def print_measured_errors():
    yield
    if MEASURED:
        print("\n\nlnfast.load (no torch in the process) vs the source in torch, "
              f"{STEPS} steps: max |h error|")
        print(f"{'case':<34} {'vs float64':>11} {'vs float32':>11} {'torch 32-64':>11}")
        for name, errors in MEASURED.items():
            print(f"{name:<34} " + " ".join(f"{e:>11.2e}" for e in errors))


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_loaded_model_matches_torch(case, results):
    result = results[case.name]
    assert not result.report["torch_imported"]
    assert result.ours.shape == result.torch64.shape
    err64 = max_abs_error(result.ours, result.torch64)
    err32 = max_abs_error(result.ours, result.torch32)
    conditioning = max_abs_error(result.torch32, result.torch64)
    MEASURED[case.name] = (err64, err32, conditioning)
    # A case where float32 torch itself strays from float64 tests nothing
    # about lnfast; see randomize() for how the cases are kept well posed.
    assert conditioning <= 2e-6, f"{case.name} is ill conditioned: torch float32 vs float64 {conditioning:.2e}"
    assert err64 <= TOLERANCE_VS_FLOAT64
    assert err32 <= TOLERANCE_VS_FLOAT32


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_every_layer_is_loaded(case, results):
    model_repr = results[case.name].report["model"]
    assert model_repr.count("input_size=") == case.layers, model_repr
