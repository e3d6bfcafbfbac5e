"""One async streaming interface for every model: litellm chunks → typed events.

``stream(request, timeouts)`` yields :class:`TextDelta` events, at most one :class:`Usage` and a
:class:`Retrying` per retry, then exactly one :class:`Finished`. The only exception that escapes is
``asyncio.CancelledError``: a cancelled stream yields nothing more (an async generator cannot yield
while being cancelled), so the consumer — :func:`genaicompare.providers.collect.collect` — records
the ``cancelled`` state itself.

Why our own timeouts and retries instead of litellm's/openai's: their retries run after the first
token too and their timeouts are per socket read, so a server that trickles one byte a minute never
times out. Here the openai client's retries are off (``max_retries=0``) and every wait is bounded by
a deadline (``asyncio.timeout``): connect (httpx), first token, between chunks, and total.

litellm is imported lazily (≈4 s) by :func:`import_litellm`; UIs call
:func:`import_litellm_in_background` after their first paint so the first request does not wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import os
import threading
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

from genaicompare.core.sanitize import SecretFilter, redact, safe_error
from genaicompare.providers import local
from genaicompare.providers.events import (
    DEFAULT_TIMEOUTS,
    NO_KEY,
    Event,
    Finished,
    FinishState,
    ModelRequest,
    Retrying,
    Started,
    TextDelta,
    Timeouts,
    Usage,
    timeout_message,
)

_litellm: Any = None
_warmed = False
_import_lock = threading.Lock()

# litellm fetches these from the network at import time unless told to use its bundled copies.
_OFFLINE_FLAGS = (
    "LITELLM_LOCAL_MODEL_COST_MAP",
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS",
    "LITELLM_LOCAL_BLOG_POSTS",
    "LITELLM_LOCAL_POLICY_TEMPLATES",
)
# Request params that would make litellm retry or switch models behind our back.
_FORBIDDEN_PARAMS = frozenset(
    {
        "fallbacks",
        "context_window_fallback_dict",
        "num_retries",
        "max_retries",
        "stream",
        "stream_options",
        "messages",
        "model",
        "api_key",
        "api_base",
        "base_url",
        "timeout",
        "mock_response",
    }
)
_COMPLETE_REASONS = frozenset(
    {
        "stop",
        "end_turn",
        "stop_sequence",
        "tool_calls",
        "function_call",
        "eos",
        "eos_token",
        "tool_use",
    }
)
_LENGTH_REASONS = frozenset({"length", "max_tokens", "max_output_tokens", "model_length"})
_FILTER_REASONS = frozenset(
    {"content_filter", "safety", "recitation", "blocklist", "prohibited_content", "spii", "refusal"}
)
_NO_FINISH_MESSAGE = "Stream ended before a finish_reason"
# Client-side failures litellm reports as 500s; retrying cannot fix them.
_PERMANENT_MESSAGES = (
    _NO_FINISH_MESSAGE,
    "Missing credentials",
    "api_key client option",
    "LLM Provider NOT provided",
)


def import_litellm() -> Any:
    """Import and configure litellm once (thread-safe): offline, quiet, nothing on stdout."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _import_lock:
        if _litellm is None:
            for flag in _OFFLINE_FLAGS:
                os.environ.setdefault(flag, "True")
            # litellm's own handler writes records below WARNING to *stdout*, which would land in
            # the TUI's screen or a --json document; our log file is the place for its messages.
            os.environ.setdefault("LITELLM_LOG", "ERROR")
            import litellm

            litellm.suppress_debug_info = True
            litellm.set_verbose = False
            litellm.turn_off_message_logging = True
            litellm.telemetry = False
            for name in ("LiteLLM", "LiteLLM Proxy", "LiteLLM Router", "httpx", "openai"):
                logger = logging.getLogger(name)
                logger.handlers = [logging.NullHandler()]
                logger.propagate = False
                # Also spares the per-chunk cost of building debug records.
                logger.setLevel(logging.ERROR)
            _litellm = litellm
    return _litellm


