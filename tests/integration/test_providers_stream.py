"""Providers against a real OpenAI-compatible SSE server on 127.0.0.1 (tests/support/fake_openai).

Every request goes through the real litellm → openai → httpx stack; every fault is a real fault on a
real socket, and each must end in its named state with the measured fields right.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Iterator

import pytest

from genaicompare.providers import (
    Finished,
    FinishState,
    ModelRequest,
    Retrying,
    Started,
    TextDelta,
    Timeouts,
    Usage,
)
from genaicompare.providers.backends.litellm import stream, warm_up
from genaicompare.providers.collect import ResponseCollector
from genaicompare.providers.collect import collect as collect_any
from tests.support.fake_openai import FakeOpenAI

# These tests are about the litellm backend: pin it (the providers would pick the lean client
# for these openai/ + api_base requests; tests/integration/test_run_fastpath.py covers that one).
collect = functools.partial(collect_any, source=stream)

MESSAGES = [{"role": "user", "content": "one two three four"}]
FAST = Timeouts(
    connect=2, first_token=5, between_chunks=5, total=20, max_retries=2, max_retry_after=5
)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    warm_up()  # a cold litellm import (4-20 s on a busy machine) is not what these tests time
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _reset(server: FakeOpenAI) -> None:
    server.reset()


def request(server: FakeOpenAI, model: str, **kw: object) -> ModelRequest:
    return ModelRequest(
        alias="m",
        model=f"openai/{model}",
        messages=MESSAGES,
        api_base=server.base_url,
        api_key_env="GC_TEST_KEY",
        **kw,
    )  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GC_TEST_KEY", "sk-test-0123456789abcdef")


async def events_of(req: ModelRequest, timeouts: Timeouts = FAST) -> list[object]:
    return [event async for event in stream(req, timeouts)]


# --------------------------------------------------------------------------- the happy path


async def test_incremental_chunks_usage_and_exactly_one_finished_last(server: FakeOpenAI) -> None:
    events = await events_of(request(server, "fake/tokens?n=5&reported=gpt-fake-2025"))
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert [d.text for d in deltas] == ["t0", " t1", " t2", " t3", " t4"]
    assert type(events[0]) is Started
    assert [type(e) for e in events[-2:]] == [Usage, Finished]
    assert sum(isinstance(e, Finished) for e in events) == 1
    usage, finished = events[-2], events[-1]
    assert usage == Usage(prompt_tokens=4, completion_tokens=5, estimated=False)
    assert finished.state is FinishState.complete
    assert finished.finish_reason == "stop"
    assert finished.reported_model == "gpt-fake-2025"
    assert finished.error is None
    assert [d.at for d in deltas] == sorted(d.at for d in deltas)


async def test_collect_measures_ttft_latency_tokens_and_speed(server: FakeOpenAI) -> None:
    seen: list[object] = []
    record = await collect(
        request(server, "fake/tokens?n=11&ttft=0.2&delay=0.02"),
        FAST,
        seen.append,
        prompt_id="p1",
        template_hash="th",
    )
    assert record.state is FinishState.complete and record.ok
    assert record.text == "".join(f"t{i}" if i == 0 else f" t{i}" for i in range(11))
    assert (record.prompt_id, record.template_hash, record.model_alias) == ("p1", "th", "m")
    assert record.tokens_in == 4 and record.tokens_out == 11 and not record.tokens_estimated
    assert 200 <= record.ttft_ms < 2000
    assert record.latency_ms >= record.ttft_ms + 10 * 20 * 0.9
    # 10 tokens after the first, ~20 ms apart → ~50 tok/s (loose bounds: a loaded CI machine)
    assert 5 < record.tokens_per_s < 60
    assert record.cost_usd is None  # the fake model has no price anywhere: unknown, never 0
    assert isinstance(seen[-1], Finished) and len(seen) == 14  # Started, 11 deltas, Usage, Finished


async def test_cost_from_litellm_price_table(server: FakeOpenAI) -> None:
    import litellm

    record = await collect(request(server, "gpt-4o-mini"), FAST)
    assert record.state is FinishState.complete
    price_in, price_out = litellm.cost_per_token(
        model="openai/gpt-4o-mini", prompt_tokens=4, completion_tokens=20
    )
    assert record.tokens_in == 4 and record.tokens_out == 20
    assert record.cost_usd == pytest.approx(price_in + price_out)
    assert record.cost_usd > 0


async def test_cost_from_catalog_prices_wins(server: FakeOpenAI) -> None:
    req = request(server, "fake/tokens?n=10", price_in_per_mtok=1.0, price_out_per_mtok=3.0)
    record = await collect(req, FAST)
    assert record.cost_usd == pytest.approx((4 * 1.0 + 10 * 3.0) / 1e6)


async def test_missing_usage_is_estimated_and_flagged(server: FakeOpenAI) -> None:
    record = await collect(request(server, "fake/tokens?n=6&usage=0"), FAST)
    assert record.state is FinishState.complete
    assert record.tokens_estimated is True
    assert record.tokens_out and record.tokens_out > 0
    assert record.tokens_in and record.tokens_in > 0


async def test_params_reach_the_server(server: FakeOpenAI) -> None:
    req = request(server, "fake/echo", params={"temperature": 0, "seed": 7, "max_tokens": 2})
    record = await collect(req, FAST)
    body = server.last_body
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0, 7, 2)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert server.last_headers["authorization"] == "Bearer sk-test-0123456789abcdef"
    assert record.text == "one two" and record.state is FinishState.length


# --------------------------------------------------------------------------- finish states


@pytest.mark.parametrize(
    ("model", "state", "error_type", "text"),
    [
        ("fault/length?n=4", FinishState.length, None, "t0 t1 t2 t3"),
        ("fault/content_filter", FinishState.content_filter, None, "t0 t1 t2"),
        ("fault/no_done?n=3", FinishState.complete, None, "t0 t1 t2"),
        ("fault/no_finish?n=3", FinishState.error, "no_finish", "t0 t1 t2"),
        ("fault/inband_error", FinishState.error, "MidStreamFallbackError", "t0 t1 t2"),
        ("fault/drop", FinishState.error, "MidStreamFallbackError", "t0 t1 t2"),
        ("fault/malformed", FinishState.error, "MidStreamFallbackError", "t0 t1 t2"),
        ("fault/400", FinishState.error, "BadRequestError", ""),
        ("fault/context", FinishState.error, "ContextWindowExceededError", ""),
    ],
)
async def test_each_fault_ends_in_its_named_state(
    server: FakeOpenAI, model: str, state: FinishState, error_type: str | None, text: str
) -> None:
    events = await events_of(request(server, model))
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert sum(isinstance(e, Finished) for e in events) == 1
    assert finished.state is state, finished
    assert finished.error_type == error_type
    assert (finished.error is None) == (state not in (FinishState.error, FinishState.timeout))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text
    assert server.requests[model] == 1  # none of these is retried


async def test_inband_error_message_is_kept(server: FakeOpenAI) -> None:
    record = await collect(request(server, "fault/inband_error"), FAST)
    assert record.state is FinishState.error
    assert "overloaded mid-stream" in record.error
    assert record.text == "t0 t1 t2" and record.ttft_ms is not None


async def test_error_before_first_token_has_no_ttft_and_no_tokens(server: FakeOpenAI) -> None:
    record = await collect(request(server, "fault/400"), FAST)
    assert record.state is FinishState.error
    assert record.ttft_ms is None and record.text == ""
    assert record.tokens_out is None and record.cost_usd is None
    assert record.latency_ms is not None


# --------------------------------------------------------------------------- retries


async def test_429_retry_after_is_honoured_then_succeeds(server: FakeOpenAI) -> None:
    model = "fault/429?retry_after=1&n=3"
    started = time.perf_counter()
    events = await events_of(request(server, model))
    elapsed = time.perf_counter() - started
    retries = [e for e in events if isinstance(e, Retrying)]
    assert len(retries) == 1 and retries[0].delay == 1.0 and "Rate limit" in retries[0].reason
    assert events[-1].state is FinishState.complete and events[-1].retries == 1
    assert server.requests[model] == 2
    assert elapsed >= 1.0


async def test_retry_after_ms_header(server: FakeOpenAI) -> None:
    model = "fault/429?retry_after_ms=50&fails=2&n=2"
    events = await events_of(request(server, model))
    assert [e.delay for e in events if isinstance(e, Retrying)] == [0.05, 0.05]
    assert events[-1].state is FinishState.complete and events[-1].retries == 2


async def test_retry_after_beyond_the_cap_is_not_waited_for(server: FakeOpenAI) -> None:
    model = "fault/429?retry_after=300"
    started = time.perf_counter()
    events = await events_of(request(server, model))
    assert time.perf_counter() - started < 10  # not 300 s
    assert events[-1].state is FinishState.error
    assert events[-1].error_type == "RateLimitError"
    assert server.requests[model] == 1


async def test_500_is_retried_up_to_max_retries_then_error(server: FakeOpenAI) -> None:
    model = "fault/500"
    timeouts = Timeouts(first_token=5, between_chunks=5, total=20, max_retries=2)
    events = await events_of(request(server, model), timeouts)
    assert server.requests[model] == 3
    assert events[-1].state is FinishState.error and events[-1].retries == 2
    assert events[-1].error_type == "InternalServerError"


async def test_500_then_success(server: FakeOpenAI) -> None:
    events = await events_of(request(server, "fault/500?fails=1&n=2"))
    assert events[-1].state is FinishState.complete and events[-1].retries == 1


async def test_no_retry_on_400_or_context_window(server: FakeOpenAI) -> None:
    for model in ("fault/400", "fault/context"):
        events = await events_of(request(server, model))
        assert not any(isinstance(e, Retrying) for e in events)
        assert server.requests[model] == 1


async def test_no_retry_after_first_token(server: FakeOpenAI) -> None:
    model = "fault/drop?after=2"
    events = await events_of(request(server, model))
    assert events[-1].state is FinishState.error
    assert server.requests[model] == 1


async def test_drop_before_first_token_is_retried(server: FakeOpenAI) -> None:
    model = "fault/drop?after=0"
    events = await events_of(
        request(server, model), Timeouts(max_retries=1, first_token=5, between_chunks=5, total=20)
    )
    assert server.requests[model] == 2
    assert events[-1].state is FinishState.error and events[-1].retries == 1


async def test_missing_credentials_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    req = ModelRequest(alias="m", model="openai/gpt-4o-mini", messages=MESSAGES)
    events = await events_of(req)
    assert events[-1].state is FinishState.error and events[-1].retries == 0
    assert "Missing credentials" in events[-1].error


async def test_connection_refused_is_an_error_not_a_crash() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    req = ModelRequest(
        alias="m", model="openai/x", messages=MESSAGES, api_base=f"http://127.0.0.1:{port}/v1"
    )
    events = await events_of(req, Timeouts(connect=1, first_token=5, total=10, max_retries=1))
    assert events[-1].state is FinishState.error
    assert events[-1].retries == 1
    # litellm maps a refused connection to InternalServerError (openai's APIConnectionError inside)
    assert events[-1].error_type in ("APIConnectionError", "InternalServerError")
    assert "onnect" in events[-1].error


# --------------------------------------------------------------------------- timeouts


async def test_hang_before_first_byte_times_out(server: FakeOpenAI) -> None:
    timeouts = Timeouts(first_token=0.5, between_chunks=5, total=10)
    started = time.perf_counter()
    record = await collect(request(server, "fault/hang_first?hang=30"), timeouts)
    assert record.state is FinishState.timeout
    assert record.error_type == "first_token"
    assert 0.4 < time.perf_counter() - started < 10  # the server hangs for 30 s
    assert record.ttft_ms is None


async def test_slow_first_token_times_out(server: FakeOpenAI) -> None:
    timeouts = Timeouts(first_token=0.3, between_chunks=5, total=10)
    record = await collect(request(server, "fake/tokens?ttft=3"), timeouts)
    assert record.state is FinishState.timeout and record.error_type == "first_token"


async def test_hang_mid_stream_times_out_between_chunks(server: FakeOpenAI) -> None:
    timeouts = Timeouts(first_token=5, between_chunks=0.4, total=10)
    started = time.perf_counter()
    record = await collect(request(server, "fault/hang_mid?hang=30"), timeouts)
    assert record.state is FinishState.timeout
    assert record.error_type == "between_chunks"
    assert record.text == "t0 t1 t2"
    assert time.perf_counter() - started < 10  # the server hangs for 30 s
    assert record.tokens_estimated and record.tokens_out


async def test_total_timeout(server: FakeOpenAI) -> None:
    timeouts = Timeouts(first_token=5, between_chunks=5, total=0.5)
    record = await collect(request(server, "fake/tokens?n=100&delay=0.05"), timeouts)
    assert record.state is FinishState.timeout and record.error_type == "total"
    assert 0 < len(record.text) < len(" ".join(f"t{i}" for i in range(100)))


async def test_hang_does_not_block_other_streams(server: FakeOpenAI) -> None:
    timeouts = Timeouts(first_token=1.0, between_chunks=1.0, total=10)
    hung, fine = await asyncio.gather(
        collect(request(server, "fault/hang_mid?hang=30"), timeouts),
        collect(request(server, "fake/tokens?n=30&delay=0.01"), timeouts),
    )
    assert hung.state is FinishState.timeout
    assert fine.state is FinishState.complete and fine.tokens_out == 30


# --------------------------------------------------------------------------- cancellation


async def test_cancellation_is_recorded_as_cancelled(server: FakeOpenAI) -> None:
    seen: list[object] = []
    collector = ResponseCollector(request(server, "fake/tokens?n=1000&delay=0.01"), prompt_id="p")
    task = asyncio.create_task(collector.run(FAST, seen.append))
    while not any(isinstance(e, TextDelta) for e in seen):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    record = collector.record
    assert record.state is FinishState.cancelled
    assert record.text.startswith("t0")
    assert record.ttft_ms is not None and record.latency_ms is not None
    finals = [e for e in seen if isinstance(e, Finished)]
    assert len(finals) == 1 and finals[0].state is FinishState.cancelled


async def test_cancel_while_waiting_for_first_byte(server: FakeOpenAI) -> None:
    collector = ResponseCollector(request(server, "fault/hang_first?hang=30"))
    task = asyncio.create_task(collector.run(FAST))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert collector.record.state is FinishState.cancelled
    assert collector.record.ttft_ms is None


async def test_breaking_out_early_closes_the_stream(server: FakeOpenAI) -> None:
    req = request(server, "fake/tokens?n=100000")
    async with asyncio.timeout(10):
        agen = stream(req, FAST)
        async for event in agen:
            if isinstance(event, TextDelta):
                break
        await agen.aclose()
    # the server is still healthy for the next request
    record = await collect(request(server, "fake/tokens?n=3"), FAST)
    assert record.state is FinishState.complete


# --------------------------------------------------------------------------- secrets


async def test_error_echoing_the_key_is_redacted(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = (
        "sentinel-key-7f3a9c1e5b"  # no "sk-" shape: only the env-value redaction can catch it
    )
    monkeypatch.setenv("GC_TEST_KEY", sentinel)
    seen: list[object] = []
    record = await collect(request(server, "fault/echo_key"), FAST, seen.append)
    assert server.last_headers["authorization"] == f"Bearer {sentinel}"  # the key was really sent
    assert record.state is FinishState.error
    assert record.error_type == "AuthenticationError"
    assert "Incorrect API key" in record.error
    assert sentinel not in repr(record.to_row())
    assert sentinel not in repr(seen)
    assert "[REDACTED]" in record.error


async def test_key_under_a_name_that_does_not_look_secret_is_still_redacted(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    sentinel = "zz-plain-value-4242-abcdef"
    monkeypatch.setenv("GC_TEST_MODEL_ACCESS", sentinel)  # no KEY/TOKEN in the name
    req = ModelRequest(
        alias="m",
        model="openai/fault/echo_key?status=500",
        messages=MESSAGES,
        api_base=server.base_url,
        api_key_env="GC_TEST_MODEL_ACCESS",
    )
    events = await events_of(req, Timeouts(max_retries=1, first_token=5, total=20))
    assert server.last_headers["authorization"] == f"Bearer {sentinel}"
    assert sentinel not in repr(events)
    assert events[-1].state is FinishState.error


async def test_no_silent_fallback_to_another_model(server: FakeOpenAI) -> None:
    params = {
        "fallbacks": ["openai/fake/echo"],
        "num_retries": 5,
        "max_retries": 5,
        "context_window_fallback_dict": {"openai/fault/context": "openai/fake/echo"},
    }
    for model in ("fault/400", "fault/context"):
        record = await collect(request(server, model, params=params), FAST)
        assert record.state is FinishState.error
    assert server.requests == {"fault/400": 1, "fault/context": 1}
    assert "fallbacks" not in server.last_body and "num_retries" not in server.last_body


async def test_server_counts_requests_over_http(server: FakeOpenAI) -> None:
    import httpx

    await collect(request(server, "fake/echo"), FAST)
    async with httpx.AsyncClient() as client:
        stats = (await client.get(f"{server.base_url}/stats")).json()
    assert stats == {"requests": {"fake/echo": 1}, "total": 1}


def test_fake_server_runs_as_a_subprocess() -> None:
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().split()[1])
        body = {"model": "fake/tokens?n=3", "messages": MESSAGES}
        reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body).json()
        assert reply["choices"][0]["message"]["content"] == "t0 t1 t2"
    finally:
        proc.terminate()
        proc.wait(5)
