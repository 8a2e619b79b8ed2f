"""lnfast.ray_actors on a local Ray: routing, moving a live session, and an
actor killed and its sessions restored. Results must equal one process."""
import os

import numpy as np
import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install \"lnfast[ray]\")")
torch = pytest.importorskip("torch")

import lnfast  # noqa: E402
from lnfast.ray_actors import SessionPool  # noqa: E402

I, H = 10, 48


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(7)
    path = tmp_path_factory.mktemp("ray") / "lstm.pt"
    torch.save(torch.nn.LSTM(I, H, num_layers=2).state_dict(), path)
    return str(path)


@pytest.fixture(scope="module")
def local_ray():
    # The lnfast under test, wherever it was imported from (installed or in place).
    python_dir = os.path.dirname(os.path.dirname(lnfast.__file__))
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR",
             runtime_env={"env_vars": {"PYTHONPATH": python_dir}})
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pool(local_ray, checkpoint):
    # One pool for the module: each actor start costs seconds. save_every=3
    # makes a restore use both a blob and replayed inputs.
    pool = SessionPool(checkpoint, num_actors=2, save_every=3, actor_options={"num_cpus": 0})
    yield pool
    pool.shutdown()


def inputs(T, seed):
    return np.random.default_rng(seed).standard_normal((T, I)).astype(np.float32)


def one_process(checkpoint, X):
    return lnfast.load(checkpoint).stream().run(X)


def test_sessions_are_routed_by_id_and_equal_one_process(pool, checkpoint):
    ids = [f"session-{k}" for k in range(6)]
    homes = {sid: pool.open(sid) for sid in ids}
    assert set(homes.values()) == {0, 1}, "six ids should land on both actors"
    assert pool.fingerprint == lnfast.load(checkpoint).fingerprint
    work = {sid: inputs(12, k) for k, sid in enumerate(ids)}
    got = {sid: [] for sid in ids}
    for t in range(12):  # interleaved, as a service would see them
        for sid in ids:
            got[sid].append(pool.step(sid, work[sid][t]))
    for sid in ids:
        assert np.array_equal(np.stack(got[sid]), one_process(checkpoint, work[sid]))
        assert sid in pool.sessions(homes[sid])


def test_a_live_session_moves_between_actors(pool, checkpoint):
    X = inputs(30, 1)
    home = pool.open("moving")
    first = pool.run("moving", X[:10])
    pool.move("moving", 1 - home)
    assert "moving" in pool.sessions(1 - home) and "moving" not in pool.sessions(home)
    middle = np.stack([pool.step("moving", x) for x in X[10:20]])
    pool.drain(1 - home)
    assert "moving" in pool.sessions(home) and pool.sessions(1 - home) == []
    last = pool.run("moving", X[20:])
    assert np.array_equal(np.concatenate([first, middle, last]), one_process(checkpoint, X))
    blob = pool.close("moving")
    resumed = lnfast.load(checkpoint).stream(blob)
    reference = lnfast.load(checkpoint).stream()
    reference.run(X)
    assert np.array_equal(resumed.flat_state(), reference.flat_state())


def test_a_killed_actor_is_replaced_and_its_sessions_restored(pool, checkpoint):
    ids = [f"s{k}" for k in range(4)]
    for k, sid in enumerate(ids):
        pool.open(sid, actor=k % 2)
    work = {sid: inputs(15, 10 + k) for k, sid in enumerate(ids)}
    got = {sid: [pool.step(sid, x) for x in work[sid][:7]] for sid in ids}
    victim = pool.actors[0]
    ray.kill(victim, no_restart=True)
    for sid in ids:
        got[sid] += [pool.step(sid, x) for x in work[sid][7:]]
    assert pool.actors[0] is not victim
    for sid in ids:
        assert np.array_equal(np.stack(got[sid]), one_process(checkpoint, work[sid])), sid
    assert {"s0", "s2"} <= set(pool.sessions(0)) and "s1" not in pool.sessions(0)


def test_bad_input_reaches_the_caller_as_step_gives_it(pool, checkpoint):
    pool.open("bad")
    with pytest.raises(ValueError, match=r"^x must have shape \(10,\), got \(3,\)$"):
        pool.step("bad", np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="input holds NaN at index 0"):
        pool.step("bad", np.full(I, np.nan, np.float32))
    with pytest.raises(KeyError, match="no open session 'nobody'"):
        pool.step("nobody", np.zeros(I, np.float32))
    with pytest.raises(ValueError, match="session 'bad' is already open"):
        pool.open("bad")
    with pytest.raises(TypeError, match="a session id must be a str or int, got tuple"):
        pool.open(("a", 1))
    with pytest.raises(ValueError, match="actor 5 does not exist; the pool has 2"):
        pool.move("bad", 5)
    other = lnfast.Model(lnfast.LSTM(np.ones((4 * H, I), np.float32), np.ones((4 * H, H), np.float32)))
    with pytest.raises(ValueError, match="stream blob belongs to another model"):
        pool.open("foreign", blob=other.stream().to_bytes())
    assert "foreign" not in pool.sessions()
    assert pool.save("bad") == lnfast.load(checkpoint).stream().to_bytes()  # untouched by the failures

