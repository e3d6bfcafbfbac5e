"""A lean streaming client for Google's Gemini API (``gemini/gemini-…``, Google AI Studio).

``POST {api_base}/models/{model}:streamGenerateContent?alt=sse`` with ``x-goog-api-key``; the
body has ``contents`` (roles ``user`` / ``model``), ``systemInstruction`` and
``generationConfig`` (temperature, maxOutputTokens, topP, topK, stopSequences, seed,
presence/frequency penalties). Every ``data:`` object is a ``GenerateContentResponse``: the text
of ``candidates[0].content.parts[]`` (``thought`` parts are reasoning, not answer text, as in
litellm), ``finishReason`` (STOP → ``stop``, MAX_TOKENS → ``length``, SAFETY / RECITATION /
BLOCKLIST / PROHIBITED_CONTENT / SPII / OTHER … → ``content_filter``: litellm's normalised
reasons), ``usageMetadata`` (the last one wins: prompt = ``promptTokenCount``, completion =
``candidatesTokenCount`` plus ``thoughtsTokenCount`` when not already included, as litellm
counts), ``modelVersion``; ``promptFeedback.blockReason`` (the prompt itself blocked) is
``content_filter``; a ``data: {"error": …}`` is ``Finished(error)`` named by its ``status``.
HTTP 429/5xx are retried before the first token honouring ``Retry-After`` or the body's
``RetryInfo.retryDelay`` (:mod:`.sse`).

``api_base`` replaces ``https://generativelanguage.googleapis.com/v1beta`` (as in litellm: the
base up to the API version). ``GENAICOMPARE_NATIVE=0`` sends these models through litellm.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote

from genaicompare.providers.backends import sse
from genaicompare.providers.events import Event, FinishState, ModelRequest, Timeouts, Usage

PREFIX = "gemini/"
DEFAULT_BASE = "https://generativelanguage.googleapis.com/v1beta"
KEY_ENVS = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_CONFIG = {
    "temperature": "temperature",
    "max_tokens": "maxOutputTokens",
    "max_completion_tokens": "maxOutputTokens",
    "top_p": "topP",
    "top_k": "topK",
    "seed": "seed",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
}
_PARAMS = frozenset({*_CONFIG, "stop"})
_FILTERED = (
    "SAFETY",
    "RECITATION",
    "LANGUAGE",
    "OTHER",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
    "IMAGE_OTHER",
    "NO_IMAGE",
    "ESCALATION",
)
# google.rpc statuses of a mid-stream error that a new attempt may not meet (before any text only).
_RETRYABLE = frozenset({"INTERNAL", "UNAVAILABLE", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"})
# finishReason → the finish_reason litellm reports (core_helpers.map_finish_reason); unknown: stop.
_REASONS = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",
    **dict.fromkeys(_FILTERED, "content_filter"),
}


def supports(request: ModelRequest) -> bool:
    """True for ``gemini/…`` requests this client translates exactly."""
    return sse.native_supports(request, PREFIX, _PARAMS, DEFAULT_BASE)


def url_for(request: ModelRequest) -> str:
    base = (request.api_base or DEFAULT_BASE).rstrip("/")
    model = quote(request.model.removeprefix(PREFIX), safe="/;=,-._~")
    return f"{base}/models/{model}:streamGenerateContent?alt=sse"


def api_key(request: ModelRequest) -> str | None:
    """``GEMINI_API_KEY`` (or ``GOOGLE_API_KEY``) for Google's own host, else the key rule."""
    return sse.native_key(request, KEY_ENVS)


def body(request: ModelRequest) -> dict[str, Any]:
    system = [m["content"] for m in request.messages if m["role"] == "system"]
    out: dict[str, Any] = {
        "contents": [
            {
                "role": "model" if m["role"] == "assistant" else "user",
                "parts": [{"text": m["content"]}],
            }
            for m in request.messages
            if m["role"] != "system"
        ]
    }
    if system:
        out["systemInstruction"] = {"parts": [{"text": s} for s in system]}
    config = {_CONFIG[k]: v for k, v in request.params.items() if k in _CONFIG}
    if "stop" in request.params:
        stop = request.params["stop"]
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    if config:
        out["generationConfig"] = config
    return out


class _Decoder(sse.Decoder):
    __slots__ = ()

    def feed(self, chunk: dict[str, Any]) -> str | None:
        if "error" in chunk:
            err = chunk["error"]
            if isinstance(err, dict):
                kind = str(err.get("status") or err.get("code") or "error")
                raise sse.InBandError(
                    f"{kind}: {err.get('message')}", kind=kind, retryable=kind in _RETRYABLE
                )
            raise sse.InBandError(str(err))
        self.reported = chunk.get("modelVersion") or self.reported
        meta = chunk.get("usageMetadata")
        if isinstance(meta, dict):
            self.usage = _usage(meta)
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self.finish_reason = "content_filter"
        candidates = chunk.get("candidates")
        if not candidates:
            return None
        candidate = candidates[0]
        text: str | None = None
        for part in (candidate.get("content") or {}).get("parts") or ():
            piece = part.get("text")
            if piece and not part.get("thought"):
                text = piece if text is None else text + piece
        reason = candidate.get("finishReason")
        if reason:
            self.finish_reason = _REASONS.get(reason, "stop")
        return text


def _usage(meta: dict[str, Any]) -> Usage:
    prompt = int(meta.get("promptTokenCount") or 0)
    completion = int(meta.get("candidatesTokenCount") or 0)
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    tool = int(meta.get("toolUsePromptTokenCount") or 0)
    inclusive = prompt + completion + tool == int(meta.get("totalTokenCount") or 0)
    if thoughts and not inclusive:
        completion += thoughts
    return Usage(prompt, completion)


def _retry_delay(body: bytes) -> float | None:
    """``RetryInfo.retryDelay`` (``"12s"``, ``"1.5s"``) from a google.rpc error body."""
    try:
        details = json.loads(body).get("error", {}).get("details") or []
        for detail in details:
            if str(detail.get("@type", "")).endswith("RetryInfo"):
                return float(str(detail.get("retryDelay", "")).removesuffix("s"))
    except (ValueError, AttributeError, TypeError):
        return None
    return None


class _GeminiWire(sse.Wire):
    finish_states = {
        "stop": FinishState.complete,
        "length": FinishState.length,
        "content_filter": FinishState.content_filter,
    }

    def decoder(self) -> sse.Decoder:
        return _Decoder()

    def error_type(self, status: int, body: bytes) -> str:
        if status == 400 and b"API key not valid" in body:
            return "AuthenticationError"  # Google answers a bad key with 400, litellm names it
        if status == 400 and b"exceeds the maximum number of tokens" in body:
            return "ContextWindowExceededError"
        return super().error_type(status, body)

    def retry_after(self, headers: dict[str, str], body: bytes, attempt: int, cap: float) -> float:
        hinted = sse.retry_after_header(headers, cap)
        if hinted is None and (delay := _retry_delay(body)) is not None:
            hinted = min(cap, max(0.0, delay))
        return sse.backoff(attempt, cap) if hinted is None else hinted


_WIRE = _GeminiWire()


def stream(request: ModelRequest, timeouts: Timeouts | None = None) -> AsyncGenerator[Event, None]:
    """Started, TextDelta…, at most one Usage, exactly one Finished (:func:`.sse.stream_sse`)."""
    key = api_key(request)
    if key is None and not request.api_base:
        return sse.missing_key(KEY_ENVS[0])
    headers = {} if key is None else {"x-goog-api-key": key}
    return sse.stream_sse(_WIRE, url_for(request), headers, body(request), timeouts)
