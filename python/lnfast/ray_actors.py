"""Models on Ray actors: many sessions over several processes or machines.

    pool = SessionPool("decoder.pt", num_actors=4)   # each actor loads the model once
    pool.open("call-17")                             # placed on an actor by its id
    h = pool.step("call-17", x)                      # routed to that actor
    pool.move("call-17", 2)                          # moved by stream.to_bytes()
    pool.drain(0)                                    # every session off actor 0

The pool keeps each session's last saved blob (``stream.to_bytes()``, a few
bytes per state value) and the inputs stepped since. When an actor dies, the
next call that needs it starts a replacement, which loads the model,
resumes each of its sessions from its blob and replays those inputs, then
the call goes on: results equal one process stepping the same inputs.
``save_every`` trades that log against a blob per step.

Needs ``pip install "lnfast[ray]"``; the driver calls ``ray.init()``.
"""
from __future__ import annotations

import zlib
from typing import Dict, Hashable, List, Optional

import numpy as np

from .loading import load

try:
    import ray
except ImportError:  # the module imports; SessionPool says what is missing
    ray = None


class ModelActor:
    """One process's model and the streams of the sessions placed on it."""

    def __init__(self, checkpoint: str, load_options: dict):
        self.model = load(checkpoint, **load_options)
        self.sessions = {}

    def fingerprint(self) -> str:
        return self.model.fingerprint

    def open(self, session_id, blob: Optional[bytes] = None, replay=None) -> None:
        stream = self.model.stream(blob)
        if replay is not None and len(replay):
            stream.run(replay)  # the same bits as stepping them one by one
        self.sessions[session_id] = stream

    def step(self, session_id, x, save: bool):
        stream = self.sessions[session_id]
        h = stream.step(x)
        return h, (stream.to_bytes() if save else None)

    def run(self, session_id, X, save: bool):
        stream = self.sessions[session_id]
        H = stream.run(X)
        return H, (stream.to_bytes() if save else None)

    def blob(self, session_id) -> bytes:
        return self.sessions[session_id].to_bytes()

    def detach(self, session_id) -> bytes:
        return self.sessions.pop(session_id).to_bytes()

    def session_ids(self) -> list:
        return list(self.sessions)


