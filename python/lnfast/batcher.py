"""Many sessions, one weight pass: steps from many threads or tasks batched
into ``model.step_many`` without batching code in the service."""
from __future__ import annotations

import _thread
import collections
import threading
import weakref
from typing import Dict, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .model import Model, Stream


class _Request:
    """One pending step. ``batchable`` requests go into one step_many with
    the others of their batch; the rest (inputs step would convert or
    refuse) run through ``stream.step`` itself, so their result or error is
    exactly step's."""

    __slots__ = ("stream", "x", "out", "batchable", "row", "error", "_done", "_loop", "_future")

    def __init__(self, stream, x, out, batchable, loop=None):
        self.stream, self.x, self.out, self.batchable = stream, x, out, batchable
        self.row = self.error = None
        self._loop = loop
        if loop is None:
            self._done = _thread.allocate_lock()  # the cheapest one-shot wake-up
            self._done.acquire()
            self._future = None
        else:
            self._future = loop.create_future()

    def deliver(self, row=None, error=None):
        self.row, self.error = row, error
        if self._loop is None:
            self._done.release()
            return
        try:
            self._loop.call_soon_threadsafe(self._settle)
        except RuntimeError:  # the caller's event loop is closed: nobody waits any more
            pass

    def _settle(self):
        if self._future.done():  # cancelled while in a batch
            return
        if self.error is not None:
            self._future.set_exception(self.error)
        else:
            self._future.set_result(self.result())

    def wait(self):
        self._done.acquire()
        if self.error is not None:
            raise self.error
        return self.result()

    def result(self):
        if not self.batchable:  # step's own return value
            return self.row
        if self.out is None:
            return self.row.copy()  # a row of the batch's output, which it must not pin
        np.copyto(self.out, self.row)
        return self.out


class _Queue:
    """The state the batching thread shares with callers. Kept apart from
    Batcher so a Batcher nobody holds can be collected (and its thread
    stopped) while the thread runs."""

    def __init__(self, model: Model, max_batch: int):
        self.model = model
        self.max_batch = max_batch
        self.pending = collections.deque()
        self.closed = False
        self.steps = self.batches = 0  # for stats
        self.in_flight = set()  # ids of the streams some worker is stepping
        self.cond = threading.Condition(threading.Lock())

    def put(self, request: _Request):
        with self.cond:
            if self.closed:
                raise RuntimeError("this Batcher is closed and accepts no new steps; "
                                   "make a new lnfast.Batcher or call stream.step directly")
            self.pending.append(request)
            self.cond.notify()

    def withdraw(self, request: _Request) -> bool:
        with self.cond:
            try:
                self.pending.remove(request)
                return True
            except ValueError:
                return False

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def next_batch(self):
        """The oldest pending request of each stream no other worker is
        stepping, up to max_batch, in arrival order; None once closed and
        drained. A stream's later requests wait for a later batch, so its
        steps keep their order."""
        with self.cond:
            while True:
                batch, seen, rest = [], set(self.in_flight), collections.deque()
                while self.pending:
                    request = self.pending.popleft()
                    if id(request.stream) in seen or len(batch) == self.max_batch:
                        rest.append(request)
                    else:
                        batch.append(request)
                    seen.add(id(request.stream))
                self.pending = rest
                if batch:
                    self.in_flight.update(id(r.stream) for r in batch)
                    self.batches += 1
                    self.steps += len(batch)
                    return batch
                if self.closed and not self.pending:
                    return None
                self.cond.wait()

    def finished(self, batch):
        with self.cond:
            self.in_flight.difference_update(id(r.stream) for r in batch)
            if self.pending or self.closed:  # their next steps, or workers waiting to exit
                self.cond.notify_all() if self.closed else self.cond.notify()

    def run(self):
        while True:
            batch = self.next_batch()
            if batch is None:
                return
            try:
                self.execute(batch)
            except BaseException as error:  # a bug here must not leave callers waiting
                for request in batch:
                    if request.row is None and request.error is None:
                        request.deliver(error=error)
            finally:
                self.finished(batch)

    def execute(self, batch):
        together = [r for r in batch if r.batchable]
        alone = [r for r in batch if not r.batchable]
        if len(together) > 1:
            X = np.empty((len(together), self.model.input_size), np.float32)
            for b, request in enumerate(together):
                X[b] = request.x
            try:
                H = self.model._core.step_many([r.stream for r in together], X, None)
            except Exception:
                # step_many checks every row before touching any state, so
                # nothing has moved: step each alone for its own outcome.
                alone.extend(together)
            else:
                for b, request in enumerate(together):
                    request.deliver(row=H[b])
        else:
            alone.extend(together)
        for request in alone:
            request.batchable = False  # its result is step's own return value
            try:
                row = request.stream.step(request.x, request.out)
            except Exception as error:
                request.deliver(error=error)
            else:
                request.deliver(row=row)


