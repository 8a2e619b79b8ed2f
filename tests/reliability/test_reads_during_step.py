"""Reading a stream while another thread steps it gives either the busy
RuntimeError that step gives, or a state the stream really had: never a
mix of two steps."""
import copy
import pickle
import threading

import numpy as np
import pytest

import lnfast
from variants import make_cell

BUSY = "being used by another thread"
READS = {
    "flat_state": lambda s: s.flat_state(),
    "state": lambda s: np.concatenate([np.concatenate([d[n] for n in d]) for d in s.state]),
    "copy": lambda s: s.copy().flat_state(),
    "deepcopy": lambda s: copy.deepcopy(s).flat_state(),
    "pickle": lambda s: pickle.loads(pickle.dumps(s)).flat_state(),
    "to_bytes": lambda s: s.model.stream(s.to_bytes()).flat_state(),
}


@pytest.mark.parametrize("read", READS.values(), ids=READS.keys())
def test_read_while_another_thread_steps(read):
    rng = np.random.default_rng(0)
    # ~100k weights: above the size where a step releases the GIL.
    model = lnfast.Model(make_cell("lstm_separate_state", 64, 128, rng))
    X = rng.standard_normal((3000, 64)).astype(np.float32)
    reference = model.stream()
    had = {reference.flat_state().tobytes()}
    for x in X:
        reference.step(x)
        had.add(reference.flat_state().tobytes())

    stream = model.stream()
    stepping = threading.Event()

    def step_all():
        stepping.set()
        for x in X:
            while True:
                try:
                    stream.step(x)
                    break
                except RuntimeError:  # the reader holds the stream; retry
                    pass

    stepper = threading.Thread(target=step_all)
    stepper.start()
    stepping.wait()
    snapshots, busy = 0, 0
    while stepper.is_alive() or snapshots + busy == 0:
        try:
            got = read(stream)
        except RuntimeError as e:
            assert BUSY in str(e)
            busy += 1
            continue
        snapshots += 1
        assert got.tobytes() in had, "a snapshot matching no state the stream had"
    stepper.join()
    assert np.array_equal(stream.flat_state(), reference.flat_state())
    assert snapshots + busy > 0
