"""Where the app's streams run. No Textual here: engines call a :class:`Sink`, panes implement it.

Two engines with one interface:

* :class:`InProcessEngine` runs :meth:`Comparison.run_pair` as asyncio tasks in the UI's loop.
  Cheap to start (tests use it), but litellm's ≈0.5 ms of CPU per chunk then competes with
  rendering on one core.
* :class:`ProcessEngine` runs the same code in a worker process (``stream_worker``) and receives
  text already batched (≈50 ms), so the UI process only renders. The CLI uses it.

Both batch text: a sink sees at most one ``text`` call per flush interval per stream, never one per
token (one Markdown write per token is ≈60× slower than batching).

Two buffers sit on a token's way to the screen, with two different jobs:

* this module's :class:`_Batcher` (:data:`FLUSH_INTERVAL`, 50 ms) is THE token batcher: it turns
  a provider's per-token deltas into one ``text`` call per stream per interval, in whichever
  process streams;
* the pane's repaint tick (``app/widgets/response_pane.py``, ``FLUSH_INTERVAL`` 100 ms,
  ``GENAICOMPARE_PANE_INTERVAL``) only limits repaints: batches that arrive between two
  repaints merge into one append. It batches batches, never tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from genaicompare.catalog import Catalog, ModelSpec, Prompt
from genaicompare.core.records import ResponseRecord
from genaicompare.core.sanitize import redact
from genaicompare.providers.events import TextDelta, Timeouts

if TYPE_CHECKING:
    from genaicompare.session.comparison import Comparison
    from genaicompare.store import Store

FLUSH_INTERVAL = 0.05
"""Seconds between two ``text`` calls for one stream: the token batcher's interval."""


class Sink(Protocol):
    """What a stream reports to (a pane, a benchmark, a test)."""

    def stream_text(self, text: str, chunks: int) -> None: ...
    def stream_done(self, record: ResponseRecord) -> None: ...
    def stream_cancelled(self) -> None: ...
    def stream_failed(self, message: str) -> None: ...


@dataclass
class Job:
    job_id: int
    prompt_id: str
    model_alias: str
    sink: Sink
    started: float = field(default_factory=time.perf_counter)
    cancel_fn: Callable[[], None] | None = None
    finished: bool = False

    def cancel(self) -> None:
        if not self.finished and self.cancel_fn is not None:
            self.cancel_fn()


class Engine(Protocol):
    def warm(self) -> None:
        """Start loading what streaming needs (called after the first paint)."""

    def start(self, prompt: Prompt, model: ModelSpec, sink: Sink) -> Job: ...
    async def aclose(self) -> None: ...


class _Batcher:
    """Collects deltas for one stream and hands them on at most once per interval."""

    def __init__(self, emit: Callable[[str, int], None], interval: float) -> None:
        self._emit = emit
        self._interval = interval
        self._parts: list[str] = []
        self._chunks = 0
        self._handle: asyncio.TimerHandle | None = None

    def add(self, text: str) -> None:
        self._parts.append(text)
        self._chunks += 1
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(self._interval, self.flush)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._parts:
            text, chunks = "".join(self._parts), self._chunks
            self._parts.clear()
            self._chunks = 0
            self._emit(text, chunks)


class InProcessEngine:
    def __init__(self, comparison: Comparison, interval: float = FLUSH_INTERVAL) -> None:
        self.comparison = comparison
        self.interval = interval
        self._next_id = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def warm(self) -> None:
        from genaicompare.providers.backends.litellm import import_litellm_in_background

        import_litellm_in_background()

    def start(self, prompt: Prompt, model: ModelSpec, sink: Sink) -> Job:
        self._next_id += 1
        job = Job(self._next_id, prompt.id, model.id, sink)
        task = asyncio.get_running_loop().create_task(self._run(job, prompt, model))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

        def cancel() -> None:
            task.cancel()

        job.cancel_fn = cancel
        return job

    async def _run(self, job: Job, prompt: Prompt, model: ModelSpec) -> None:
        batch = _Batcher(job.sink.stream_text, self.interval)

        def on_event(event: object) -> None:
            if isinstance(event, TextDelta) and event.text:
                batch.add(event.text)

        try:
            record = await self.comparison.run_pair(prompt, model, on_event, use_cache=False)
        except asyncio.CancelledError:
            batch.flush()
            job.finished = True
            job.sink.stream_cancelled()
            return
        except Exception as exc:  # the pane shows it; the app goes on
            batch.flush()
            job.finished = True
            job.sink.stream_failed(f"{type(exc).__name__}: {redact(str(exc))}")
            return
        batch.flush()
        job.finished = True
        job.sink.stream_done(record)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


