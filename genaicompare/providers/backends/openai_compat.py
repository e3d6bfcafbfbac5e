"""A lean streaming client for OpenAI-compatible endpoints (``openai/…`` + ``api_base``).

Why it exists: litellm spends ≈0.8 ms of CPU per streamed chunk, so a headless batch of many
concurrent streams saturates one core long before the network does (200 prompts × 2 models at
``-j 16``: 3.6× the ideal). httpx alone still cost ≈200 µs per chunk here (h11 events + anyio).
This client speaks HTTP/1.1 on asyncio streams with a hand-rolled chunked/SSE reader (≈40 µs per
chunk, measured by ``benchmarks/bench_headless.py``; shared with the Anthropic and Gemini clients in
:mod:`.sse`) and yields *the same events* as the litellm
path: the same :class:`~genaicompare.providers.events.Finished` states for every fault (429/5xx
retried before the first token with Retry-After honoured up to ``max_retry_after``; no retry on
other 4xx; mid-stream drops, malformed SSE, in-band errors, a missing finish, hangs), the same
usage and the same reported model; ``error_type`` uses litellm's exception class names.

It is only used where it is exactly equivalent: ``openai/<name>`` model strings with an explicit
``http(s)://`` ``api_base`` (vLLM, llama.cpp server, LM Studio, a LiteLLM Proxy, the test server),
only parameters an OpenAI-compatible server takes, and no HTTP proxy configured for that host.
Everything else goes through litellm. ``GENAICOMPARE_FAST_PATH=0`` turns it off.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from genaicompare.providers.backends import sse
from genaicompare.providers.events import (
    NO_KEY,
    Event,
    FinishState,
    ModelRequest,
    Timeouts,
    Usage,
)

# Parameters an OpenAI-compatible server takes verbatim; anything else (litellm-specific options)
# sends the request down the litellm path instead.
_PASS_THROUGH = frozenset(
    {
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "top_p",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "logit_bias",
        "user",
        "response_format",
    }
)


def enabled() -> bool:
    return sse.enabled()


def supports(request: ModelRequest) -> bool:
    """True when this client is exactly equivalent to litellm for ``request``."""
    if not enabled() or not request.model.startswith("openai/") or not request.api_base:
        return False
    return sse.direct_url(request.api_base) and all(k in _PASS_THROUGH for k in request.params)


def _api_key(request: ModelRequest) -> str:
    """:func:`~genaicompare.providers.events.api_key_for` (the one key rule), else litellm's
    ``no-key`` placeholder: the litellm path sends exactly this header for the same model."""
    return request.api_key() or NO_KEY


def _body(request: ModelRequest) -> dict[str, Any]:
    return {
        "model": request.model.removeprefix("openai/"),
        "messages": request.messages,
        **request.params,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


class _Decoder(sse.Decoder):
    __slots__ = ()

    def feed(self, chunk: dict[str, Any]) -> str | None:
        if "error" in chunk and not chunk.get("choices"):
            err = chunk["error"]
            raise sse.InBandError(str(err.get("message") if isinstance(err, dict) else err))
        self.reported = chunk.get("model") or self.reported
        u = chunk.get("usage")
        if u:
            self.usage = Usage(u.get("prompt_tokens"), u.get("completion_tokens"))
        text: str | None = None
        for choice in chunk.get("choices") or ():
            content = (choice.get("delta") or {}).get("content")
            if content:
                text = content if text is None else text + content
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return text


class _OpenAIWire(sse.Wire):
    finish_states = {
        "stop": FinishState.complete,
        "tool_calls": FinishState.complete,
        "function_call": FinishState.complete,
        "eos": FinishState.complete,
        "length": FinishState.length,
        "content_filter": FinishState.content_filter,
    }

    def decoder(self) -> sse.Decoder:
        return _Decoder()


_WIRE = _OpenAIWire()


def stream(request: ModelRequest, timeouts: Timeouts | None = None) -> AsyncGenerator[Event, None]:
    """Yield :class:`Started`, :class:`TextDelta` …, at most one :class:`Usage`, then exactly
    one :class:`Finished` (:func:`.sse.stream_sse`)."""
    url = (request.api_base or "").rstrip("/") + "/chat/completions"
    headers = {"authorization": f"Bearer {_api_key(request)}"}
    return sse.stream_sse(_WIRE, url, headers, _body(request), timeouts)
