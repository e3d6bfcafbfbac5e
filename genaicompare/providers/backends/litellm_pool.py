"""litellm streams in worker processes, so a batch through litellm uses every core (issue 17).

litellm spends ≈0.5–0.8 ms of CPU on each streamed chunk (the lean clients ≈30 µs): one process
streaming 400 answers of 50 chunks through it is CPU-bound on one core. Inside ``async with
serving(n)``, :func:`genaicompare.providers.backends.backend_for` sends every request that would
go to litellm (not ``local/…``: its server leases live in this process) to one of ``n`` worker
processes (:mod:`.litellm_worker`), the one with the fewest streams open. The events are the
same as in-process (``Started``, ``TextDelta``…, ``Usage``, one ``Finished``); their times are
the worker's ``time.perf_counter()``, the same monotonic clock as here. Closing the stream (a
cancellation) cancels it in the worker. A worker that dies ends each of its streams in
``error`` (``WorkerExited``) and takes no new ones. Keys never cross the pipe: a request names
its key variable, which the worker reads from the environment it inherited.

The headless run serves its litellm requests this way when more than one core is there
(:func:`workers_for`); ``GENAICOMPARE_LITELLM_WORKERS=N`` sets the number (0: in-process).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import sys
from collections.abc import AsyncGenerator, AsyncIterator
from contextvars import ContextVar
from pathlib import Path
from typing import IO, Any

from genaicompare.providers.backends.litellm_worker import decode, request_to_json
from genaicompare.providers.events import (
    Event,
    Finished,
    FinishState,
    ModelRequest,
    Timeouts,
)

ENV = "GENAICOMPARE_LITELLM_WORKERS"
MAX_WORKERS = 8
_END = object()
_active: ContextVar[LitellmPool | None] = ContextVar("genaicompare_litellm_pool", default=None)


def active() -> LitellmPool | None:
    """The pool serving this task's litellm requests, if any."""
    pool = _active.get()
    return pool if pool is not None and pool.alive else None


def workers_for(concurrency: int) -> int:
    """How many worker processes a run that streams through litellm gets: one per core (at
    most :data:`MAX_WORKERS` and ``concurrency``), none with one core; ``GENAICOMPARE_LITELLM_
    WORKERS`` sets the number (0: in-process)."""
    given = os.environ.get(ENV, "").strip()
    if given:
        try:
            wanted = int(given)
        except ValueError:
            wanted = 0
    else:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        wanted = cores or 1
        if wanted < 2:
            return 0
    return max(0, min(wanted, MAX_WORKERS, concurrency))


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.streams: dict[int, asyncio.Queue[Any]] = {}
        self.alive = True
        self.exit_code: int | None = None
        self.reader: asyncio.Task[None] | None = None

    def write(self, message: dict[str, Any]) -> None:
        stdin = self.proc.stdin
        if not self.alive or stdin is None or stdin.is_closing():
            return
        stdin.write(
            json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass") + b"\n"
        )

    async def read(self) -> None:
        assert self.proc.stdout is not None
        try:
            async for line in self.proc.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue  # not ours (a library printing): the worker points stdout away
                if not isinstance(message, dict):
                    continue
                queue = self.streams.get(message.get("id", -1))
                if queue is None:
                    continue  # a stream the parent stopped listening to
                queue.put_nowait(_END if message.get("end") else decode(message["e"]))
        except OSError:
            pass
        finally:
            self.alive = False
            with contextlib.suppress(Exception):
                self.exit_code = await asyncio.wait_for(self.proc.wait(), 5)
            for queue in self.streams.values():
                queue.put_nowait(_END)


class LitellmPool:
    """``size`` worker processes streaming litellm; :meth:`stream` is a stream source."""

    command: tuple[str, ...] = ("-m", "genaicompare.providers.backends.litellm_worker")
    """The worker's interpreter arguments (tests start one that misbehaves first)."""

    def __init__(self, size: int, log_path: Path | None = None) -> None:
        self.size = size
        self.log_path = log_path
        self.workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._log: IO[bytes] | None = None

    @property
    def alive(self) -> bool:
        return any(w.alive for w in self.workers)

    async def start(self) -> None:
        stderr: Any = asyncio.subprocess.DEVNULL
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                self._log = self.log_path.open("ab")
                stderr = self._log
        for _ in range(self.size):
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=stderr,
                limit=64 * 1024 * 1024,
            )
            worker = _Worker(proc)
            worker.reader = asyncio.ensure_future(worker.read())
            self.workers.append(worker)

    async def stream(
        self, request: ModelRequest, timeouts: Timeouts
    ) -> AsyncGenerator[Event, None]:
        alive = [w for w in self.workers if w.alive]
        if not alive:
            yield _exited(None)
            return
        worker = min(alive, key=lambda w: len(w.streams))
        sid = next(self._ids)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        worker.streams[sid] = queue
        worker.write(
            {
                "op": "stream",
                "id": sid,
                "request": request_to_json(request),
                "timeouts": dataclasses.asdict(timeouts),
            }
        )
        ended = False
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    ended = True
                    break
                yield item
                if isinstance(item, Finished):
                    ended = True
                    return
            # The worker ended the stream without a finish: it died, or failed in a way its
            # own last resort did not catch.
            yield (
                _exited(worker.exit_code)
                if not worker.alive
                else Finished(
                    FinishState.error,
                    error_type="no_finish",
                    error="the litellm worker ended the stream without a finish reason",
                )
            )
        finally:
            worker.streams.pop(sid, None)
            if not ended:
                worker.write({"op": "cancel", "id": sid})

    async def aclose(self, timeout: float = 5.0) -> None:
        """Close the workers' stdin (they cancel what runs and exit); kill any still there."""
        for worker in self.workers:
            stdin = worker.proc.stdin
            if stdin is not None and not stdin.is_closing():
                with contextlib.suppress(Exception):
                    stdin.close()
        for worker in self.workers:
            try:
                await asyncio.wait_for(worker.proc.wait(), timeout)
            except (asyncio.TimeoutError, ProcessLookupError):
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.kill()
                with contextlib.suppress(Exception):
                    await worker.proc.wait()
            if worker.reader is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker.reader, timeout)
        if self._log is not None:
            self._log.close()


def _exited(code: int | None) -> Finished:
    how = f" (exit code {code})" if code is not None else ""
    return Finished(
        FinishState.error,
        error_type="WorkerExited",
        error=f"the litellm worker process ended{how} before the answer did",
    )


@contextlib.asynccontextmanager
async def serving(size: int, log_path: Path | None = None) -> AsyncIterator[LitellmPool | None]:
    """Within the block (this task and the tasks it starts), litellm requests go to ``size``
    worker processes; ``size`` 0 changes nothing. The workers end when the block does."""
    if size <= 0:
        yield None
        return
    pool = LitellmPool(size, log_path)
    try:
        await pool.start()
    except OSError:
        await pool.aclose()
        yield None
        return
    token = _active.set(pool)
    try:
        yield pool
    finally:
        _active.reset(token)
        await pool.aclose()
