"""The lean OpenAI-compatible client (providers/openai_fast.py) against the litellm path: the same
fault scenarios on the same real server must give the same events and states."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from genaicompare.providers.backends import openai_compat as openai_fast
from genaicompare.providers.backends.litellm import stream, warm_up
from genaicompare.providers.collect import collect
from genaicompare.providers.events import (
    Finished,
    FinishState,
    ModelRequest,
    Retrying,
    Started,
    TextDelta,
    Timeouts,
    Usage,
)
from tests.support.fake_openai import FakeOpenAI

KEY_ENV = "GC_FAST_KEY"
KEY = "sk-fastpath-secret-0123456789"
T = Timeouts(
    connect=2, first_token=1.5, between_chunks=1.0, total=20, max_retries=2, max_retry_after=5
)
SCENARIOS = [
    "fake/echo",
    "fake/tokens?n=40",
    "fake/length",
    "fake/content_filter",
    "fault/429?retry_after=0.2",
    "fault/429?fails=5&retry_after=0.1",
    "fault/429?retry_after_ms=150",
    "fault/500?fails=1",
    "fault/500",
    "fault/400",
    "fault/context",
    "fault/drop",
    "fault/malformed",
    "fault/hang_first",
    "fault/hang_mid",
    "fault/inband_error",
    "fault/no_finish",
    "fault/no_done",
    "fault/echo_key",
    "fake/tokens?n=3&reported=provider-model-v2",
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    warm_up()
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def req(server: FakeOpenAI, scenario: str, **kw: Any) -> ModelRequest:
    return ModelRequest(
        alias="m",
        model=f"openai/{scenario}",
        messages=[{"role": "user", "content": "one two three"}],
        api_base=server.base_url,
        api_key_env=KEY_ENV,
        **kw,
    )


async def events(fn: Any, request: ModelRequest) -> list[Any]:
    return [e async for e in fn(request, T)]


def shape(evs: list[Any]) -> dict[str, Any]:
    final = evs[-1]
    assert isinstance(final, Finished)
    assert sum(isinstance(e, Finished) for e in evs) == 1
    usage = [e for e in evs if isinstance(e, Usage) and not e.estimated]
    return {
        "text": "".join(e.text for e in evs if isinstance(e, TextDelta)),
        "retrying": [e.attempt for e in evs if isinstance(e, Retrying)],
        "started": sum(isinstance(e, Started) for e in evs),
        "usage": [(u.prompt_tokens, u.completion_tokens) for u in usage],
        "state": final.state,
        "finish_reason": final.finish_reason,
        "error_type": final.error_type,
        "reported_model": final.reported_model,
        "retries": final.retries,
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_events_as_litellm(server: FakeOpenAI, scenario: str) -> None:
    request = req(server, scenario)
    assert openai_fast.supports(request)
    server.reset()
    slow = shape(asyncio.run(events(stream, request)))
    slow_requests = server.total_requests
    server.reset()
    fast_events = asyncio.run(events(openai_fast.stream, request))
    fast = shape(fast_events)
    assert fast == slow
    assert server.total_requests == slow_requests  # the same retries on the wire
    final = fast_events[-1]
    if final.error:
        assert KEY not in final.error  # echo_key: the key the server echoed is redacted


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_same_events_on_uvloop(server: FakeOpenAI, scenario: str) -> None:
    # Headless runs use uvloop when installed (headless._run_loop); timeouts, retries and
    # cancellation must behave exactly as on asyncio's loop.
    uvloop = pytest.importorskip("uvloop")
    request = req(server, scenario)
    server.reset()
    on_asyncio = shape(asyncio.run(events(openai_fast.stream, request)))
    asyncio_requests = server.total_requests
    server.reset()
    loops: list[Any] = []

    async def on_uvloop() -> list[Any]:
        loops.append(asyncio.get_running_loop())
        return await events(openai_fast.stream, request)

    assert shape(uvloop.run(on_uvloop())) == on_asyncio
    assert server.total_requests == asyncio_requests
    assert isinstance(loops[0], uvloop.Loop)


def test_collected_records_match(server: FakeOpenAI) -> None:
    request = req(server, "fake/tokens?n=30&ttft=0.05&delay=0.002&pace=1")
    slow = asyncio.run(collect(request, T, prompt_id="p", source=stream))
    fast = asyncio.run(collect(request, T, prompt_id="p", source=openai_fast.stream))
    for name in (
        "text",
        "state",
        "tokens_in",
        "tokens_out",
        "tokens_estimated",
        "retries",
        "reported_model",
        "finish_reason",
        "cost_usd",
    ):
        assert getattr(fast, name) == getattr(slow, name), name
    # TTFT is measured on the fast path too (the server waits 50 ms before the first token).
    assert fast.ttft_ms is not None and 40 <= fast.ttft_ms <= 2000
    assert fast.tokens_per_s is not None and fast.latency_ms >= fast.ttft_ms


def test_cancel_mid_stream_records_cancelled(server: FakeOpenAI) -> None:
    request = req(server, "fake/tokens?n=100&delay=0.05")
    seen: list[Any] = []

    async def main() -> None:
        task = asyncio.create_task(
            collect(request, T, on_event=seen.append, source=openai_fast.stream)
        )
        while not any(isinstance(e, TextDelta) for e in seen):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # As on the litellm path: the one final event is Finished(cancelled), delivered on the way out.
    finals = [e for e in seen if isinstance(e, Finished)]
    assert len(finals) == 1 and seen[-1] is finals[0]
    assert finals[0].state is FinishState.cancelled


def test_supports_only_exact_equivalents(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert openai_fast.supports(req(server, "fake/echo", params={"temperature": 0.2, "seed": 1}))
    assert not openai_fast.supports(req(server, "fake/echo", params={"mock_testing_x": 1}))
    assert not openai_fast.supports(
        ModelRequest(alias="m", model="anthropic/claude", messages=[], api_key_env=KEY_ENV)
    )
    assert not openai_fast.supports(
        ModelRequest(alias="m", model="openai/gpt-4o-mini", messages=[], api_key_env=KEY_ENV)
    )
    monkeypatch.delenv(KEY_ENV)
    # No key: both paths send litellm's "no-key" placeholder (issue 18 §1), so the lean one may.
    assert openai_fast.supports(req(server, "fake/echo"))
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    assert not openai_fast.supports(req(server, "fake/echo"))  # proxies go through litellm
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert openai_fast.supports(req(server, "fake/echo"))
    monkeypatch.setenv("GENAICOMPARE_FAST_PATH", "0")
    assert not openai_fast.supports(req(server, "fake/echo"))


@pytest.mark.parametrize(("switch", "expect_uvloop"), [("1", True), ("0", False)])
def test_headless_loop_choice(
    monkeypatch: pytest.MonkeyPatch, switch: str, expect_uvloop: bool
) -> None:
    uvloop = pytest.importorskip("uvloop")
    from genaicompare.session.headless import _run_loop

    monkeypatch.setenv("GENAICOMPARE_UVLOOP", switch)
    seen: list[Any] = []

    async def main() -> None:
        seen.append(asyncio.get_running_loop())

    _run_loop(main())
    assert isinstance(seen[0], uvloop.Loop) is expect_uvloop


def test_invalid_utf8_is_named_as_such(server: FakeOpenAI) -> None:
    """#18 §15: a data line whose bytes are not UTF-8 was reported as "not JSON"."""
    out = asyncio.run(events(openai_fast.stream, req(server, "fault/bad_utf8?after=2")))
    finished = out[-1]
    assert isinstance(finished, Finished) and finished.state is FinishState.error
    assert finished.error_type == "MidStreamFallbackError"
    assert finished.error is not None
    assert "not UTF-8 (byte 0xff" in finished.error and "not JSON" not in finished.error
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == "t0 t1"
