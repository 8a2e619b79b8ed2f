"""A file packed for other kernels (another CPU, or LNFAST_ISA forced) is
relaid once at load into the running kernels' panels: the stored values are
the same, so the bits are those of the model packed there directly."""
import os
import subprocess
import sys

import numpy as np
import pytest

import lnfast
from model_file_support import inputs, saved, small_model

STORAGES = [("fp32", "fp32"), ("bf16", "fp32"), ("int8", "fp32"), ("int8", "int8")]


@pytest.mark.parametrize("weights,activations", STORAGES)
def test_every_pair_of_instruction_sets(tmp_path, weights, activations):
    isas = lnfast.supported_isas()
    for written in isas:
        model = small_model(weights, activations)
        direct = {isa: lnfast.Model(model.layers, isa=isa, weights=weights, activations=activations)
                  for isa in isas}
        path = saved(tmp_path, direct[written], f"{written}.lnfast")
        for isa in isas:
            loaded = lnfast.load(path, isa=isa)
            X = inputs(model)
            assert np.array_equal(loaded.run(X), direct[isa].run(X)), (written, isa)
            if isa == written:  # the file's own layout: stepped from the mapping
                assert loaded.mapped


def test_lnfast_isa_forces_the_relayout(tmp_path):
    if "scalar" not in lnfast.supported_isas() or lnfast.isa() == "scalar":
        pytest.skip("needs a vector instruction set to differ from scalar")
    model = small_model("bf16")
    path = saved(tmp_path, model)
    expected = lnfast.Model(model.layers, isa="scalar", weights="bf16").run(inputs(model))
    np.save(tmp_path / "expected.npy", expected)
    code = (f"import lnfast, numpy as np; m = lnfast.load({str(path)!r}); "
            f"X = np.random.default_rng(1).standard_normal((12, {model.input_size})).astype(np.float32); "
            f"assert m.isa == 'scalar' and not m.mapped; "
            f"assert np.array_equal(m.run(X), np.load({str(tmp_path / 'expected.npy')!r})); print('ok')")
    env = dict(os.environ, LNFAST_ISA="scalar",
               PYTHONPATH=os.path.dirname(os.path.dirname(lnfast.__file__)))
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert child.returncode == 0 and "ok" in child.stdout, child.stderr
