"""The lean Anthropic Messages client (providers/backends/anthropic.py) against a fake server that
speaks the real wire format: events, finish states, usage, retries, timeouts, redaction, routing,
cost, and ``genaicompare run`` end to end. litellm on the same server is the reference where
both read the stream the same way."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genaicompare.providers.backends import anthropic, backend_for, prices
from genaicompare.providers.backends.litellm import stream as litellm_stream
from genaicompare.providers.backends.litellm import warm_up
from genaicompare.providers.collect import collect
from genaicompare.providers.events import Finished, FinishState, ModelRequest, Retrying, TextDelta
from tests.support.fake_anthropic import FakeAnthropic
from tests.support.native import KEY, KEY_ENV, T, events, request, run_catalog, shape, timed

P = "anthropic/"
# Scenarios litellm reads exactly as we do: the same text, usage, finish, retries and requests.
SAME_AS_LITELLM = [
    "tokens?n=5",
    "echo",
    "length",
    "stop_sequence",
    "refusal",
    "cache",
    "thinking",
    "429?retry_after=0.2",
    "529?retry_after=0.2",
    "500",
    "401",
    "400",
    "context",
    "drop",
    "hang_first",
    "hang_mid",
    "error_first",
]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("GENAICOMPARE_NATIVE", raising=False)
    monkeypatch.delenv("GENAICOMPARE_FAST_PATH", raising=False)


def req(server: FakeAnthropic, scenario: str, **kw: Any) -> ModelRequest:
    return request(P, scenario, server.base_url, **kw)


def run(server: FakeAnthropic, scenario: str, **kw: Any) -> list[Any]:
    server.reset()
    return events(anthropic.stream, req(server, scenario, **kw))


@pytest.mark.parametrize("scenario", SAME_AS_LITELLM)
def test_same_events_as_litellm(server: FakeAnthropic, scenario: str) -> None:
    warm_up()
    request = req(server, scenario)
    assert backend_for(request) is anthropic.stream
    server.reset()
    reference = shape(events(litellm_stream, request))
    reference_requests = server.total_requests
    server.reset()
    ours = shape(events(anthropic.stream, request))
    if scenario == "error_first":  # we name the provider's error event; litellm wraps it
        assert ours.pop("error_type") == "api_error"
        assert reference.pop("error_type") == "MidStreamFallbackError"
    assert ours == reference
    assert server.total_requests == reference_requests


@pytest.mark.parametrize(
    ("scenario", "state", "finish_reason", "text"),
    [
        ("tokens?n=3", "complete", "stop", "t0 t1 t2"),
        ("stop_sequence?n=2", "complete", "stop", "t0 t1"),
        ("length?n=2", "length", "length", "t0 t1"),
        ("refusal?after=2", "content_filter", "content_filter", "t0 t1"),
        ("thinking?n=2", "complete", "stop", "t0 t1"),  # thinking deltas are not answer text
    ],
)
def test_finish_states(
    server: FakeAnthropic, scenario: str, state: str, finish_reason: str, text: str
) -> None:
    got = shape(run(server, scenario))
    assert (got["state"], got["finish_reason"], got["text"]) == (state, finish_reason, text)
    assert got["error_type"] is None and got["retrying"] == []


def test_usage_is_input_plus_cache_tokens_and_output(server: FakeAnthropic) -> None:
    # "be brief" + "one two three": 5 input words; cache reads 7 and writes 5 count as prompt.
    assert shape(run(server, "tokens?n=4"))["usage"] == [(5, 4)]
    assert shape(run(server, "cache?n=4"))["usage"] == [(17, 4)]


def test_the_request_on_the_wire(server: FakeAnthropic) -> None:
    out = run(server, "tokens?n=1", params={"temperature": 0.3, "max_tokens": 50, "stop": "END"})
    assert isinstance(out[-1], Finished) and out[-1].state is FinishState.complete
    headers = server.last_headers
    assert headers["x-api-key"] == KEY and headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers
    body = server.last_body
    assert body["stream"] is True and body["model"] == "tokens?n=1"
    assert body["system"] == "be brief"  # top-level, not a message
    assert body["messages"] == [{"role": "user", "content": "one two three"}]
    assert (body["max_tokens"], body["temperature"], body["stop_sequences"]) == (50, 0.3, ["END"])


def test_max_tokens_defaults_to_the_models_output_limit(server: FakeAnthropic) -> None:
    # Anthropic requires max_tokens; like litellm, the price map's limit, else 128000.
    assert anthropic.body(req(server, "x"))["max_tokens"] == 128_000
    sonnet = ModelRequest(alias="s", model="anthropic/claude-sonnet-4-5", messages=[])
    assert anthropic.body(sonnet)["max_tokens"] == prices.max_output_tokens(sonnet.model) == 64000
    truncated = shape(run(server, "tokens?n=10", params={"max_tokens": 3}))
    assert (truncated["state"], truncated["text"]) == ("length", "t0 t1 t2")


def test_overloaded_mid_stream_is_a_named_error_keeping_the_text(server: FakeAnthropic) -> None:
    out = run(server, "overloaded?after=2")
    got = shape(out)
    assert (got["state"], got["error_type"], got["text"]) == ("error", "overloaded_error", "t0 t1")
    assert got["retrying"] == [] and server.total_requests == 1  # never a retry after text
    assert "Overloaded" in (out[-1].error or "")


def test_an_error_event_before_any_text_is_retried(server: FakeAnthropic) -> None:
    got = shape(run(server, "error_first"))
    assert got["retrying"] == [1, 2] and server.total_requests == 3
    assert (got["state"], got["error_type"]) == ("error", "api_error")


@pytest.mark.parametrize("scenario", ["429?retry_after=0.6", "529?retry_after=0.6"])
def test_retry_after_is_honoured(server: FakeAnthropic, scenario: str) -> None:
    server.reset()
    out, seconds = timed(anthropic.stream, req(server, scenario))
    retrying = [e for e in out if isinstance(e, Retrying)]
    assert [r.delay for r in retrying] == [0.6] and seconds >= 0.6
    assert shape(out)["state"] == "complete" and server.total_requests == 2


def test_4xx_is_not_retried(server: FakeAnthropic) -> None:
    for scenario, etype in [
        ("401", "AuthenticationError"),
        ("400", "BadRequestError"),
        ("context", "ContextWindowExceededError"),
    ]:
        got = shape(run(server, scenario))
        assert (got["state"], got["error_type"], got["retrying"]) == ("error", etype, [])
        assert server.total_requests == 1


def test_timeouts(server: FakeAnthropic) -> None:
    first = shape(run(server, "hang_first"))
    assert (first["state"], first["error_type"]) == ("timeout", "first_token")
    mid = shape(run(server, "hang_mid?after=2"))
    assert (mid["state"], mid["error_type"], mid["text"]) == ("timeout", "between_chunks", "t0 t1")


def test_broken_streams(server: FakeAnthropic) -> None:
    assert shape(run(server, "drop?after=2"))["error_type"] == "MidStreamFallbackError"
    malformed = run(server, "malformed?after=2")
    assert "not JSON" in (malformed[-1].error or "")
    assert shape(run(server, "no_finish?n=2"))["error_type"] == "no_finish"


def test_keys_are_redacted(server: FakeAnthropic) -> None:
    echoed = run(server, "echo_key")
    assert isinstance(echoed[-1], Finished) and echoed[-1].error
    assert KEY not in echoed[-1].error and "[REDACTED]" in echoed[-1].error
    reflected = shape(run(server, "echo_auth?chunk=3"))  # the key split across deltas
    assert KEY not in reflected["text"] and "you sent:" in reflected["text"]


def test_no_key_for_anthropics_own_host_fails_without_a_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    bare = ModelRequest(alias="a", model="anthropic/claude-sonnet-4-5", messages=[])
    assert anthropic.url_for(None) == "https://api.anthropic.com/v1/messages"
    final = events(anthropic.stream, bare)[-1]
    assert (final.state, final.error_type) == (FinishState.error, "AuthenticationError")
    assert "ANTHROPIC_API_KEY" in (final.error or "")


def test_api_base_forms() -> None:
    assert anthropic.url_for("http://gw:8080") == "http://gw:8080/v1/messages"
    assert anthropic.url_for("http://gw:8080/v1/") == "http://gw:8080/v1/messages"
    assert anthropic.url_for("http://gw/x/v1/messages") == "http://gw/x/v1/messages"


def test_routing(server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    assert backend_for(req(server, "x")) is anthropic.stream
    assert backend_for(req(server, "x", params={"tools": []})) is litellm_stream
    bare = ModelRequest(alias="a", model="anthropic/claude-sonnet-4-5", messages=[])
    assert backend_for(bare) is anthropic.stream  # Anthropic's own host, no api_base needed
    monkeypatch.setenv("GENAICOMPARE_NATIVE", "0")
    assert backend_for(req(server, "x")) is litellm_stream
    monkeypatch.setenv("GENAICOMPARE_NATIVE", "1")
    monkeypatch.setenv("GENAICOMPARE_FAST_PATH", "0")
    assert backend_for(req(server, "x")) is litellm_stream


def test_cancel_stops_the_request(server: FakeAnthropic) -> None:
    server.reset()
    request = req(server, "tokens?n=400&delay=0.02")
    seen: list[Any] = []

    async def main() -> None:
        task = asyncio.create_task(collect(request, T, on_event=seen.append))
        while not any(isinstance(e, TextDelta) for e in seen):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):  # the server sees the connection close
            if server.in_flight[request.model.removeprefix(P)] == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the request kept streaming after the cancel")

    asyncio.run(main())
    assert seen[-1].state is FinishState.cancelled


@pytest.mark.parametrize(
    ("model", "tokens_in", "tokens_out"),
    [
        ("anthropic/claude-sonnet-4-5", 1200, 340),
        ("anthropic/claude-haiku-4-5", 10, 1),
        ("anthropic/claude-opus-4-6", 250_000, 10),
        ("gemini/gemini-2.5-pro", 1200, 340),
        ("gemini/gemini-2.5-pro", 250_000, 1000),  # the above-200k tier
        ("gemini/gemini-2.5-flash", 5, 7),
        ("gemini/gemini-exp-1206", 150_000, 10),  # the above-128k tier
    ],
)
def test_cost_is_litellms(model: str, tokens_in: int, tokens_out: int) -> None:
    litellm = __import__("litellm")
    assert prices.entry(model) is not None, model
    expected = sum(
        litellm.cost_per_token(model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out)
    )
    assert prices.cost_usd(model, tokens_in, tokens_out) == pytest.approx(expected, rel=1e-9)
    assert prices.cost_usd("anthropic/not-a-model", 1, 1) is None


def test_genaicompare_run(tmp_path: Path, server: FakeAnthropic) -> None:
    server.reset()
    doc, rows, written = run_catalog(tmp_path, "anthropic/claude-sonnet-4-5", server.base_url)
    # $3 / $15 per million tokens (litellm's price map), without litellm loaded in the run.
    assert [r[:6] for r in rows] == [
        ("p1", "complete", "stop", 5, 20, pytest.approx((5 * 3 + 20 * 15) / 1e6)),
        ("p2", "complete", "stop", 2, 20, pytest.approx((2 * 3 + 20 * 15) / 1e6)),
    ]
    assert {r["state"] for r in doc["responses"]} == {"complete"}
    assert server.seen_headers[0]["headers"]["x-api-key"] == KEY
    assert server.last_body["model"] == "claude-sonnet-4-5"
    assert KEY.encode() not in written


def test_genaicompare_run_redacts_an_echoed_key(tmp_path: Path, server: FakeAnthropic) -> None:
    _, rows, written = run_catalog(tmp_path, "anthropic/echo_key", server.base_url)
    assert {r[1] for r in rows} == {"error"}
    assert all("[REDACTED]" in (r[6] or "") for r in rows)
    assert KEY.encode() not in written
    assert os.environ.get(KEY_ENV) == KEY
