"""lnfast.set_num_threads: a step split across cores equals one thread."""
import numpy as np
import pytest

import lnfast
from concurrency import run_on_threads
from variants import make_cell


@pytest.fixture
def two_threads():
    lnfast.set_num_threads(2)
    yield
    lnfast.set_num_threads(1)


def reference_outputs(model, X):
    stream = model.stream()
    return np.stack([stream.step(x) for x in X])


@pytest.mark.parametrize("kind", ["lstm_separate_state", "gru_per_gate", "rnn_ln"])
def test_split_steps_are_bit_identical(kind):
    rng = np.random.default_rng(0)
    # 4H x H = 1M weights: well above the size where steps are split.
    model = lnfast.Model(make_cell(kind, 300, 512, rng))
    X = rng.standard_normal((40, 300)).astype(np.float32)
    want = reference_outputs(model, X)
    want_run = model.stream().run(X)
    lnfast.set_num_threads(2)
    try:
        assert lnfast.get_num_threads() == 2
        assert np.array_equal(reference_outputs(model, X), want)
        assert np.array_equal(model.stream().run(X), want_run)
        streams = [model.stream() for _ in range(3)]
        many = np.stack([model.step_many(streams, np.stack([x] * 3)) for x in X])
        assert np.array_equal(many[:, 1], want)
    finally:
        lnfast.set_num_threads(1)


def test_concurrent_streams_share_the_pool(two_threads):
    rng = np.random.default_rng(1)
    model = lnfast.Model(make_cell("lstm_plain", 256, 512, rng))
    inputs = [rng.standard_normal((60, 256)).astype(np.float32) for _ in range(3)]
    lnfast.set_num_threads(1)
    expected = [reference_outputs(model, X) for X in inputs]
    lnfast.set_num_threads(2)
    results = [None] * 3

    def work(i):
        results[i] = reference_outputs(model, inputs[i])

    run_on_threads(work, 3)
    for got, want in zip(results, expected):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("bad,exc", [(0, ValueError), (-2, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_thread_counts(bad, exc):
    with pytest.raises(exc):
        lnfast.set_num_threads(bad)
    assert lnfast.get_num_threads() == 1
