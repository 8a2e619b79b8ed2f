"""lnfast.Batcher: steps from many threads and tasks, batched into step_many,
each caller getting exactly what stream.step gives."""
import asyncio
import gc
import os
import threading
import time

import numpy as np
import pytest

import lnfast
from variants import make_stack

I, H = 19, 96  # above the GIL-release threshold, so batches really overlap callers


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(4)
    return lnfast.Model(make_stack("lstm_separate_state", (I, H), rng)
                        + make_stack("gru_per_gate", (H, H), rng))


def inputs(T, seed):
    return np.random.default_rng(seed).standard_normal((T, I)).astype(np.float32)


def sequential(model, X):
    stream = model.stream()
    return np.stack([stream.step(x) for x in X])


def in_threads(fn, count):
    errors, threads = [], []

    def guarded(k):
        try:
            fn(k)
        except BaseException as e:  # reported below, not lost in a thread
            errors.append(e)
    threads = [threading.Thread(target=guarded, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


@pytest.mark.parametrize("workers", [1, 3])
def test_many_threads_get_the_bits_of_sequential_steps(model, workers):
    T, n_threads = 40, 24
    work = [inputs(T, seed) for seed in range(n_threads)]
    got = [None] * n_threads
    with lnfast.Batcher(model, max_batch=8, workers=workers) as batcher:
        def session(k):
            stream = model.stream()
            got[k] = np.stack([batcher.step(stream, x) for x in work[k]])
        in_threads(session, n_threads)
        stats = batcher.stats
    for k in range(n_threads):
        assert np.array_equal(got[k], sequential(model, work[k])), k
    assert stats["steps"] == T * n_threads
    assert stats["batches"] < stats["steps"], "steps of different threads never ran together"


def test_steps_of_one_stream_keep_their_order(model):
    # All steps of two streams are pending at once: each batch may take only
    # one step per stream, oldest first.
    X, Y = inputs(30, 1), inputs(30, 2)

    async def main(batcher):
        a, b = model.stream(), model.stream()
        calls = [batcher.astep(s, row) for pair in zip(zip([a] * 30, X), zip([b] * 30, Y))
                 for s, row in pair]
        return await asyncio.gather(*calls)

    with lnfast.Batcher(model, workers=2) as batcher:  # a stream in flight on one worker waits
        results = asyncio.run(main(batcher))
    assert np.array_equal(np.stack(results[0::2]), sequential(model, X))
    assert np.array_equal(np.stack(results[1::2]), sequential(model, Y))


def test_asyncio_tasks_of_many_sessions(model):
    work = [inputs(15, seed) for seed in range(10)]

    async def session(batcher, X):
        stream = model.stream()
        return np.stack([await batcher.astep(stream, x) for x in X])

    async def main(batcher):
        return await asyncio.gather(*(session(batcher, X) for X in work))

    with lnfast.Batcher(model) as batcher:
        results = asyncio.run(main(batcher))
    for X, got in zip(work, results):
        assert np.array_equal(got, sequential(model, X))


def step_error(model, x, out=None):
    """What stream.step says about this input (and that it leaves the state)."""
    stream = model.stream()
    with pytest.raises(Exception) as info:
        stream.step(x, out)
    return type(info.value), str(info.value)


BAD_INPUTS = {
    "NaN": lambda: np.where(np.arange(I) == 5, np.nan, 1.0).astype(np.float32),
    "Inf as float64": lambda: np.where(np.arange(I) == 2, np.inf, 1.0),
    "wrong shape": lambda: np.zeros(I + 1, np.float32),
    "two-dimensional": lambda: np.zeros((1, I), np.float32),
    "strings": lambda: np.array(["a"] * I),
    "complex": lambda: np.zeros(I, np.complex64),
    "not an array": lambda: "hello",
}


def test_a_bad_input_fails_only_its_own_caller(model):
    good = [inputs(12, seed) for seed in range(8)]
    expected = [sequential(model, X) for X in good]
    names = list(BAD_INPUTS)
    failures = {}
    got = [None] * len(good)
    with lnfast.Batcher(model) as batcher:
        def worker(k):
            if k < len(good):
                stream = model.stream()
                got[k] = np.stack([batcher.step(stream, x) for x in good[k]])
                return
            name = names[k - len(good)]
            stream = model.stream()
            batcher.step(stream, good[0][0])
            before = stream.flat_state()
            for _ in range(12):
                with pytest.raises(Exception) as info:
                    batcher.step(stream, BAD_INPUTS[name]())
            failures[name] = (type(info.value), str(info.value), stream.flat_state(), before)
        in_threads(worker, len(good) + len(names))
    for k in range(len(good)):
        assert np.array_equal(got[k], expected[k])
    for name in names:
        kind, message, after, before = failures[name]
        assert (kind, message) == step_error(model, BAD_INPUTS[name]()), name
        assert np.array_equal(after, before), f"{name} moved the state"


def test_convertible_inputs_give_what_step_gives(model):
    x = inputs(1, 3)[0]
    for value in (x.astype(np.float64), list(x.astype(float)), x[::-1].copy()[::-1],
                  np.round(x * 4).astype(np.int32)):
        with lnfast.Batcher(model) as batcher:
            assert np.array_equal(batcher.step(model.stream(), value),
                                  model.stream().step(value))


def test_out_argument(model):
    X = inputs(10, 8)
    stream = model.stream()
    out = np.empty(H, np.float32)
    with lnfast.Batcher(model) as batcher:
        for t, x in enumerate(X):
            assert batcher.step(stream, x, out=out) is out
            assert np.array_equal(out, sequential(model, X[:t + 1])[-1])
        bad_outs = [np.empty(H, np.float64), np.empty(H + 1, np.float32),
                    np.empty(2 * H, np.float32)[::2], "out"]
        read_only = np.empty(H, np.float32)
        read_only.flags.writeable = False
        for bad in bad_outs + [read_only]:
            before = stream.flat_state()
            with pytest.raises(Exception) as info:
                batcher.step(stream, X[0], out=bad)
            assert (type(info.value), str(info.value)) == step_error(model, X[0], bad)
            assert np.array_equal(stream.flat_state(), before)


def test_refuses_streams_and_arguments_it_cannot_serve(model):
    other = lnfast.Model(model.layers)  # same weights, but another model object
    with lnfast.Batcher(model) as batcher:
        with pytest.raises(ValueError, match="stream belongs to another model"):
            batcher.step(other.stream(), np.zeros(I, np.float32))
        with pytest.raises(TypeError, match="stream must be an lnfast stream, got list"):
            batcher.step([1, 2], np.zeros(I, np.float32))
    with pytest.raises(TypeError, match="model must be an lnfast.Model, got str"):
        lnfast.Batcher("model.pt")
    with pytest.raises(TypeError, match="max_batch must be an int, got float"):
        lnfast.Batcher(model, max_batch=2.0)
    with pytest.raises(ValueError, match="max_batch must be at least 1, got 0"):
        lnfast.Batcher(model, max_batch=0)
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        lnfast.Batcher(model, workers=0)


def test_close_finishes_pending_steps_then_refuses_new_ones(model):
    X = inputs(20, 5)
    batcher = lnfast.Batcher(model)
    streams = [model.stream() for _ in range(6)]
    results, started = {}, threading.Barrier(len(streams) + 1)

    def session(k):
        started.wait()
        results[k] = batcher.step(streams[k], X[k])
    threads = [threading.Thread(target=session, args=(k,)) for k in range(len(streams))]
    for t in threads:
        t.start()
    started.wait()
    for t in threads:  # every step is submitted or done before close
        t.join()
    batcher.close()
    for k in range(len(streams)):
        assert np.array_equal(results[k], model.stream().step(X[k]))
    assert batcher.closed
    with pytest.raises(RuntimeError, match="this Batcher is closed and accepts no new steps"):
        batcher.step(model.stream(), X[0])
    with pytest.raises(RuntimeError, match="this Batcher is closed"):
        asyncio.run(batcher.astep(model.stream(), X[0]))
    batcher.close()  # idempotent


@pytest.mark.parametrize("workers", [1, 2])
def test_close_while_steps_are_in_flight(model, workers):
    X = inputs(30, 6)
    batcher = lnfast.Batcher(model, workers=workers)
    outcomes = []

    def session(k):
        stream, done = model.stream(), 0
        try:
            for x in X:
                batcher.step(stream, x)
                done += 1
        except RuntimeError as e:
            assert "closed" in str(e)
        # whatever was accepted ran: the state is that of `done` steps
        outcomes.append(np.array_equal(stream.flat_state(), ref_state(done)))

    def ref_state(n):
        s = model.stream()
        for x in X[:n]:
            s.step(x)
        return s.flat_state()

    threads = [threading.Thread(target=session, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    batcher.close()
    for t in threads:
        t.join()
    assert outcomes == [True] * 8


def test_cancelled_astep_before_its_batch_does_not_advance(model):
    X = inputs(40, 7)

    async def main(batcher):
        stream = model.stream()
        tasks = [asyncio.ensure_future(batcher.astep(stream, x)) for x in X]
        await asyncio.sleep(0)  # all submitted
        tasks[-1].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return stream, done

    with lnfast.Batcher(model) as batcher:
        stream, done = asyncio.run(main(batcher))
    assert isinstance(done[-1], asyncio.CancelledError)
    assert np.array_equal(np.stack(done[:-1]), sequential(model, X[:-1]))
    # Withdrawn if still pending (almost surely: 39 steps were ahead of it),
    # otherwise it ran: either way the state is that of whole steps.
    reference = model.stream()
    states = [reference.step(x) is not None and reference.flat_state() for x in X]
    assert any(np.array_equal(stream.flat_state(), states[n]) for n in (-2, -1))


def os_threads():
    return set(int(tid) for tid in os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_no_thread_outlives_its_batcher(model):
    before_python, before = threading.active_count(), os_threads()
    with lnfast.Batcher(model, workers=2) as batcher:
        batcher.step(model.stream(), inputs(1, 0)[0])
        workers = set(batcher.worker_thread_ids)
        assert len(workers) == 2 and workers <= os_threads() and not workers & before
        assert threading.active_count() == before_python  # the workers are the core's
    assert not workers & os_threads()
    dropped = lnfast.Batcher(model, workers=2)
    dropped.step(model.stream(), inputs(1, 0)[0])
    workers = set(dropped.worker_thread_ids)
    del dropped
    gc.collect()
    assert not workers & os_threads(), "a Batcher nobody holds kept its threads"


def thread_cpu_ticks(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_an_idle_batcher_sleeps(model):
    with lnfast.Batcher(model, workers=2) as batcher:
        batcher.step(model.stream(), inputs(1, 0)[0])
        before = [thread_cpu_ticks(tid) for tid in batcher.worker_thread_ids]
        time.sleep(0.5)
        # A spinning thread would use ~50 ticks of 10 ms here; a sleeping one none.
        after = [thread_cpu_ticks(tid) for tid in batcher.worker_thread_ids]
        assert all(a - b <= 1 for a, b in zip(after, before)), (before, after)


def all_at_once(batcher, streams, xs):
    """Every step submitted before any is awaited, so they share batches."""
    async def main():
        return await asyncio.gather(*(batcher.astep(s, x) for s, x in zip(streams, xs)),
                                    return_exceptions=True)
    return asyncio.run(main())


def test_a_nan_in_one_row_fails_only_that_caller_of_the_batch(model):
    xs = [inputs(1, seed)[0] for seed in range(12)]
    xs[5] = xs[5].copy()
    xs[5][7] = np.nan
    xs[8] = xs[8].astype(np.float64)  # converted as step converts it, batched with the rest
    streams = [model.stream() for _ in xs]
    with lnfast.Batcher(model) as batcher:
        got = all_at_once(batcher, streams, xs)
    for k, x in enumerate(xs):
        if k == 5:
            assert (type(got[k]), str(got[k])) == step_error(model, x)
            assert not streams[k].flat_state().any(), "the refused step moved the state"
        else:
            assert np.array_equal(got[k], model.stream().step(x)), k


def test_asteps_of_other_models_and_non_streams_are_refused(model):
    other = lnfast.Model(model.layers)
    x = inputs(1, 0)[0]
    with lnfast.Batcher(model) as batcher:
        got = all_at_once(batcher, [model.stream(), other.stream(), "stream"], [x, x, x])
    assert np.array_equal(got[0], model.stream().step(x))
    assert isinstance(got[1], ValueError) and "stream belongs to another model" in str(got[1])
    assert isinstance(got[2], TypeError) and "got str" in str(got[2])


def test_close_while_asteps_are_pending_finishes_them(model):
    X = inputs(16, 9)

    async def main(batcher):
        streams = [model.stream() for _ in X]
        tasks = [asyncio.ensure_future(batcher.astep(s, x)) for s, x in zip(streams, X)]
        await asyncio.sleep(0)  # all submitted
        batcher.close()  # waits for the workers, which hand results back to this loop
        with pytest.raises(RuntimeError, match="this Batcher is closed"):
            await batcher.astep(streams[0], X[0])
        return await asyncio.gather(*tasks)

    batcher = lnfast.Batcher(model, workers=2)
    got = asyncio.run(main(batcher))
    for x, h in zip(X, got):
        assert np.array_equal(h, model.stream().step(x))


def test_a_stream_stepped_directly_and_through_the_batcher_at_once():
    # The same x every step, so the state tells how many steps ran; each
    # call either ran whole or raised step's RuntimeError about a stream
    # another thread is using. Steps of ~100 us make the two collide.
    big = lnfast.Model(make_stack("lstm_separate_state", (I, 384), np.random.default_rng(5)))
    x = np.random.default_rng(11).standard_normal(I).astype(np.float32)
    stream = big.stream()
    ran, refused = [0, 0], [[], []]
    with lnfast.Batcher(big) as batcher:
        steppers = [lambda: stream.step(x), lambda: batcher.step(stream, x)]

        def hammer(k):
            for _ in range(200):
                try:
                    steppers[k]()
                    ran[k] += 1
                except RuntimeError as e:
                    refused[k].append(str(e))
        # On a loaded machine one thread may finish before the other starts:
        # go again (a few rounds at most) until they have met.
        for _ in range(10):
            in_threads(hammer, 2)
            if refused[0] or refused[1]:
                break
    for message in refused[0] + refused[1]:
        assert message.startswith("this stream is being used by another thread"), message
    assert refused[0] or refused[1], "the two never met: the test shows nothing"
    reference = big.stream()
    for _ in range(sum(ran)):
        reference.step(x)
    assert np.array_equal(stream.flat_state(), reference.flat_state())
