"""`lnfast convert` packs a checkpoint into a .lnfast file once; `lnfast
inspect`, `run` and `bench` read .lnfast files too."""
import os
import subprocess
import sys

import numpy as np

import lnfast
from lnfast.charlm import CHECKPOINT_PATH


def lnfast_cli(*args):
    return subprocess.run([sys.executable, "-m", "lnfast", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ))


def test_convert_then_run_gives_the_checkpoints_bits(tmp_path):
    out = tmp_path / "charlm.lnfast"
    proc = lnfast_cli("convert", CHECKPOINT_PATH, out, "--weights", "bf16")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout and "as bf16" in proc.stdout
    direct = lnfast.load(CHECKPOINT_PATH, weights="bf16")
    mapped = lnfast.load(out)
    assert mapped.fingerprint == direct.fingerprint
    X = np.random.default_rng(0).standard_normal((30, direct.input_size)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    proc = lnfast_cli("run", out, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), direct.run(X))


def test_convert_with_int8_activations_and_inspect(tmp_path):
    out = tmp_path / "charlm8.lnfast"
    proc = lnfast_cli("convert", CHECKPOINT_PATH, out, "--weights", "int8", "--activations", "int8",
                      "--layout", "fastrnns")
    assert proc.returncode == 0, proc.stderr
    proc = lnfast_cli("inspect", out)
    assert proc.returncode == 0, proc.stderr
    assert "lnfast model file, format version 1" in proc.stdout
    assert "weights int8, activations int8" in proc.stdout
    assert "layer 0: LSTM 64 -> 192" in proc.stdout and "w_hh: 768 x 192" in proc.stdout
    proc = lnfast_cli("inspect", out, "--prefix", "rnn")
    assert proc.returncode == 1 and proc.stderr.startswith("lnfast: error: ")
    assert "holds one model" in proc.stderr


def test_bench_on_a_model_file(tmp_path):
    out = tmp_path / "charlm.lnfast"
    assert lnfast_cli("convert", CHECKPOINT_PATH, out).returncode == 0
    proc = lnfast_cli("bench", out, "--steps", "200")
    assert proc.returncode == 0, proc.stderr
    assert "model: LSTM(64->192" in proc.stdout and "keeps no float weights" in proc.stdout


def test_convert_errors_are_one_line(tmp_path):
    proc = lnfast_cli("convert", CHECKPOINT_PATH, tmp_path / "missing" / "x.lnfast")
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    out = tmp_path / "charlm.lnfast"
    assert lnfast_cli("convert", CHECKPOINT_PATH, out).returncode == 0
    proc = lnfast_cli("run", out, "--weights", "int8", "--input", "x.npy", "--output", tmp_path / "y.npy")
    assert proc.returncode == 1 and "stores weights 'fp32'" in proc.stderr