def _cause(error):
    """The exception the actor raised, without Ray's wrapper and traceback text."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


class SessionPool:
    """Sessions of one model spread over ``num_actors`` Ray actors.

    checkpoint: a path every actor can read (lnfast.load(checkpoint,
    **load_options) runs once per actor). save_every: fetch a session's
    blob after this many steps (1: after each); inputs since the last blob
    are kept to replay after an actor failure. actor_options go to Ray
    (e.g. {"num_cpus": 1, "resources": ...}).
    """

    def __init__(self, checkpoint: str, num_actors: int = 2, *, save_every: int = 1,
                 actor_options: Optional[dict] = None, **load_options):
        if ray is None:
            raise ImportError('lnfast.ray_actors needs Ray: pip install "lnfast[ray]"')
        if not ray.is_initialized():
            raise RuntimeError("call ray.init() (or connect to a cluster) before making a SessionPool")
        for name, value, low in (("num_actors", num_actors, 1), ("save_every", save_every, 1)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < low:
                raise ValueError(f"{name} must be at least {low}, got {value}")
        self._make = lambda: ray.remote(ModelActor).options(**(actor_options or {})).remote(
            checkpoint, load_options)
        self.actors = [self._make() for _ in range(num_actors)]
        prints = set(ray.get([a.fingerprint.remote() for a in self.actors]))
        if len(prints) != 1:
            raise RuntimeError(f"the actors loaded different models from {checkpoint!r}: {prints}")
        self.fingerprint = prints.pop()
        self.save_every = save_every
        self._home: Dict[Hashable, int] = {}
        self._saved: Dict[Hashable, Optional[bytes]] = {}
        self._since_save: Dict[Hashable, List[np.ndarray]] = {}

    # ---- sessions ----

    def open(self, session_id, blob: Optional[bytes] = None, actor: Optional[int] = None) -> int:
        """Start a session (at zeros, or from a blob of this model); returns its actor."""
        if not isinstance(session_id, (str, int)) or isinstance(session_id, bool):
            raise TypeError(f"a session id must be a str or int, got {type(session_id).__name__}")
        if session_id in self._home:
            raise ValueError(f"session {session_id!r} is already open on actor "
                             f"{self._home[session_id]}")
        index = self._placement(session_id) if actor is None else self._actor_index(actor)
        self._call(index, lambda a: a.open.remote(session_id, blob))
        self._home[session_id], self._saved[session_id] = index, blob
        self._since_save[session_id] = []
        return index

    def step(self, session_id, x) -> np.ndarray:
        """One step of the session on its actor; the same bits as stream.step."""
        return self._advance(session_id, "step", x, [x])

    def run(self, session_id, X) -> np.ndarray:
        """Steps for the rows of X (T, input_size) on the session's actor."""
        return self._advance(session_id, "run", X, list(np.atleast_2d(X)))

    def save(self, session_id) -> bytes:
        """The session's state now, as stream.to_bytes() (also kept for restores)."""
        blob = self._call(self._home_of(session_id), lambda a: a.blob.remote(session_id))
        self._saved[session_id], self._since_save[session_id] = blob, []
        return blob

    def close(self, session_id) -> bytes:
        """End the session; returns its final blob (to resume it anywhere later)."""
        blob = self._call(self._home_of(session_id), lambda a: a.detach.remote(session_id))
        for table in (self._home, self._saved, self._since_save):
            del table[session_id]
        return blob

    def move(self, session_id, actor: int) -> None:
        """Move a live session to another actor by its blob."""
        index = self._actor_index(actor)
        source = self._home_of(session_id)
        if index == source:
            return
        blob = self._call(source, lambda a: a.detach.remote(session_id))
        self._call(index, lambda a: a.open.remote(session_id, blob))
        self._home[session_id], self._saved[session_id] = index, blob
        self._since_save[session_id] = []

    def drain(self, actor: int) -> None:
        """Move every session off one actor, spread over the others."""
        index = self._actor_index(actor)
        others = [k for k in range(len(self.actors)) if k != index]
        if not others:
            raise ValueError("cannot drain the only actor")
        leaving = [sid for sid, home in self._home.items() if home == index]
        for k, sid in enumerate(leaving):
            self.move(sid, others[k % len(others)])

    def sessions(self, actor: Optional[int] = None) -> list:
        """Open session ids (on one actor when given)."""
        return [sid for sid, home in self._home.items() if actor is None or home == actor]

    def shutdown(self) -> None:
        for a in self.actors:
            ray.kill(a)
        self.actors = []

    # ---- routing and failure ----

    def _placement(self, session_id) -> int:
        # A stable hash (not Python's salted hash()), so every driver agrees.
        return zlib.crc32(repr(session_id).encode()) % len(self.actors)

    def _actor_index(self, actor) -> int:
        if isinstance(actor, bool) or not isinstance(actor, int):
            raise TypeError(f"actor must be an int index, got {type(actor).__name__}")
        if not 0 <= actor < len(self.actors):
            raise ValueError(f"actor {actor} does not exist; the pool has {len(self.actors)}")
        return actor

    def _home_of(self, session_id) -> int:
        try:
            return self._home[session_id]
        except (KeyError, TypeError):
            raise KeyError(f"no open session {session_id!r}; start it with pool.open()") from None

    def _advance(self, session_id, method, inputs, rows):
        index = self._home_of(session_id)
        log = self._since_save[session_id]
        save = len(log) + len(rows) >= self.save_every
        result, blob = self._call(
            index, lambda a: getattr(a, method).remote(session_id, inputs, save))
        if save:
            self._saved[session_id] = blob
            log.clear()
        else:
            log.extend(np.array(r, np.float32) for r in rows)
        return result

    def _call(self, index, submit):
        """ray.get(submit(actor)), replacing a dead actor once and retrying."""
        try:
            return ray.get(submit(self.actors[index]))
        except ray.exceptions.RayActorError:
            self._replace(index)
            try:
                return ray.get(submit(self.actors[index]))
            except ray.exceptions.RayTaskError as error:
                raise _cause(error) from None
        except ray.exceptions.RayTaskError as error:
            raise _cause(error) from None

    def _replace(self, index) -> None:
        """A new actor in a dead one's place, its sessions resumed from their
        last blobs plus the inputs stepped since."""
        try:  # an actor only unreachable for now must not come back beside its replacement
            ray.kill(self.actors[index], no_restart=True)
        except Exception:  # already gone: nothing to stop
            pass
        self.actors[index] = self._make()
        refs = []
        for sid, home in self._home.items():
            if home == index:
                log = self._since_save[sid]
                replay = np.stack(log) if log else None
                refs.append(self.actors[index].open.remote(sid, self._saved[sid], replay))
        ray.get(refs + [self.actors[index].fingerprint.remote()])
