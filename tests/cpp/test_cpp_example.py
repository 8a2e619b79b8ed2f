"""The C++ core is usable on its own: the example builds and runs with no
Python headers involved."""
import os
import shutil
import subprocess

import pytest

import paths
from cmake_build import build_target

ROOT = str(paths.ROOT)
needs_cmake = pytest.mark.skipif(
    shutil.which("cmake") is None or shutil.which("c++") is None
    or not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")),
    reason="needs cmake, a C++ compiler and the source tree")


@needs_cmake
def test_cpp_example_builds_and_runs(tmp_path):
    build = tmp_path / "build"
    build_target(build, "LNFAST_BUILD_EXAMPLES", "lnfast_stream_example")
    proc = subprocess.run([str(build / "lnfast_stream_example")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "continues bit-identically" in proc.stdout


@needs_cmake
def test_cpp_example_steps_a_model_file_written_by_python_bit_for_bit(tmp_path):
    import numpy as np

    import lnfast
    from variants import make_cell, make_projected_cell

    build = tmp_path / "build"
    build_target(build, "LNFAST_BUILD_EXAMPLES", "lnfast_stream_example")
    rng = np.random.default_rng(16)
    X = rng.standard_normal((50, 7)).astype(np.float32)
    X.tofile(tmp_path / "x.f32")
    for weights, activations in [("fp32", "fp32"), ("bf16", "fp32"), ("int8", "int8")]:
        model = lnfast.Model([make_projected_cell("lstm_separate_state", 7, 24, 9, rng),
                              make_cell("gru_paper", 9, 11, rng)],
                             weights=weights, activations=activations)
        model.save(tmp_path / "m.lnfast")
        proc = subprocess.run([str(build / "lnfast_stream_example"), str(tmp_path / "m.lnfast"),
                               str(tmp_path / "x.f32"), str(tmp_path / "y.f32")],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"50 steps of {tmp_path / 'm.lnfast'} (7 -> 11, {weights} weights" in proc.stdout
        got = np.fromfile(tmp_path / "y.f32", np.float32).reshape(50, 11)
        assert np.array_equal(got, lnfast.load(tmp_path / "m.lnfast").run(X))
        assert np.array_equal(got, model.run(X))
    (tmp_path / "bad.lnfast").write_bytes(b"\x89LNFAST\n" + b"\0" * 200)
    proc = subprocess.run([str(build / "lnfast_stream_example"), str(tmp_path / "bad.lnfast"),
                           str(tmp_path / "x.f32"), str(tmp_path / "y.f32")],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and proc.stderr.startswith(f"{tmp_path / 'bad.lnfast'}: ")
