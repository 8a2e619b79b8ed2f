"""The `lnfast` command, through a subprocess as a user runs it."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import lnfast
from lnfast.charlm import CHECKPOINT_PATH


def lnfast_cli(*args, timeout=300):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "lnfast", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env)


def assert_clean_error(proc, *fragments):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("lnfast: error: ")
    for fragment in fragments:
        assert fragment in proc.stderr


def test_demo_without_torch_comparison():
    proc = lnfast_cli("demo", "--chars", "40", "--no-torch")
    assert proc.returncode == 0, proc.stderr
    assert "lnfast   per step: median" in proc.stdout
    assert "steps/s" in proc.stdout
    assert "PyTorch" not in proc.stdout


def test_demo_compares_with_pytorch():
    pytest.importorskip("torch")
    proc = lnfast_cli("demo", "--chars", "60", "--prompt", "ROMEO.\n", "--temperature", "0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("per step: median") == 2
    assert "same characters as PyTorch: yes" in proc.stdout
    assert "x faster per step" in proc.stdout


def test_inspect_lists_tensors_and_layouts():
    proc = lnfast_cli("inspect", CHECKPOINT_PATH)
    assert proc.returncode == 0, proc.stderr
    assert "fastrnns" in proc.stdout and "rnn.layers." in proc.stdout
    assert "rnn.layers.1.cell.layernorm_c.bias" in proc.stdout


def test_run_streams_an_array(tmp_path):
    X = np.random.default_rng(0).standard_normal((25, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--prefix", "rnn", "--input", tmp_path / "x.npy",
                      "--output", tmp_path / "y.npy")
    assert proc.returncode == 0, proc.stderr
    Y = np.load(tmp_path / "y.npy")
    assert Y.shape == (25, 192) and Y.dtype == np.float32
    expected = lnfast.load(CHECKPOINT_PATH, prefix="rnn").stream().run(X)
    assert np.array_equal(Y, expected)


def test_run_with_bf16_weights(tmp_path):
    X = np.random.default_rng(0).standard_normal((10, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--weights", "bf16", "--input", tmp_path / "x.npy",
                      "--output", tmp_path / "y.npy")
    assert proc.returncode == 0, proc.stderr
    assert np.load(tmp_path / "y.npy").shape == (10, 192)


def test_run_with_int8_activations(tmp_path):
    X = np.random.default_rng(0).standard_normal((10, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--weights", "int8", "--activations", "int8",
                      "--input", tmp_path / "x.npy", "--output", tmp_path / "y.npy")
    assert proc.returncode == 0, proc.stderr
    expected = lnfast.load(CHECKPOINT_PATH, weights="int8", activations="int8").stream().run(X)
    assert np.array_equal(np.load(tmp_path / "y.npy"), expected)
    assert_clean_error(lnfast_cli("run", CHECKPOINT_PATH, "--activations", "int8", "--input",
                                  tmp_path / "x.npy", "--output", tmp_path / "z.npy"),
                       "--activations", "needs weights='int8'")


def test_run_errors_are_one_clean_line(tmp_path):
    np.save(tmp_path / "wrong.npy", np.zeros((5, 63), np.float32))
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--input", tmp_path / "wrong.npy", "--output", tmp_path / "y.npy")
    assert_clean_error(proc, "expected an array of shape (T, 64), got (5, 63)")
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--input", tmp_path / "missing.npy", "--output", tmp_path / "y.npy")
    assert_clean_error(proc, "missing.npy")
    np.save(tmp_path / "objects.npy", np.array([object()] * 3), allow_pickle=True)
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--input", tmp_path / "objects.npy", "--output", tmp_path / "y.npy")
    assert_clean_error(proc, "objects.npy")
    assert not (tmp_path / "y.npy").exists()


def test_missing_and_bogus_checkpoints(tmp_path):
    assert_clean_error(lnfast_cli("inspect", tmp_path / "nope.pt"), "nope.pt")
    (tmp_path / "random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    assert_clean_error(lnfast_cli("inspect", tmp_path / "random.pt"), "not a recognised checkpoint")
    (tmp_path / "empty.pt").write_bytes(b"")
    assert_clean_error(lnfast_cli("bench", tmp_path / "empty.pt"), "empty.pt")
    assert_clean_error(lnfast_cli("inspect", tmp_path), str(tmp_path))


def test_ambiguous_checkpoint_lists_the_choices(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "two.pt"
    torch.save({"encoder.rnn." + k: v for k, v in torch.nn.GRU(3, 4).state_dict().items()}
               | {"decoder.rnn." + k: v for k, v in torch.nn.GRU(4, 5).state_dict().items()}, path)
    proc = lnfast_cli("bench", path, "--steps", "10")
    assert_clean_error(proc, "encoder.rnn.", "decoder.rnn.", "prefix")
    proc = lnfast_cli("bench", path, "--steps", "50", "--prefix", "decoder.rnn", "--no-torch")
    assert proc.returncode == 0, proc.stderr


def test_bench_reports_latency_and_ratio():
    pytest.importorskip("torch")
    proc = lnfast_cli("bench", CHECKPOINT_PATH, "--steps", "300")
    assert proc.returncode == 0, proc.stderr
    assert "lnfast   median" in proc.stdout and "PyTorch  median" in proc.stdout
    assert "ratio (PyTorch / lnfast, medians):" in proc.stdout


def test_bad_arguments_exit_nonzero():
    proc = lnfast_cli("bench")
    assert proc.returncode == 2 and "usage" in proc.stderr
    proc = lnfast_cli("demo", "--chars", "-3")
    assert proc.returncode == 2


@pytest.mark.skipif(shutil.which("lnfast") is None, reason="console script not installed")
def test_console_script():
    proc = subprocess.run(["lnfast", "inspect", str(CHECKPOINT_PATH)], capture_output=True, text=True)
    assert proc.returncode == 0 and "fastrnns" in proc.stdout


def test_bench_throughput_modes():
    proc = lnfast_cli("bench", CHECKPOINT_PATH, "--steps", "200", "--weights", "int8", "--threads", "2",
                      "--streams", "4", "--no-torch")
    assert proc.returncode == 0, proc.stderr
    assert "weights: int8; threads per step: 2" in proc.stdout
    assert "step_many x4:" in proc.stdout
    assert_clean_error(lnfast_cli("bench", CHECKPOINT_PATH, "--weights", "int8", "--isa", "avx2", "--zoneout", "2"),
                       "zoneout")
    assert lnfast_cli("bench", CHECKPOINT_PATH, "--threads", "0").returncode == 2


def test_run_writes_exactly_the_output_path(tmp_path):
    X = np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    proc = lnfast_cli("run", CHECKPOINT_PATH, "--input", tmp_path / "x.npy", "--output", tmp_path / "y.out")
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {tmp_path / 'y.out'}:" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy", "y.out"]
    assert np.load(tmp_path / "y.out").shape == (4, 192)


def test_output_into_a_missing_directory_is_refused_before_any_work(tmp_path):
    missing = tmp_path / "no" / "such"
    # The checkpoint does not exist either: the output is checked first.
    proc = lnfast_cli("run", tmp_path / "nope.pt", "--input", tmp_path / "x.npy", "--output", missing / "y.npy")
    assert_clean_error(proc, f"directory {missing} does not exist", "--output")
    assert "nope.pt" not in proc.stderr and proc.returncode == 1


@pytest.mark.parametrize("command, argument", [
    (["demo", "--chars", "-3"], "--chars"),
    (["demo", "--chars", "many"], "--chars"),
    (["demo", "--temperature", "nan"], "--temperature"),
    (["demo", "--temperature", "-1"], "--temperature"),
    (["demo", "--temperature", "inf"], "--temperature"),
    (["demo", "--seed", "-1"], "--seed"),
    (["bench", CHECKPOINT_PATH, "--steps", "0"], "--steps"),
    (["bench", CHECKPOINT_PATH, "--threads", "-2"], "--threads"),
    (["bench", CHECKPOINT_PATH, "--streams", "0"], "--streams"),
    (["bench", CHECKPOINT_PATH, "--zoneout", "2"], "--zoneout"),
    (["bench", CHECKPOINT_PATH, "--eps", "nan"], "--eps"),
    (["run", CHECKPOINT_PATH, "--input", "x.npy", "--output", "y.npy", "--forget-bias", "inf"], "--forget-bias"),
    (["bench", CHECKPOINT_PATH, "--weights", "fp8"], "--weights"),
])
def test_each_bad_argument_gets_one_error_line_naming_it(command, argument):
    proc = lnfast_cli(*command)
    assert proc.returncode == 2  # README.md, "Command line"
    lines = proc.stderr.splitlines()
    assert lines[0].startswith(f"lnfast: error: argument {argument}"), proc.stderr
    assert sum(line.startswith("lnfast: error:") for line in lines) == 1
    assert lines[1].startswith(f"usage: lnfast {command[0]} "), proc.stderr
    assert "Traceback" not in proc.stderr


def two_network_checkpoint(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "two.pt"
    torch.save({"encoder.rnn." + k: v for k, v in torch.nn.GRU(3, 4).state_dict().items()}
               | {"decoder.rnn." + k: v for k, v in torch.nn.GRU(4, 5).state_dict().items()}, path)
    return path


def test_ambiguous_network_suggests_the_command_line_flag(tmp_path):
    path = two_network_checkpoint(tmp_path)
    proc = lnfast_cli("bench", path, "--steps", "10")
    assert_clean_error(proc, "choose one with --prefix", f"for example lnfast bench {path} --prefix ")
    assert "prefix=" not in proc.stderr and "lnfast.load" not in proc.stderr
    proc = lnfast_cli("bench", path, "--prefix", "middle", "--no-torch")
    assert_clean_error(proc, "no recurrent network matches --prefix middle")


def test_inspect_takes_prefix_and_layout(tmp_path):
    path = two_network_checkpoint(tmp_path)
    proc = lnfast_cli("inspect", path, "--prefix", "decoder.rnn")
    assert proc.returncode == 0, proc.stderr
    assert "encoder.rnn." in proc.stdout  # the whole table still
    assert "select one with --prefix when there are several" in proc.stdout
    assert "with --prefix decoder.rnn: loads GRU(4->5, norm=none)" in proc.stdout
    proc = lnfast_cli("inspect", CHECKPOINT_PATH, "--layout", "fastrnns")
    assert proc.returncode == 0, proc.stderr
    assert "with --layout fastrnns: loads LSTM(64->192" in proc.stdout
    assert_clean_error(lnfast_cli("inspect", path, "--prefix", "middle"), "--prefix middle")


def test_every_argument_has_help():
    from lnfast.cli import build_parser

    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert set(commands) == {"demo", "inspect", "run", "bench", "convert"}
    for name, command in commands.items():
        for action in command._actions:
            assert action.help, (name, action.dest)


def test_progress_bar_stays_out_of_redirected_output():
    # Long enough (> 1 s) that a terminal would get the bar.
    proc = lnfast_cli("bench", CHECKPOINT_PATH, "--steps", "40000", "--no-torch")
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr + proc.stdout and "[#" not in proc.stderr
