"""A lean streaming client for Anthropic's Messages API (``anthropic/claude-…``).

``POST {api_base}/v1/messages`` with ``stream: true``, ``x-api-key`` and ``anthropic-version``;
the system prompt goes top-level (``system``). Events read (the ``type`` of each ``data:``
object, which repeats the SSE ``event:`` name): ``message_start`` (model, ``usage.input_tokens``
plus cache reads/writes, as litellm counts prompt tokens), ``content_block_start`` /
``content_block_delta`` (``text_delta`` is text; thinking, signature and tool-input deltas are
not answer text and are skipped, as litellm keeps them out of ``content``), ``message_delta``
(``stop_reason`` → litellm's normalised finish_reason: end_turn/stop_sequence → ``stop``,
max_tokens → ``length``, refusal → ``content_filter``; cumulative ``usage.output_tokens``),
``ping`` and ``message_stop`` (nothing to do), and ``error`` — ``overloaded_error``,
``api_error`` … mid-stream: ``Finished(error)`` with ``error_type`` the provider's error type.
HTTP 429/529/5xx are retried before the first token honouring ``retry-after``
(:mod:`.sse`, shared with the OpenAI-compatible and Gemini clients).

Used for ``anthropic/…`` models with only the parameters below and plain text messages;
``api_base`` overrides the host (a gateway, the test server). ``GENAICOMPARE_NATIVE=0`` (or
``GENAICOMPARE_FAST_PATH=0``) sends them through litellm instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from genaicompare.providers.backends import prices, sse
from genaicompare.providers.events import (
    Event,
    FinishState,
    ModelRequest,
    Timeouts,
    Usage,
)

PREFIX = "anthropic/"
DEFAULT_BASE = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
KEY_ENV = "ANTHROPIC_API_KEY"
# litellm's default when the price map does not know the model's output limit.
_DEFAULT_MAX_TOKENS = 128_000
_PARAMS = frozenset(
    {"temperature", "max_tokens", "max_completion_tokens", "top_p", "top_k", "stop"}
)
# Error event types that a new attempt may not meet (before any text only).
_RETRYABLE = frozenset({"overloaded_error", "api_error", "rate_limit_error"})
# stop_reason → the finish_reason litellm reports (core_helpers.map_finish_reason).
_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "length",
    "compaction": "length",
    "model_context_window_exceeded": "length",
}


def supports(request: ModelRequest) -> bool:
    """True for ``anthropic/…`` requests this client translates exactly."""
    return sse.native_supports(request, PREFIX, _PARAMS, DEFAULT_BASE)


def url_for(api_base: str | None) -> str:
    """``https://api.anthropic.com`` → ``…/v1/messages``; a base naming ``/v1`` or the whole
    ``/v1/messages`` route is completed, not doubled (as litellm does)."""
    base = (api_base or DEFAULT_BASE).rstrip("/")
    if base.endswith("/v1/messages"):
        return base
    if base.endswith("/v1"):
        return base + "/messages"
    return base + "/v1/messages"


def api_key(request: ModelRequest) -> str | None:
    """``ANTHROPIC_API_KEY`` for Anthropic's own host, else the one key rule."""
    return sse.native_key(request, (KEY_ENV,))


def body(request: ModelRequest) -> dict[str, Any]:
    params = request.params
    model = request.model.removeprefix(PREFIX)
    system = [m["content"] for m in request.messages if m["role"] == "system"]
    out: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": m["role"], "content": m["content"]}
            for m in request.messages
            if m["role"] != "system"
        ],
        "max_tokens": params.get("max_tokens")
        or params.get("max_completion_tokens")
        or prices.max_output_tokens(request.model)
        or _DEFAULT_MAX_TOKENS,
        "stream": True,
    }
    if system:
        out["system"] = (
            system[0] if len(system) == 1 else [{"type": "text", "text": s} for s in system]
        )
    for name in ("temperature", "top_p", "top_k"):
        if name in params:
            out[name] = params[name]
    if "stop" in params:
        stop = params["stop"]
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    return out


class _Decoder(sse.Decoder):
    __slots__ = ("_usage",)

    def __init__(self) -> None:
        super().__init__()
        self._usage: dict[str, Any] = {}

    def _add_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        # message_delta's usage is cumulative but may omit what message_start reported.
        self._usage.update({k: v for k, v in usage.items() if v is not None})
        u = self._usage
        prompt = (
            int(u.get("input_tokens") or 0)
            + int(u.get("cache_creation_input_tokens") or 0)
            + int(u.get("cache_read_input_tokens") or 0)
        )
        self.usage = Usage(prompt, int(u.get("output_tokens") or 0))

    def feed(self, chunk: dict[str, Any]) -> str | None:
        kind = chunk.get("type")
        if kind == "content_block_delta":
            delta = chunk.get("delta") or {}
            return delta.get("text") if delta.get("type") == "text_delta" else None
        if kind == "content_block_start":
            block = chunk.get("content_block") or {}
            return block.get("text") if block.get("type") == "text" else None
        if kind == "message_start":
            message = chunk.get("message") or {}
            self.reported = message.get("model") or self.reported
            self._add_usage(message.get("usage"))
        elif kind == "message_delta":
            reason = (chunk.get("delta") or {}).get("stop_reason") or "end_turn"
            self.finish_reason = _REASONS.get(reason, "stop")
            self._add_usage(chunk.get("usage"))
        elif kind == "error":
            err = chunk.get("error") or {}
            etype = str(err.get("type") or "error") if isinstance(err, dict) else "error"
            message = err.get("message") if isinstance(err, dict) else err
            raise sse.InBandError(f"{etype}: {message}", kind=etype, retryable=etype in _RETRYABLE)
        return None


class _AnthropicWire(sse.Wire):
    finish_states = {
        "stop": FinishState.complete,
        "tool_calls": FinishState.complete,
        "length": FinishState.length,
        "content_filter": FinishState.content_filter,
    }

    def decoder(self) -> sse.Decoder:
        return _Decoder()

    def error_type(self, status: int, body: bytes) -> str:
        if status == 400 and b"prompt is too long" in body:
            return "ContextWindowExceededError"
        if status == 529:
            return "InternalServerError"  # overloaded_error: litellm's class for it
        return super().error_type(status, body)


_WIRE = _AnthropicWire()


def stream(request: ModelRequest, timeouts: Timeouts | None = None) -> AsyncGenerator[Event, None]:
    """Started, TextDelta…, at most one Usage, exactly one Finished (:func:`.sse.stream_sse`)."""
    key = api_key(request)
    if key is None and not request.api_base:
        return sse.missing_key(KEY_ENV)
    headers = {"anthropic-version": API_VERSION}
    if key is not None:
        headers["x-api-key"] = key
    return sse.stream_sse(_WIRE, url_for(request.api_base), headers, body(request), timeouts)
