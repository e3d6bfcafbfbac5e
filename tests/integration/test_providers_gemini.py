"""The lean Gemini client (providers/backends/gemini.py) against a fake server that speaks the real
``streamGenerateContent?alt=sse`` wire format: events, finish states, usage, retries, timeouts,
redaction, routing, and ``genaicompare run`` end to end. litellm on the same server is the
reference where both read the stream the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genaicompare.providers.backends import backend_for, gemini
from genaicompare.providers.backends.litellm import stream as litellm_stream
from genaicompare.providers.backends.litellm import warm_up
from genaicompare.providers.collect import collect
from genaicompare.providers.events import Finished, FinishState, ModelRequest, Retrying, TextDelta
from tests.support.fake_gemini import FakeGemini
from tests.support.native import KEY, KEY_ENV, T, events, request, run_catalog, shape, timed

P = "gemini/"
# Scenarios litellm reads exactly as we do (options after ';': litellm puts the model in the URL
# path unencoded).
SAME_AS_LITELLM = [
    "tokens;n=5",
    "length",
    "safety",
    "recitation",
    "blocked",
    "thoughts",
    "429;retry_after=0.2",
    "429;retry_after=0.2;header=1",
    "500;fails=1",
    "503",
    "400",
    "401",
    "403",
    "drop",
    "hang_first",
    "hang_mid",
]

# (ours, litellm's) error_type where litellm's class does not say what happened.
NAMED_BY_STATUS = {
    "503": ("ServiceUnavailableError", "MidStreamFallbackError"),
    "403": ("PermissionDeniedError", "BadRequestError"),
}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGemini]:
    with FakeGemini() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("GENAICOMPARE_NATIVE", raising=False)
    monkeypatch.delenv("GENAICOMPARE_FAST_PATH", raising=False)


def req(server: FakeGemini, scenario: str, **kw: Any) -> ModelRequest:
    return request(P, scenario, server.base_url, **kw)


def run(server: FakeGemini, scenario: str, **kw: Any) -> list[Any]:
    server.reset()
    return events(gemini.stream, req(server, scenario, **kw))


@pytest.mark.parametrize("scenario", SAME_AS_LITELLM)
def test_same_events_as_litellm(server: FakeGemini, scenario: str) -> None:
    warm_up()
    request = req(server, scenario)
    assert backend_for(request) is gemini.stream
    server.reset()
    reference = shape(events(litellm_stream, request))
    reference_requests = server.total_requests
    server.reset()
    ours = shape(events(gemini.stream, request))
    if scenario in NAMED_BY_STATUS:  # we name these by their HTTP status, as for OpenAI
        assert (ours.pop("error_type"), reference.pop("error_type")) == NAMED_BY_STATUS[scenario]
    assert ours == reference
    assert server.total_requests == reference_requests


@pytest.mark.parametrize(
    ("scenario", "state", "finish_reason", "text"),
    [
        ("tokens?n=3", "complete", "stop", "t0 t1 t2"),
        ("echo", "complete", "stop", "one two three"),
        ("length?n=2", "length", "length", "t0 t1"),
        ("safety?after=2", "content_filter", "content_filter", "t0 t1"),
        ("recitation?after=1", "content_filter", "content_filter", "t0"),
        ("blocked", "content_filter", "content_filter", ""),  # promptFeedback.blockReason
        ("thoughts?n=2", "complete", "stop", "t0 t1"),  # thought parts are not answer text
    ],
)
def test_finish_states(
    server: FakeGemini, scenario: str, state: str, finish_reason: str, text: str
) -> None:
    got = shape(run(server, scenario))
    assert (got["state"], got["finish_reason"], got["text"]) == (state, finish_reason, text)
    assert got["error_type"] is None and got["retrying"] == []


def test_usage_is_the_last_usage_metadata(server: FakeGemini) -> None:
    assert shape(run(server, "tokens?n=4"))["usage"] == [(5, 4)]
    # thoughtsTokenCount counts as completion when candidatesTokenCount excludes it (litellm).
    assert shape(run(server, "thoughts?n=4"))["usage"] == [(5, 8)]


def test_the_request_on_the_wire(server: FakeGemini) -> None:
    params = {"temperature": 0.3, "max_tokens": 50, "top_p": 0.9, "stop": ["END"]}
    out = run(server, "tokens?n=1", params=params)
    assert isinstance(out[-1], Finished) and out[-1].state is FinishState.complete
    seen = server.seen_headers[-1]
    assert seen["path"].endswith(":streamGenerateContent?alt=sse")
    assert seen["path"].startswith("/v1beta/models/")
    assert seen["headers"]["x-goog-api-key"] == KEY and "authorization" not in seen["headers"]
    body = server.last_body
    assert body["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert body["contents"] == [{"role": "user", "parts": [{"text": "one two three"}]}]
    assert body["generationConfig"] == {
        "temperature": 0.3,
        "maxOutputTokens": 50,
        "topP": 0.9,
        "stopSequences": ["END"],
    }
    history = gemini.body(
        ModelRequest(
            alias="h",
            model="gemini/x",
            messages=[
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
                {"role": "user", "content": "c"},
            ],
        )
    )
    assert [t["role"] for t in history["contents"]] == ["user", "model", "user"]
    truncated = shape(run(server, "tokens?n=10", params={"max_tokens": 3}))
    assert (truncated["state"], truncated["text"]) == ("length", "t0 t1 t2")


def test_an_in_band_error_is_named(server: FakeGemini) -> None:
    got = shape(run(server, "inband_error?after=2"))
    assert (got["state"], got["error_type"], got["text"]) == ("error", "INTERNAL", "t0 t1")
    assert got["retrying"] == [] and server.total_requests == 1


@pytest.mark.parametrize("scenario", ["429?retry_after=0.6", "429?retry_after=0.6&header=1"])
def test_retry_delay_is_honoured(server: FakeGemini, scenario: str) -> None:
    # RetryInfo.retryDelay in the google.rpc body, or a Retry-After header.
    server.reset()
    out, seconds = timed(gemini.stream, req(server, scenario))
    assert [e.delay for e in out if isinstance(e, Retrying)] == [0.6] and seconds >= 0.6
    assert shape(out)["state"] == "complete" and server.total_requests == 2


def test_errors(server: FakeGemini) -> None:
    for scenario, etype in [
        ("401", "AuthenticationError"),
        ("400", "BadRequestError"),
        ("403", "PermissionDeniedError"),
    ]:
        got = shape(run(server, scenario))
        assert (got["state"], got["error_type"], got["retrying"]) == ("error", etype, [])
    always = shape(run(server, "503"))
    assert (always["error_type"], always["retries"]) == ("ServiceUnavailableError", 2)


def test_timeouts_and_broken_streams(server: FakeGemini) -> None:
    assert shape(run(server, "hang_first"))["error_type"] == "first_token"
    assert shape(run(server, "hang_mid?after=2"))["error_type"] == "between_chunks"
    assert shape(run(server, "drop?after=2"))["error_type"] == "MidStreamFallbackError"
    # Stricter than litellm, which drops an unparseable event and calls the answer complete.
    malformed = run(server, "malformed?after=2")
    assert "not JSON" in (malformed[-1].error or "")
    assert shape(run(server, "no_finish?n=2"))["error_type"] == "no_finish"


def test_keys_are_redacted(server: FakeGemini) -> None:
    echoed = run(server, "echo_key")
    assert isinstance(echoed[-1], Finished) and echoed[-1].error
    assert KEY not in echoed[-1].error and "[REDACTED]" in echoed[-1].error
    reflected = shape(run(server, "echo_auth?chunk=3"))
    assert KEY not in reflected["text"] and "you sent:" in reflected["text"]


def test_own_host_and_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    bare = ModelRequest(alias="g", model="gemini/gemini-2.5-flash", messages=[])
    assert gemini.url_for(bare) == (
        "https://generativelanguage.googleapis.com/v1beta/models/"
        "gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    final = events(gemini.stream, bare)[-1]
    assert (final.state, final.error_type) == (FinishState.error, "AuthenticationError")
    monkeypatch.setenv("GOOGLE_API_KEY", "g-key")
    assert gemini.api_key(bare) == "g-key"
    monkeypatch.setenv("GEMINI_API_KEY", "gem-key")
    assert gemini.api_key(bare) == "gem-key"
    # An api_base that is not Google's own host never gets the user's Gemini key.
    gateway = ModelRequest(alias="g", model="gemini/x", messages=[], api_base="http://gw:1/v1beta")
    assert gemini.api_key(gateway) is None


def test_routing(server: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> None:
    assert backend_for(req(server, "x")) is gemini.stream
    assert backend_for(req(server, "x", params={"safety_settings": []})) is litellm_stream
    monkeypatch.setenv("GENAICOMPARE_NATIVE", "0")
    assert backend_for(req(server, "x")) is litellm_stream


def test_cancel_stops_the_request(server: FakeGemini) -> None:
    server.reset()
    request = req(server, "tokens;n=400;delay=0.02")
    seen: list[Any] = []

    async def main() -> None:
        task = asyncio.create_task(collect(request, T, on_event=seen.append))
        while not any(isinstance(e, TextDelta) for e in seen):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(100):
            if server.in_flight["tokens;n=400;delay=0.02"] == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the request kept streaming after the cancel")

    asyncio.run(main())
    assert seen[-1].state is FinishState.cancelled


def test_genaicompare_run(tmp_path: Path, server: FakeGemini) -> None:
    server.reset()
    doc, rows, written = run_catalog(tmp_path, "gemini/gemini-2.5-flash", server.base_url)
    # $0.30 / $2.50 per million tokens (litellm's price map), without litellm loaded in the run.
    assert [r[:6] for r in rows] == [
        ("p1", "complete", "stop", 5, 20, pytest.approx((5 * 0.3 + 20 * 2.5) / 1e6)),
        ("p2", "complete", "stop", 2, 20, pytest.approx((2 * 0.3 + 20 * 2.5) / 1e6)),
    ]
    assert {r["state"] for r in doc["responses"]} == {"complete"}
    assert KEY.encode() not in written


def test_genaicompare_run_redacts_an_echoed_key(tmp_path: Path, server: FakeGemini) -> None:
    _, rows, written = run_catalog(tmp_path, "gemini/echo_key", server.base_url)
    assert {r[1] for r in rows} == {"error"}
    assert all("[REDACTED]" in (r[6] or "") for r in rows)
    assert KEY.encode() not in written