# Modules litellm imports lazily on its first completion call (≈2-4 s here): its proxy types,
# logging callbacks and the tiktoken encoding it counts tokens with. Names may drift between
# litellm versions; a missing one only means that part is imported on first use instead.
_FIRST_CALL_MODULES = (
    "litellm.proxy._types",
    "litellm.litellm_core_utils.logging_callback_manager",
    "litellm.litellm_core_utils.default_encoding",
    "litellm.types.litellm_core_utils.streaming_chunk_builder_utils",
    "litellm.llms.openai_like.dynamic_config",
    "litellm.integrations.generic_api.generic_api_callback",
    "litellm._service_logger",
    "litellm.llms.litellm_proxy.chat",
    "litellm.llms.github_copilot.authenticator",
    "litellm.proxy.guardrails.exception_utils",
    "litellm.proxy.openai_files_endpoints.common_utils",
    "anyio._backends._asyncio",
)


def warm_up() -> None:
    """Import litellm and what its first call needs, so no request pays for it (blocking)."""
    import importlib

    global _warmed
    import_litellm()
    if not _warmed:
        for name in _FIRST_CALL_MODULES:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        _warmed = True


def import_litellm_in_background() -> threading.Thread:
    """Warm litellm up on a daemon thread (UIs call this right after their first paint)."""
    thread = threading.Thread(target=warm_up, name="import-litellm", daemon=True)
    thread.start()
    return thread


# ------------------------------------------------------------------------------------------------


@dataclass
class _Attempt:
    """What one attempt learned; carried into the final event."""

    text_seen: bool = False
    finish_reason: str | None = None
    reported_model: str | None = None
    usage: Usage | None = None


class _StreamTimeout(Exception):
    def __init__(self, kind: str, seconds: float) -> None:
        super().__init__(timeout_message(kind, seconds))
        self.kind = kind


def finish_state(reason: str | None) -> FinishState:
    """Map a provider finish_reason (already OpenAI-normalised by litellm) to a state."""
    if reason is None:
        return FinishState.error
    reason = reason.lower()
    if reason in _LENGTH_REASONS:
        return FinishState.length
    if reason in _FILTER_REASONS:
        return FinishState.content_filter
    if reason in _COMPLETE_REASONS:
        return FinishState.complete
    if reason == "error":
        return FinishState.error
    return FinishState.complete


def status_code(exc: BaseException) -> int | None:
    """HTTP status of a litellm/openai error, looking through MidStreamFallbackError wrappers."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        inner = getattr(current, "original_exception", None)
        if isinstance(inner, BaseException) and type(current).__name__ == "MidStreamFallbackError":
            current = inner
            continue
        code = getattr(current, "status_code", None)
        if code is None:
            response = getattr(current, "response", None)
            code = getattr(response, "status_code", None)
        try:
            return int(code) if code is not None else None
        except (TypeError, ValueError):
            return None
    return None


def _class_names(exc: BaseException) -> set[str]:
    names = {cls.__name__ for cls in type(exc).__mro__}
    inner = getattr(exc, "original_exception", None)
    if isinstance(inner, BaseException):
        names |= {cls.__name__ for cls in type(inner).__mro__}
    return names


def is_retryable(exc: BaseException) -> bool:
    """429, 5xx and connection errors; never other 4xx, context-window or content-policy errors."""
    names = _class_names(exc)
    if names & {
        "ContextWindowExceededError",
        "ContentPolicyViolationError",
        "BadRequestError",
        "AuthenticationError",
        "PermissionDeniedError",
        "NotFoundError",
        "UnprocessableEntityError",
        "UnsupportedParamsError",
    }:
        return False
    message = str(exc)
    if any(text in message for text in _PERMANENT_MESSAGES):
        return False
    code = status_code(exc)
    if code == 429 or (code is not None and code >= 500 and "MidStreamFallbackError" not in names):
        return True
    if names & {
        "APIConnectionError",
        "ServiceUnavailableError",
        "InternalServerError",
        "RateLimitError",
        "ConnectError",
        "RemoteProtocolError",
        "ReadError",
    }:
        return "Timeout" not in names and "APITimeoutError" not in names
    return False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (``retry-after-ms`` or ``retry-after``), if any."""
    headers: Any = getattr(exc, "litellm_response_headers", None)
    if headers is None:
        headers = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        value = headers.get("retry-after")
    except (TypeError, ValueError, AttributeError):
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(str(value))
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2**attempt)


def _error_message(exc: BaseException, key: str | None) -> str:
    text = str(exc) or type(exc).__name__
    # litellm repeats the whole message as "Original exception: …"; once is enough.
    head, sep, _ = text.partition(" Original exception: ")
    if sep and head:
        text = head
    return safe_error(redact(text, (key,) if key else ()))


