"""Many sessions, one weight pass: steps from many threads or tasks batched
into ``model.step_many`` without batching code in the service."""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Dict, List, Optional

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from .model import Model, Stream

if TYPE_CHECKING:
    import asyncio


def _settle(future: "asyncio.Future[NDArray[np.float32]]", result: NDArray[np.float32],
            error: Optional[BaseException]) -> None:
    """Runs on the event loop (a worker hands it over through
    call_soon_threadsafe): the awaiting astep gets its result or error."""
    if future.done():  # cancelled once its batch had started
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Batcher:
    """Steps of many streams of one model, run together as ``step_many``.

    ``batcher.step(stream, x)`` may be called from any number of threads at
    once (``await batcher.astep(stream, x)`` from asyncio tasks): a worker
    thread of the compiled core takes the oldest pending step of each
    stream (up to ``max_batch``), runs them as one pass over the weights
    straight from the callers' arrays, and hands each caller exactly what
    ``stream.step(x)`` would have returned, bit for bit. A caller holds the
    GIL only while its arguments are checked and sleeps without it until
    its step is done. Steps of one stream run in the order they were
    submitted. An input ``stream.step`` would refuse fails only its own
    caller, with step's own message; an input step would convert (float64,
    a list) is converted as step converts it. The workers sleep while
    nothing is pending.

    workers: batching threads (default 2). Each runs its own batch of other
    streams: while one runs its batch, the other gathers the next from the
    callers the first woke, so no worker waits for callers to come back.
    Measured with 32 threads on 2 cores (docs/speed.md), 2 workers gave
    2.0x-2.1x of direct steps at H = 512 on a quiet machine where 1 gave
    1.4x-1.5x; on a busy machine 1 worker was as fast or faster (larger
    batches, no core to gain), and it leaves a core to the rest of the
    service.

    A stream stepped directly while one of its steps is in a batch is not
    raced: whichever comes second raises step's RuntimeError about a stream
    another thread is using.

    ``close()`` (or leaving a ``with`` block) finishes every pending step,
    then refuses new ones with RuntimeError.
    """

    def __init__(self, model: Model, max_batch: int = 64, workers: int = 2) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"model must be an lnfast.Model, got {type(model).__name__}")
        for name, value in (("max_batch", max_batch), ("workers", workers)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {type(value).__name__}")
            if value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        self.model = model
        self.max_batch = max_batch
        self._core = _core.Batcher(model._core, max_batch, workers, _settle)
        # A Batcher nobody holds stops its workers (after its pending steps).
        self._finalizer = weakref.finalize(self, self._core.close)

    def step(self, stream: Stream, x: ArrayLike,
             out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """``stream.step(x, out)``, batched with the steps other threads submit.

        Returns (and raises) exactly what ``stream.step(x, out)`` would; a
        bad input fails only this call. Raises RuntimeError once closed,
        TypeError/ValueError for a stream that is not of this model.
        """
        return self._core.step(stream, x, out)

    async def astep(self, stream: Stream, x: ArrayLike,
                    out: Optional[NDArray[np.float32]] = None) -> NDArray[np.float32]:
        """``await batcher.astep(stream, x)``: step for asyncio tasks.

        The event loop is not blocked: a worker hands the result back
        through ``loop.call_soon_threadsafe``. Cancelling it before its
        batch starts withdraws the step (the stream does not advance); once
        running, the step completes.
        """
        import asyncio  # here: importing lnfast should not cost asyncio's import

        loop = asyncio.get_running_loop()
        future: asyncio.Future[NDArray[np.float32]] = loop.create_future()
        ticket = self._core.submit(stream, x, out, loop, future)
        try:
            return await future
        except asyncio.CancelledError:
            self._core.withdraw(ticket)
            raise

    def close(self) -> None:
        """Finish every pending step, then refuse new ones (idempotent)."""
        self._core.close()

    @property
    def stats(self) -> Dict[str, int]:
        """Steps done and batches they ran in: steps / batches is the mean batch size."""
        return {"steps": self._core.steps, "batches": self._core.batches}

    @property
    def closed(self) -> bool:
        """Whether close() has been called: new steps are then refused."""
        return self._core.closed

    @property
    def worker_thread_ids(self) -> List[int]:
        """The workers' kernel thread ids (Linux; 0 elsewhere): what
        /proc/self/task/<id> and profilers name them by."""
        return list(self._core.worker_thread_ids)

    def __enter__(self) -> "Batcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<lnfast.Batcher max_batch={self.max_batch}, {state}, model {self.model.fingerprint}>"