class Batcher:
    """Steps of many streams of one model, run together as ``step_many``.

    ``batcher.step(stream, x)`` may be called from any number of threads at
    once (``await batcher.astep(stream, x)`` from asyncio tasks): one
    batching thread takes every pending step of a different stream (up to
    ``max_batch``), runs them as one pass over the weights, and hands each
    caller exactly what ``stream.step(x)`` would have returned, bit for bit.
    Steps of one stream run in the order they were submitted. An input
    ``stream.step`` would refuse fails only its own caller, with step's own
    message. The thread sleeps while nothing is pending.

    workers: batching threads (default 1). Each runs its own batch of other
    streams, so on a machine with free cores more workers step more
    sessions per second; one worker gives the largest batches.

    ``close()`` (or leaving a ``with`` block) finishes every pending step,
    then refuses new ones with RuntimeError.
    """

    def __init__(self, model: Model, max_batch: int = 64, workers: int = 1) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be an lnfast.Model, got {type(model).__name__}")
        for name, value in (("max_batch", max_batch), ("workers", workers)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.model = model
        self.max_batch = max_batch
        self._queue = _Queue(model, max_batch)
        self._threads = [threading.Thread(target=self._queue.run, daemon=True,
                                          name=f"lnfast-batcher-{k}") for k in range(workers)]
        for thread in self._threads:
            thread.start()
        self._finalizer = weakref.finalize(self, self._queue.close)

    def _request(self, stream, x, out, loop=None) -> _Request:
        if not isinstance(stream, Stream):
            raise TypeError(f"stream must be an lnfast stream, got {type(stream).__name__}")
        if stream.model is not self.model:
            raise ValueError("stream belongs to another model; this Batcher steps streams "
                             "of its own model (made by its model.stream())")
        model = self.model
        batchable = (isinstance(x, np.ndarray) and x.dtype.kind in "fiu"
                     and x.shape == (model.input_size,)
                     and (out is None or (isinstance(out, np.ndarray) and out.dtype == np.float32
                                          and out.shape == (model.hidden_size,)
                                          and out.flags.c_contiguous and out.flags.writeable)))
        # Anything else goes to stream.step as given, which converts or refuses it.
        return _Request(stream, x, out, batchable, loop)

    def step(self, stream: Stream, x: ArrayLike,
             out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """``stream.step(x, out)``, batched with the steps other threads submit.

        Returns (and raises) exactly what ``stream.step(x, out)`` would; a
        bad input fails only this call. Raises RuntimeError once closed,
        TypeError/ValueError for a stream that is not of this model.
        """
        request = self._request(stream, x, out)
        self._queue.put(request)
        return request.wait()

    async def astep(self, stream: Stream, x: ArrayLike,
                    out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """``await batcher.astep(stream, x)``: step for asyncio tasks.

        Cancelling it before its batch starts withdraws the step (the stream
        does not advance); once running, the step completes.
        """
        import asyncio  # here: importing lnfast should not cost asyncio's import

        request = self._request(stream, x, out, asyncio.get_running_loop())
        self._queue.put(request)
        try:
            return await request._future
        except asyncio.CancelledError:
            self._queue.withdraw(request)
            raise

    def close(self) -> None:
        """Finish every pending step, then refuse new ones (idempotent)."""
        self._queue.close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()

    @property
    def stats(self) -> Dict[str, int]:
        """Steps done and batches they ran in: steps / batches is the mean batch size."""
        return {"steps": self._queue.steps, "batches": self._queue.batches}

    @property
    def closed(self) -> bool:
        """Whether close() has been called: new steps are then refused."""
        return self._queue.closed

    def __enter__(self) -> "Batcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<lnfast.Batcher max_batch={self.max_batch}, {state}, model {self.model.fingerprint}>"

