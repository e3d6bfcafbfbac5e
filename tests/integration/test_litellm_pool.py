"""litellm streams in worker processes (issue 17): the same events as in-process, cancellation
reaches the server, a dead worker ends its streams in a named state, and a headless run stores
the same answers with the pool as without it, leaving no process behind.

Real worker processes, real litellm → openai → httpx, a real SSE server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from genaicompare.providers import Finished, FinishState, ModelRequest, TextDelta, Timeouts, Usage
from genaicompare.providers.backends import backend_for, litellm_pool
from genaicompare.providers.backends.litellm import stream as in_process
from genaicompare.providers.backends.litellm import warm_up
from genaicompare.providers.backends.litellm_worker import decode, encode, request_to_json
from tests.support.fake_openai import FakeOpenAI

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

KEY_ENV = "GC_POOL_KEY"
KEY = "sk-pool-0123456789abcdef"
FAST = Timeouts(connect=2, first_token=10, between_chunks=10, total=60, max_retries=1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    # openai/ + api_base would take the lean client: these requests are litellm's.
    monkeypatch.setenv("GENAICOMPARE_FAST_PATH", "0")


def request(server: FakeOpenAI, model: str, content: str = "one two three") -> ModelRequest:
    return ModelRequest(
        alias="m",
        model=f"openai/{model}",
        messages=[{"role": "user", "content": content}],
        api_base=server.base_url,
        api_key_env=KEY_ENV,
    )


async def events_of(source: object, req: ModelRequest) -> list[object]:
    return [e async for e in source(req, FAST)]  # type: ignore[operator]


def test_events_encode_and_the_request_carries_no_key(server: FakeOpenAI) -> None:
    for event in (
        TextDelta("héllo\n", 12.5),
        Usage(3, None, True),
        Finished(FinishState.timeout, "x", "first_token", "no first token within 5 s", "m", 2),
    ):
        assert decode(json.loads(json.dumps(encode(event)))) == event
    wire = json.dumps(request_to_json(request(server, "fake/echo")))
    assert KEY_ENV in wire and KEY not in wire


async def test_the_pool_streams_what_litellm_streams_in_process(server: FakeOpenAI) -> None:
    await asyncio.to_thread(warm_up)
    reqs = [request(server, f"fake/tokens?n=30&m={i}") for i in range(6)]
    reqs.append(request(server, "fake/echo", "alpha beta gamma"))
    reqs.append(request(server, "fault/400"))
    here = [await events_of(in_process, r) for r in reqs]
    async with litellm_pool.serving(2) as pool:
        assert pool is not None and len(pool.workers) == 2
        assert all(backend_for(r) == pool.stream for r in reqs)
        there = await asyncio.gather(*(events_of(backend_for(r), r) for r in reqs))
        pids = [w.proc.pid for w in pool.workers]
    for a, b in zip(here, there, strict=True):

        def shape(events: list[object]) -> tuple[str, object, object]:
            text = "".join(e.text for e in events if isinstance(e, TextDelta))
            fin = [e for e in events if isinstance(e, Finished)]
            usage = [e for e in events if isinstance(e, Usage)]
            assert len(fin) == 1 and events[-1] is fin[0]
            return text, (fin[0].state, fin[0].error_type), usage

        assert shape(b) == shape(a)
    assert shape(there[0])[0] == " ".join(f"t{i}" for i in range(30))
    assert shape(there[-1])[1][0] is FinishState.error  # the 400, named as in-process
    # Both workers took streams, and both are gone once the block ends.
    assert all(not Path(f"/proc/{pid}").exists() for pid in pids)
    assert litellm_pool.active() is None


async def test_closing_a_stream_cancels_it_in_the_worker(server: FakeOpenAI) -> None:
    model = "fake/tokens?n=100000&delay=0.01&m=cancel"
    async with litellm_pool.serving(1) as pool:
        assert pool is not None
        stream = pool.stream(request(server, model), FAST)
        seen = 0
        async for event in stream:
            seen += isinstance(event, TextDelta)
            if seen >= 5:
                break
        await stream.aclose()
        deadline = time.monotonic() + 10
        while server.in_flight[f"{model}"] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert server.in_flight[model] == 0, "the worker kept the request open"
        # The worker goes on serving.
        after = await events_of(pool.stream, request(server, "fake/echo", "still here"))
        assert "".join(e.text for e in after if isinstance(e, TextDelta)) == "still here"


async def test_a_dead_worker_ends_its_streams_named_and_the_other_goes_on(
    server: FakeOpenAI,
) -> None:
    slow = "fake/tokens?n=100000&delay=0.01&m=dies"
    async with litellm_pool.serving(2) as pool:
        assert pool is not None
        doomed = pool.workers[0]

        async def first(req: ModelRequest) -> list[object]:
            return await events_of(pool.stream, req)

        # The first stream goes to worker 0 (fewest open), the second to worker 1.
        a = asyncio.ensure_future(first(request(server, slow)))
        b = asyncio.ensure_future(first(request(server, "fake/tokens?n=40&delay=0.02&m=b")))
        deadline = time.monotonic() + 30
        while server.in_flight[slow] == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        os.kill(doomed.proc.pid, signal.SIGKILL)
        events_a, events_b = await asyncio.wait_for(asyncio.gather(a, b), 60)
        fin = events_a[-1]
        assert isinstance(fin, Finished) and fin.state is FinishState.error
        assert fin.error_type == "WorkerExited" and "exit code -9" in (fin.error or "")
        assert isinstance(events_b[-1], Finished) and events_b[-1].state is FinishState.complete
        # New streams go to the worker that is left.
        again = await events_of(pool.stream, request(server, "fake/echo", "on one worker"))
        assert isinstance(again[-1], Finished) and again[-1].state is FinishState.complete


def _run(catalog: Path, db: Path, home: Path, workers: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.update(GENAICOMPARE_HOME=str(home), GENAICOMPARE_LITELLM_WORKERS=workers)
    argv = [sys.executable, "-m", "genaicompare", "run", str(catalog), "--db", str(db)]
    return subprocess.run(
        [*argv, "-j", "8", "--no-cache", "--no-progress", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_headless_run_stores_the_same_answers_with_the_pool(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    doc = {
        "name": "pool",
        "models": [
            {
                "id": alias,
                "model": f"openai/fake/echo?m={alias}",
                "api_base": server.base_url,
                "api_key_env": KEY_ENV,
            }
            for alias in ("old", "new")
        ],
        "prompts": [{"id": f"p{i}", "prompt": f"question {i} about pools"} for i in range(12)],
    }
    catalog = tmp_path / "pool.yaml"
    catalog.write_text(json.dumps(doc), encoding="utf-8")
    stored = {}
    for workers in ("0", "2"):
        db = tmp_path / f"w{workers}.db"
        proc = _run(catalog, db, tmp_path / "home", workers)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr
        with sqlite3.connect(db) as conn:
            stored[workers] = sorted(
                conn.execute("SELECT prompt_id, model_alias, text, state FROM responses")
            )
    assert len(stored["2"]) == 24
    assert stored["2"] == stored["0"]
    assert {row[3] for row in stored["2"]} == {"complete"}
    assert ("p3", "new", "question 3 about pools", "complete") in stored["2"]
    # The key went to the server from the workers, and never into the database.
    assert server.last_headers.get("authorization") == f"Bearer {KEY}"
    assert KEY.encode() not in (tmp_path / "w2.db").read_bytes()
    home = f"GENAICOMPARE_HOME={tmp_path / 'home'}".encode()
    assert not [pid for pid in _workers() if home in _environ(pid)], "a worker outlived its run"


def _workers() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"genaicompare.providers.backends.litellm_worker" in cmd:
                found.append(int(entry))
    return found


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


async def test_a_line_that_is_not_an_event_is_skipped(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library that prints to stdout must not end the worker's streams: the worker moves
    stdout to stderr once it runs, and the pool skips a line that is not an event (here, one
    printed before the worker's code starts)."""
    junk = (
        "-c",
        "import sys; print('Give Feedback / Get Help: not json', flush=True); print(42, "
        "flush=True); from genaicompare.providers.backends.litellm_worker import main; "
        "sys.exit(main())",
    )
    monkeypatch.setattr(litellm_pool.LitellmPool, "command", junk)
    async with litellm_pool.serving(1) as pool:
        assert pool is not None
        events = await events_of(pool.stream, request(server, "fake/echo", "after the junk"))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "after the junk"
    assert isinstance(events[-1], Finished) and events[-1].state is FinishState.complete
