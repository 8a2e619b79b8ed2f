"""Many streams share one model across threads, with the GIL released."""
import threading

import numpy as np

import lnfast
from concurrency import run_on_threads
from variants import make_cell


def test_threads_match_single_thread_exactly():
    rng = np.random.default_rng(0)
    model = lnfast.Model(make_cell("lstm_separate_state", 64, 128, rng))
    inputs = [rng.standard_normal((300, 64)).astype(np.float32) for _ in range(4)]
    expected = []
    for X in inputs:
        stream = model.stream()
        expected.append(np.stack([stream.step(x) for x in X]))

    results = [None] * len(inputs)
    start = threading.Barrier(len(inputs))

    def work(i):
        stream = model.stream()
        start.wait()
        results[i] = np.stack([stream.step(x) for x in inputs[i]])

    run_on_threads(work, len(inputs))
    for got, want in zip(results, expected):
        assert np.array_equal(got, want)


def test_one_stream_used_by_two_threads_is_refused():
    rng = np.random.default_rng(1)
    model = lnfast.Model(make_cell("lstm_plain", 256, 256, rng))
    stream = model.stream()
    X = rng.standard_normal((4000, 256)).astype(np.float32)
    errors = []
    started = threading.Event()

    def long_run():
        started.set()
        stream.run(X)

    for _ in range(5):  # retried only if the run ended before we got in
        worker = threading.Thread(target=long_run)
        worker.start()
        started.wait()
        try:
            while worker.is_alive():
                stream.step(X[0])
        except RuntimeError as e:
            errors.append(str(e))
        worker.join()
        if errors:
            break
    assert errors and "another thread" in errors[0]
