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
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from genaicompare.core.records import ResponseRecord
from genaicompare.core.sanitize import one_line, redact
from genaicompare.providers.events import Retrying, Started, TextDelta, Timeouts, Waiting

if TYPE_CHECKING:
    # Annotations only: the app imports this module at its first paint (to spawn the worker),
    # before the catalog (pydantic, ≈0.15 s) is read in the loading thread.
    from genaicompare.catalog import Catalog, ModelSpec, Prompt
    from genaicompare.session.comparison import Comparison
    from genaicompare.store import Store

FLUSH_INTERVAL = 0.05
"""Seconds between two ``text`` calls for one stream: the token batcher's interval."""


WORKER_LOG = "stream-worker.log"
"""The streaming worker's stderr, in the cache folder (:func:`genaicompare.core.paths.cache_file`)."""


@dataclass(frozen=True, slots=True)
class LiveTiming:
    """A streaming answer's own numbers so far, measured where it streams, as the stored record
    will have them (:mod:`genaicompare.providers.collect`): a pane shows these, never times of
    its own (which would count the queue, the local model's start or a prompt visited late)."""

    ttft_ms: float | None
    """Request sent (the stream's ``Started``) → first text chunk."""
    decode_s: float
    """First text chunk → the latest one."""

    def tokens_per_s(self, chunks: int) -> float | None:
        """``(chunks - 1) / decode_s``: the stored tok/s with chunks for tokens (one token per
        chunk on most servers; the stored record has the provider's count)."""
        return (chunks - 1) / self.decode_s if chunks > 1 and self.decode_s > 0 else None


class Clock:
    """Turns a stream's events into :class:`LiveTiming` and into words for what it waits for."""

    def __init__(self) -> None:
        self.sent: float | None = None
        self.first: float | None = None
        self.last: float | None = None

    def phase(self, event: object) -> str | None:
        """What a person should read while the request has no text yet, or None."""
        if isinstance(event, Started):
            if self.sent is None:  # retries keep the first send, as the collector does
                self.sent = event.at
            return "waiting for first token"
        if isinstance(event, Waiting):
            return event.reason
        if isinstance(event, Retrying):
            return one_line(f"retry {event.attempt} in {event.delay:.0f} s: {event.reason}", 200)
        return None

    def text(self, event: TextDelta) -> None:
        if self.first is None:
            self.first = event.at
        self.last = event.at

    def timing(self) -> LiveTiming:
        ttft = None
        if self.first is not None and self.sent is not None:
            ttft = (self.first - self.sent) * 1000
        decode = (self.last - self.first) if self.first is not None and self.last else 0.0
        return LiveTiming(ttft, decode)


