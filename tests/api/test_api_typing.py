"""mypy --strict on a script using the README's API sees real types.

The script is checked as a user's code would be, against lnfast with its
py.typed marker and the compiled module's stub (python/lnfast/_core.pyi).
lnfast's internals (formats/, layouts/, the loader) are followed silently,
as mypy does for any installed package; the modules that make up the
public face (the package root, model.py, torch_state.py) are checked
strictly too. Needs mypy (the test extra).
"""
import os
import re
import subprocess
import sys
import textwrap

import pytest

from paths import ROOT

pytest.importorskip("mypy")

SCRIPT = '''
import asyncio
from typing import List

import numpy as np
import lnfast

model = lnfast.load("checkpoint.pt", weights="bf16")
stream = model.stream()
x = np.zeros(model.input_size, np.float32)
reveal_type(stream.step(x))
out = np.empty(model.hidden_size, np.float32)
stream.step(x, out=out)
reveal_type(stream.run(np.zeros((4, model.input_size), np.float32)))
reveal_type(stream.state)
stream.state = stream.state
blob: bytes = stream.to_bytes()
resumed: lnfast.Stream = model.stream(blob)
twin = lnfast.Stream(model).copy()
reveal_type(twin)
reveal_type(stream.torch_state())
stream.set_torch_state(np.zeros((1, 1, 3)), None)
reveal_type(stream.model)
stream.reset()
size: int = model.hidden_size + model.input_size + model.num_layers
fingerprint: str = model.fingerprint

w = np.zeros((12, 3), np.float32)
norm = lnfast.LayerNorm(np.ones(12), None, eps=1e-5)
cells: List[lnfast.LSTM] = [lnfast.LSTM(w, w, norm="separate", ln_x=norm, ln_h=norm)]
stack = lnfast.Model([lnfast.LSTM(w, w), lnfast.GRU(np.zeros((9, 3)), np.zeros((9, 3))),
                      lnfast.RNN(np.zeros((3, 3)), np.zeros((3, 3)))])
reveal_type(stack.step_many([stack.stream()], np.zeros((1, 3), np.float32)))

with lnfast.Batcher(model, max_batch=8) as batcher:
    reveal_type(batcher.step(stream, x))

async def session() -> None:
    h = await batcher.astep(stream, x)
    reveal_type(h)

lnfast.set_num_threads(1)
threads: int = lnfast.get_num_threads()
isa: str = lnfast.isa()
'''

FACE = ["__init__.py", "model.py", "torch_state.py"]
CONFIG = "[mypy]\n[mypy-lnfast.*]\nfollow_imports = silent\n"


def test_mypy_strict_sees_real_types(tmp_path):
    script = tmp_path / "user_script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    config = tmp_path / "mypy.ini"
    config.write_text(CONFIG)
    package = ROOT / "python" / "lnfast"
    env = dict(os.environ, MYPYPATH=str(ROOT / "python"))
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(config),
         "--cache-dir", str(tmp_path / "cache"), "--no-error-summary",
         str(script), *(str(package / f) for f in FACE)],
        env=env, capture_output=True, text=True, cwd=tmp_path)
    errors = [line for line in proc.stdout.splitlines() if ": error:" in line]
    assert proc.returncode == 0 and not errors, proc.stdout + proc.stderr
    revealed = re.findall(r'user_script\.py:(\d+): note: Revealed type is "(.*)"', proc.stdout)
    lines = textwrap.dedent(SCRIPT).splitlines()
    types = {lines[int(n) - 1].strip(): t for n, t in revealed}
    assert len(types) == 9, proc.stdout
    # numpy spells float32 as floating[<module path>._32Bit]; the path moves
    # between numpy versions.
    float32 = re.compile(r"numpy\.dtype\[numpy\.floating\[[\w.]*_32Bit\]\]")
    for call, revealed_type in types.items():
        assert revealed_type != "Any", call
        if "step" in call or "run(" in call or call == "reveal_type(h)":
            assert revealed_type.startswith("numpy.ndarray["), (call, revealed_type)
            assert float32.search(revealed_type), (call, revealed_type)
    assert types["reveal_type(twin)"] == "lnfast.model.Stream"
    assert types["reveal_type(stream.model)"] == "lnfast.model.Model"
    assert types["reveal_type(stream.state)"].startswith("list[dict[str, numpy.ndarray[")
    assert types["reveal_type(stream.torch_state())"].startswith("tuple[numpy.ndarray[")


def test_the_package_ships_its_types():
    package = ROOT / "python" / "lnfast"
    assert (package / "py.typed").is_file()
    assert (package / "_core.pyi").is_file()
