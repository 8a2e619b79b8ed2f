"""A mapped file changed under its model. Truncated: the process never dies
of SIGBUS; the step that meets the missing pages raises CheckpointError and
leaves its stream's state as before it, and every later step, run and
step_many of that model raises too. (Run in child processes: a failure
here is a crash, which must not take the test run with it.) Rewritten in
place: the model computes with whatever bytes are there now, never
crashes, and model.verify() says the weights changed."""
import numpy as np
import pytest

import lnfast
from child_process import run_child
from model_file_support import inputs, saved, small_model

TRUNCATE_WHILE_STEPPING = """
import os, threading, time
rng = np.random.default_rng(0)
# 6 MiB of weights: a step streams them all, so the truncation lands inside steps.
model = lnfast.Model([make_cell("lstm_plain", 256, 512, rng)])
path = {path!r}
model.save(path)
mapped = lnfast.load(path, verify_checksum={verify})
stream = mapped.stream()
x = rng.standard_normal(256).astype(np.float32)
for _ in range(3):
    stream.step(x)
outcome = {{}}
started = threading.Event()

def stepper():
    steps = 0
    while True:
        before = stream.flat_state()
        try:
            stream.step(x)
        except lnfast.CheckpointError as error:
            outcome["error"] = str(error)
            outcome["state kept"] = np.array_equal(before, stream.flat_state())
            outcome["steps"] = steps
            return
        steps += 1
        started.set()

thread = threading.Thread(target=stepper)
thread.start()
started.wait(10)
time.sleep(0.02)
os.truncate(path, {size})
thread.join(30)
assert not thread.is_alive(), "the stepper never saw the truncation"
assert "truncated while mapped" in outcome["error"], outcome
assert outcome["error"].startswith(path + ": "), outcome
assert outcome["state kept"], outcome
kept = stream.flat_state()
for attempt in (lambda: stream.step(x), lambda: mapped.run(x[None]),
                lambda: mapped.step_many([stream, mapped.stream()], np.stack([x, x])),
                mapped.verify):
    try:
        attempt()
        raise AssertionError("a damaged model stepped")
    except lnfast.CheckpointError as error:
        assert "truncated while mapped" in str(error)
assert np.array_equal(kept, stream.flat_state())
print("survived after", outcome["steps"], "steps")
"""


@pytest.mark.parametrize("size", [0, 4096, 3 << 20])
@pytest.mark.parametrize("verify", [True, False])
def test_truncated_while_another_thread_steps(tmp_path, size, verify):
    out = run_child(TRUNCATE_WHILE_STEPPING.format(path=str(tmp_path / "big.lnfast"), size=size,
                                                   verify=verify))
    assert "survived" in out


def test_truncated_before_the_first_step_of_an_unverified_load(tmp_path):
    code = f"""
import os
model = lnfast.Model([make_cell("gru_separate", 64, 128, np.random.default_rng(1))])
model.save({str(tmp_path / 'm.lnfast')!r})
mapped = lnfast.load({str(tmp_path / 'm.lnfast')!r}, verify_checksum=False)
os.truncate({str(tmp_path / 'm.lnfast')!r}, 0)
stream = mapped.stream()
try:
    stream.step(np.ones(64, np.float32))
    raise AssertionError("stepped through a truncated file")
except lnfast.CheckpointError as error:
    assert "truncated while mapped" in str(error)
assert not stream.flat_state().any()
print("refused")
"""
    assert "refused" in run_child(code)


def test_a_foreign_sigbus_still_kills_the_process(tmp_path):
    # The handler takes only faults inside lnfast's own mappings.
    import subprocess
    import sys
    code = (f"import mmap, os, lnfast\n"
            f"lnfast.load({str(saved(tmp_path))!r})\n"
            f"f = open({str(tmp_path / 'other')!r}, 'w+b'); f.write(b'x' * 8192); f.flush()\n"
            f"m = mmap.mmap(f.fileno(), 8192); os.truncate(f.name, 0)\n"
            f"m[5000]\n")
    env = {"PYTHONPATH": str(__import__("paths").ROOT / "python")}
    child = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert child.returncode == -7  # SIGBUS, as without lnfast


def test_rewritten_in_place_while_mapped(tmp_path):
    path = saved(tmp_path)
    mapped = lnfast.load(path)
    X = inputs(mapped)
    before = mapped.run(X)
    mapped.verify()
    offset = lnfast.model_file.describe(path)["layers"][0]["matrices"]["w_ih"]["offset"]
    with open(path, "r+b") as f:  # what lnfast's writer never does
        f.seek(offset)
        f.write(np.full(8, 3.0, np.float32).tobytes())
    after = mapped.run(X)  # the new bytes, no crash
    assert np.isfinite(after).all() and not np.array_equal(after, before)
    with pytest.raises(lnfast.CheckpointError, match="changed since the file was loaded"):
        mapped.verify()
    with pytest.raises(lnfast.CheckpointError, match="weights are corrupted"):
        lnfast.load(path)  # a fresh load checks the payload against the header