class Sink(Protocol):
    """What a stream reports to (a pane, a benchmark, a test)."""

    def stream_phase(self, phase: str) -> None:
        """What the request waits for before its first token (``waiting for first token``)."""

    def stream_text(self, text: str, chunks: int, timing: LiveTiming) -> None: ...
    def stream_done(self, record: ResponseRecord) -> None: ...
    def stream_cancelled(self, record: ResponseRecord | None) -> None:
        """Cancelled; ``record`` is the stored answer (the text so far) when there is one."""

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
        clock = Clock()
        batch = _Batcher(
            lambda text, n: job.sink.stream_text(text, n, clock.timing()), self.interval
        )
        kept: list[ResponseRecord] = []

        def on_event(event: object) -> None:
            if isinstance(event, TextDelta) and event.text:
                clock.text(event)
                batch.add(event.text)
            elif (phase := clock.phase(event)) is not None:
                job.sink.stream_phase(phase)

        try:
            record = await self.comparison.run_pair(
                prompt, model, on_event, use_cache=False, on_cancelled=kept.append
            )
        except asyncio.CancelledError:
            batch.flush()
            job.finished = True
            job.sink.stream_cancelled(kept[0] if kept else None)
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

    The worker can be spawned before the catalog is read (:meth:`prestart`, at the first paint):
    it starts the local model's servers at once, while the UI goes on loading. Requests sent
    before the worker has its catalog queue in its stdin.

    Lifetime: the worker runs in its own session (a terminal's SIGHUP or Ctrl-C reaches only the
    app) and ends when its stdin closes — when the app closes it, and when the app dies however
    it dies. :meth:`aclose` only closes that pipe, so quitting never waits for the worker: it
    cancels its streams, stores what they had, stops its servers and exits on its own, after the
    terminal is back.
    """

    def __init__(
        self,
        catalog: Catalog | None = None,
        store: Store | None = None,
        timeouts: Timeouts | None = None,
        concurrency: int = 4,
        *,
        interval: float = FLUSH_INTERVAL,
        log_path: Path | None = None,
        catalog_path: str | None = None,
    ) -> None:
        self.catalog_path = catalog_path
        self.catalog = catalog
        self.store = store
        self.timeouts = timeouts or Timeouts()
        self.concurrency = concurrency
        self.interval = interval
        self.log_path = log_path
        self._jobs: dict[int, Job] = {}
        self._next_id = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._queue: list[dict[str, Any]] = []
        self._dead: str | None = None
        self._fatal = ""  # why the worker could not start, when it says so
        self._configured = False
        self._closed = False
        self._out = bytearray()
        self._writing = False

    @property
    def pid(self) -> int | None:
        """The worker's process id once it runs (tests check it ends with the app)."""
        return self._proc.pid if self._proc is not None else None

    def prestart(self, local_models: list[str]) -> None:
        """Spawn the worker now and have it start these ``local/…`` models' servers at once.

        May be called before the event loop runs (the CLI does, before it imports Textual, so
        the worker and the local servers start while the app's first frame is built); its
        output is read from the first call made with the loop running."""
        self._spawn()
        self._write({"op": "prestart", "models": list(local_models)})

    def warm_reader(self) -> None:
        """Read the worker's output from now on (a worker spawned before the loop ran)."""
        self._spawn()

    def configure(
        self,
        catalog: Catalog,
        store: Store,
        timeouts: Timeouts,
        concurrency: int,
        catalog_path: str | None = None,
    ) -> None:
        """What the worker streams for: sent once, as its first request-bearing message."""
        self.catalog, self.store, self.timeouts = catalog, store, timeouts
        self.concurrency = concurrency
        self.catalog_path = catalog_path or self.catalog_path

    def warm(self) -> None:
        self._ensure_started()

    def _ensure_started(self) -> None:
        self._spawn()
        if self._configured or self._closed:
            return
        assert self.catalog is not None and self.store is not None
        self._configured = True
        self._write(
            {
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
        )
        for message in self._queue:
            self._write(message)
        self._queue.clear()

    def _spawn(self) -> None:
        if self._proc is None and not self._closed:
            self._popen()
        if self._proc is not None and self._reader is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # spawned before the loop runs: read once it does
            self._reader = loop.create_task(self._read())
            if self._out:
                self._drain()

    def _popen(self) -> None:
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONUNBUFFERED="1")
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "genaicompare.session.stream_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,
            )
        finally:
            if not isinstance(log, int):
                log.close()
        assert self._proc.stdin is not None
        # Never block the UI on a worker still starting (a big catalog is more than a pipe holds).
        os.set_blocking(self._proc.stdin.fileno(), False)

    def _write(self, message: dict[str, Any]) -> None:
        if self._proc is None or self._closed:
            return
        self._out += json.dumps(message).encode() + b"\n"
        self._drain()

    def _drain(self) -> None:
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.closed:
            return
        fd = proc.stdin.fileno()
        try:
            while self._out:
                del self._out[: os.write(fd, self._out)]
        except BlockingIOError:
            if not self._writing:
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    return  # before the loop runs: drained when the reader starts
                self._writing = True
                loop.add_writer(fd, self._drain)
            return
        except OSError:  # the worker is gone: _read reports it
            self._out.clear()
        if self._writing:
            self._writing = False
            asyncio.get_running_loop().remove_writer(fd)

    def _send(self, message: dict[str, Any]) -> None:
        if not self._configured:
            self._queue.append(message)
            return
        self._write(message)

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
        loop = asyncio.get_running_loop()
        stdout = asyncio.StreamReader(limit=64 * 1024 * 1024)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stdout), self._proc.stdout
        )
        while True:
            line = await stdout.readline()
            if not line:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("t") == "fatal":  # the worker could not start: say why in every pane
                self._fatal = str(msg.get("message", ""))
                continue
            job = self._jobs.get(msg.get("job", -1))
            if job is None:
                continue
            kind = msg.get("t")
            if kind == "text":
                timing = LiveTiming(msg.get("ttft"), float(msg.get("decode", 0.0)))
                job.sink.stream_text(msg["text"], msg["n"], timing)
            elif kind == "phase":
                job.sink.stream_phase(str(msg.get("phase", "")))
            elif kind in ("done", "cancelled"):
                found = msg.get("id")
                record = (
                    await asyncio.to_thread(self.store.response, int(found))
                    if found is not None and self.store is not None
                    else None
                )
                self._finish(job)
                if kind == "cancelled":
                    job.sink.stream_cancelled(record)
                elif record is None:
                    job.sink.stream_failed("the response was not found in the database")
                else:
                    job.sink.stream_done(record)
            elif kind == "error":
                self._finish(job)
                job.sink.stream_failed(str(msg.get("message", "error")))
        code = await self._exited()
        self._dead = self._fatal or f"the streaming worker stopped (exit code {code})"
        for job in list(self._jobs.values()):
            self._finish(job)
            job.sink.stream_failed(self._dead)

    def _finish(self, job: Job) -> None:
        job.finished = True
        self._jobs.pop(job.job_id, None)

    async def aclose(self) -> None:
        """Close the worker's stdin and return: it shuts itself down (see the class docstring)."""
        self._closed = True
        proc = self._proc
        if proc is not None and proc.stdin is not None and not proc.stdin.closed:
            if self._writing:
                self._writing = False
                asyncio.get_running_loop().remove_writer(proc.stdin.fileno())
            with contextlib.suppress(OSError, ValueError):
                proc.stdin.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Wait for the worker to end (tests); None if it is still running after ``timeout``."""
        if self._proc is None:
            return 0
        try:
            return await asyncio.wait_for(self._exited(), timeout)
        except asyncio.TimeoutError:
            return None

    async def _exited(self) -> int:
        # Polled, not Popen.wait in a thread: asyncio.run joins its threads, and quitting
        # must never wait for the worker.
        assert self._proc is not None
        while (code := self._proc.poll()) is None:
            await asyncio.sleep(0.05)
        return code