def _error_type(exc: BaseException) -> str:
    if _NO_FINISH_MESSAGE in str(exc):
        return "no_finish"
    return type(exc).__name__


def _is_timeout(exc: BaseException) -> bool:
    return bool(
        _class_names(exc)
        & {"Timeout", "APITimeoutError", "TimeoutException", "ConnectTimeout", "ReadTimeout"}
    )


def _call_kwargs(
    request: ModelRequest, timeouts: Timeouts, model: str, api_base: str | None, key: str | None
) -> dict[str, Any]:
    import httpx

    params = {k: v for k, v in request.params.items() if k not in _FORBIDDEN_PARAMS}
    kwargs: dict[str, Any] = {
        **params,
        "model": model,
        "messages": request.messages,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_retries": 0,
        "timeout": httpx.Timeout(timeouts.total, connect=timeouts.connect),
    }
    if api_base:
        kwargs["api_base"] = api_base
        # Self-hosted OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) often need no key,
        # but the openai client refuses to send a request without one.
        key = key or NO_KEY
    if key:
        kwargs["api_key"] = key
    return kwargs


async def stream(
    request: ModelRequest, timeouts: Timeouts = DEFAULT_TIMEOUTS
) -> AsyncGenerator[Event, None]:
    """Stream one request; see the module docstring for the event contract."""
    finished = False
    # A provider (or a proxy) can stream a key back as content: known secret values never leave
    # this stream, even split across chunks (core.sanitize, the export rule).
    secrets = SecretFilter()
    try:
        async with contextlib.aclosing(_stream(request, timeouts)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    text = secrets.feed(event.text)
                    if text:
                        yield TextDelta(text, event.at)
                    continue
                if isinstance(event, (Usage, Finished)) and (tail := secrets.flush()):
                    yield TextDelta(tail, time.perf_counter())
                finished = finished or isinstance(event, Finished)
                yield event
    except Exception as exc:
        # An unexpected failure (a library bug, a broken install) still ends in exactly one state.
        if not finished:
            key = request.api_key()
            yield Finished(
                FinishState.error, error_type=type(exc).__name__, error=_error_message(exc, key)
            )


async def _stream(request: ModelRequest, timeouts: Timeouts) -> AsyncGenerator[Event, None]:
    started = time.perf_counter()
    key = request.api_key()  # the one key rule, as on the lean client (events.api_key_for)
    model, api_base = request.model, request.api_base
    lease: Any = None
    retries = 0
    attempt = _Attempt()
    try:
        if local.is_local(model):
            try:
                # Waiting for a free server is queueing, not the model's time: bounded by total.
                lease = await _within(local.acquire(model), timeouts.total)
            except asyncio.TimeoutError:
                yield Finished(
                    FinishState.timeout,
                    error_type="local_queue_timeout",
                    error=f"no local model server was free within {timeouts.total:g} s",
                )
                return
            except local.LocalModelError as exc:
                yield Finished(
                    FinishState.error, error_type="LocalModelError", error=safe_error(str(exc))
                )
                return
            model, api_base, key = lease.litellm_model, lease.api_base, lease.api_key
        if not _warmed:  # a cold start is not the provider's time: do it before Started
            await asyncio.to_thread(warm_up)
        litellm = import_litellm()
        kwargs = _call_kwargs(request, timeouts, model, api_base, key)
        started = time.perf_counter()  # a cold litellm import is not the provider's time
        yield Started(started)

        while True:
            attempt = _Attempt()
            try:
                async with contextlib.aclosing(
                    _one_attempt(litellm, kwargs, timeouts, started, attempt)
                ) as events:
                    async for event in events:
                        yield event
            except asyncio.CancelledError:
                raise
            except _StreamTimeout as exc:
                yield _finish(attempt, FinishState.timeout, retries, exc.kind, str(exc))
                return
            except Exception as exc:
                total_left = timeouts.total - (time.perf_counter() - started)
                if not attempt.text_seen and retries < timeouts.max_retries and is_retryable(exc):
                    wait = retry_after(exc)
                    wait = _backoff(retries) if wait is None else wait
                    if wait <= timeouts.max_retry_after and wait < total_left:
                        retries += 1
                        yield Retrying(retries, wait, _error_message(exc, key))
                        await asyncio.sleep(wait)
                        continue
                state = FinishState.timeout if _is_timeout(exc) else FinishState.error
                yield _finish(attempt, state, retries, _error_type(exc), _error_message(exc, key))
                return
            # The attempt ended normally: it saw a finish_reason (or not — that is an error).
            if attempt.usage is not None:
                yield attempt.usage
            if attempt.finish_reason is None:
                yield _finish(
                    attempt,
                    FinishState.error,
                    retries,
                    "no_finish",
                    "the stream ended without a finish reason",
                )
            else:
                state = finish_state(attempt.finish_reason)
                error = None if state is not FinishState.error else "the provider reported an error"
                yield _finish(attempt, state, retries, "finish_reason" if error else None, error)
            return
    finally:
        if lease is not None:
            lease.release()


def _finish(
    attempt: _Attempt, state: FinishState, retries: int, error_type: str | None, error: str | None
) -> Finished:
    return Finished(
        state,
        finish_reason=attempt.finish_reason,
        error_type=error_type,
        error=error,
        reported_model=attempt.reported_model,
        retries=retries,
    )


async def _one_attempt(
    litellm: Any, kwargs: dict[str, Any], timeouts: Timeouts, started: float, attempt: _Attempt
) -> AsyncGenerator[Event, None]:
    """One HTTP request; raises on failure so the caller can decide about retrying."""
    attempt_start = time.perf_counter()

    def budget() -> tuple[float, str]:
        now = time.perf_counter()
        total_left = timeouts.total - (now - started)
        if attempt.text_seen:
            step, kind = timeouts.between_chunks, "between_chunks"
        else:
            step, kind = timeouts.first_token - (now - attempt_start), "first_token"
        if total_left < step:
            return max(0.0, total_left), "total"
        return max(0.0, step), kind

    async def bounded(awaitable: Any) -> Any:
        seconds, kind = budget()
        try:
            return await _within(awaitable, seconds)
        except asyncio.TimeoutError:
            limit = {
                "total": timeouts.total,
                "first_token": timeouts.first_token,
                "between_chunks": timeouts.between_chunks,
            }[kind]
            raise _StreamTimeout(kind, limit) from None

    response = await bounded(litellm.acompletion(**kwargs))
    try:
        iterator = response.__aiter__()
        while True:
            try:
                chunk = await bounded(iterator.__anext__())
            except StopAsyncIteration:
                break
            hidden = getattr(chunk, "_hidden_params", None) or {}
            reported = hidden.get("provider_response_model") if isinstance(hidden, dict) else None
            if reported:
                attempt.reported_model = reported
            inband = getattr(chunk, "error", None)
            if inband:
                raise _InBandError(str(inband))
            choices = getattr(chunk, "choices", None) or []
            if choices:
                choice = choices[0]
                delta = getattr(choice, "delta", None)
                text = getattr(delta, "content", None) if delta is not None else None
                if text:
                    attempt.text_seen = True
                    yield TextDelta(text, time.perf_counter())
                if choice.finish_reason:
                    attempt.finish_reason = str(choice.finish_reason)
            usage = getattr(chunk, "usage", None)
            if usage is not None:
                attempt.usage = Usage(
                    getattr(usage, "prompt_tokens", None), getattr(usage, "completion_tokens", None)
                )
        if attempt.usage is not None and not _provider_sent_usage(response):
            attempt.usage = Usage(
                attempt.usage.prompt_tokens, attempt.usage.completion_tokens, estimated=True
            )
        if attempt.reported_model is None:
            attempt.reported_model = getattr(response, "_provider_response_model", None)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(_close(response))


async def _within(awaitable: Any, seconds: float) -> Any:
    """``await`` with a deadline. ``asyncio.timeout`` (3.11+) is a timer on the current task: no
    extra task per chunk, and — unlike 3.11's ``wait_for`` — it never swallows a cancellation
    that arrives as the chunk does."""
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:  # Python 3.10
        return await asyncio.wait_for(awaitable, seconds)
    async with timeout(seconds):
        return await awaitable


async def _close(response: Any) -> None:
    aclose = getattr(response, "aclose", None)
    if aclose is not None:
        await aclose()


def _provider_sent_usage(response: Any) -> bool:
    """litellm fills in usage itself when the provider sent none; its raw chunks tell which."""
    chunks = getattr(response, "chunks", None)
    if not isinstance(chunks, list):
        return True
    return any(getattr(chunk, "usage", None) is not None for chunk in chunks)


class _InBandError(Exception):
    """A chunk that carried an ``error`` object instead of content (some providers stream these)."""