class ProcessEngine:
    """Streams in ``python -m genaicompare.session.stream_worker``; the UI only gets batched text.

    The worker is started at once but imports litellm in its own process, so the UI never waits
    for it; requests sent before it is ready queue in its stdin.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        timeouts: Timeouts,
        concurrency: int,
        *,
        interval: float = FLUSH_INTERVAL,
        log_path: Path | None = None,
        catalog_path: str | None = None,
    ) -> None:
        self.catalog_path = catalog_path
        self.catalog = catalog
        self.store = store
        self.timeouts = timeouts
        self.concurrency = concurrency
        self.interval = interval
        self.log_path = log_path
        self._jobs: dict[int, Job] = {}
        self._next_id = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None
        self._queue: list[dict[str, Any]] = []
        self._dead: str | None = None

    def warm(self) -> None:
        self._ensure_started()

    def _ensure_started(self) -> None:
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(self._spawn())

    async def _spawn(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else asyncio.subprocess.DEVNULL  # noqa: SIM115
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONUNBUFFERED="1")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "genaicompare.session.stream_worker",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
                env=env,
                limit=64 * 1024 * 1024,
            )
        finally:
            if not isinstance(log, int):
                log.close()
        hello = {
            "catalog": self.catalog.model_dump(mode="json", by_alias=True, exclude_none=True),
            "db": str(self.store.path),
            "catalog_path": self.catalog_path,
            "timeouts": {
                "connect": self.timeouts.connect,
                "first_token": self.timeouts.first_token,
                "between_chunks": self.timeouts.between_chunks,
                "total": self.timeouts.total,
                "max_retries": self.timeouts.max_retries,
                "max_retry_after": self.timeouts.max_retry_after,
            },
            "concurrency": self.concurrency,
            "interval": self.interval,
        }
        self._send(hello)
        for message in self._queue:
            self._send(message)
        self._queue.clear()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    def _send(self, message: dict[str, Any]) -> None:
        if self._proc is None or self._proc.stdin is None:
            self._queue.append(message)
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._proc.stdin.write(json.dumps(message).encode() + b"\n")

    def start(self, prompt: Prompt, model: ModelSpec, sink: Sink) -> Job:
        self._ensure_started()
        self._next_id += 1
        job = Job(self._next_id, prompt.id, model.id, sink)
        if self._dead is not None:
            job.finished = True
            sink.stream_failed(self._dead)
            return job
        self._jobs[job.job_id] = job
        job.cancel_fn = lambda: self._send({"op": "cancel", "job": job.job_id})
        self._send({"op": "run", "job": job.job_id, "prompt": prompt.id, "model": model.id})
        return job

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        stdout = self._proc.stdout
        while True:
            line = await stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            job = self._jobs.get(msg.get("job", -1))
            if job is None:
                continue
            kind = msg.get("t")
            if kind == "text":
                job.sink.stream_text(msg["text"], msg["n"])
            elif kind == "done":
                record = await asyncio.to_thread(self.store.response, int(msg["id"]))
                self._finish(job)
                if record is None:
                    job.sink.stream_failed("the response was not found in the database")
                else:
                    job.sink.stream_done(record)
            elif kind == "cancelled":
                self._finish(job)
                job.sink.stream_cancelled()
            elif kind == "error":
                self._finish(job)
                job.sink.stream_failed(str(msg.get("message", "error")))
        code = await self._proc.wait()
        self._dead = f"the streaming worker stopped (exit code {code})"
        for job in list(self._jobs.values()):
            self._finish(job)
            job.sink.stream_failed(self._dead)

    def _finish(self, job: Job) -> None:
        job.finished = True
        self._jobs.pop(job.job_id, None)

    async def aclose(self) -> None:
        if self._starting is not None:
            with contextlib.suppress(Exception):
                await self._starting
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                with contextlib.suppress(Exception):
                    proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 3)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
