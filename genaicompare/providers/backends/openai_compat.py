"""A lean streaming client for OpenAI-compatible endpoints (``openai/…`` + ``api_base``).

Why it exists: litellm spends ≈0.8 ms of CPU per streamed chunk, so a headless batch of many
concurrent streams saturates one core long before the network does (200 prompts × 2 models at
``-j 16``: 3.6× the ideal). httpx alone still cost ≈200 µs per chunk here (h11 events + anyio).
This client speaks HTTP/1.1 on asyncio streams with a hand-rolled chunked/SSE reader (≈40 µs per
chunk, measured by ``benchmarks/bench_headless.py``) and yields *the same events* as the litellm
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

import asyncio
import json
import os
import random
import ssl
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from genaicompare.core.sanitize import SecretFilter, safe_error
from genaicompare.providers.events import (
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
_RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
# The litellm exception class each HTTP status becomes, so both paths record the same error_type.
_STATUS_ERROR = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    408: "Timeout",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
    500: "InternalServerError",
    502: "BadGatewayError",
    503: "ServiceUnavailableError",
    504: "Timeout",
}
_FINISH = {
    "stop": FinishState.complete,
    "tool_calls": FinishState.complete,
    "function_call": FinishState.complete,
    "eos": FinishState.complete,
    "length": FinishState.length,
    "content_filter": FinishState.content_filter,
}
_MAX_HEADER_BYTES = 64 * 1024
_MAX_ERROR_BODY = 256 * 1024


def enabled() -> bool:
    return os.environ.get("GENAICOMPARE_FAST_PATH", "1").strip().lower() not in ("0", "false", "no")


def _proxied(host: str) -> bool:
    """True if the environment routes ``host`` through an HTTP proxy (litellm/httpx would)."""
    if not any(
        os.environ.get(v)
        for v in (
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        )
    ):
        return False
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    for entry in (e.strip().lstrip(".") for e in no_proxy.split(",")):
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return False
    return True


def supports(request: ModelRequest) -> bool:
    """True when this client is exactly equivalent to litellm for ``request``."""
    if not enabled() or not request.model.startswith("openai/") or not request.api_base:
        return False
    parts = urlsplit(request.api_base)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not _proxied(parts.hostname or "")
        and all(k in _PASS_THROUGH for k in request.params)
    )


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


def _retry_after(headers: dict[str, str], attempt: int, cap: float) -> float:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return min(cap, max(0.0, float(raw) * scale))
            except ValueError:
                pass
    # The openai client's shape: exponential with jitter.
    return min(cap, 0.5 * 2**attempt) * (0.75 + random.random() / 2)


def _broken(got_text: bool) -> str:
    """litellm's class for a stream that breaks (cut, malformed, in-band error)."""
    return "MidStreamFallbackError" if got_text else "APIConnectionError"


def _error_message(status: int, body: bytes) -> str:
    try:
        payload = json.loads(body)
        err = payload.get("error", payload) if isinstance(payload, dict) else payload
        msg = err.get("message") if isinstance(err, dict) else None
        text = str(msg) if msg else body.decode("utf-8", "replace")
    except (ValueError, AttributeError):
        text = body.decode("utf-8", "replace")
    return safe_error(f"{_error_type(status, body)}: {status}: {text}")


def _error_type(status: int, body: bytes) -> str:
    if status == 400 and (b"context_length_exceeded" in body or b"maximum context" in body):
        return "ContextWindowExceededError"
    if status == 400 and b"content_policy" in body:
        return "ContentPolicyViolationError"
    return _STATUS_ERROR.get(status, "APIError")


class _Deadline:
    """A deadline that cancels the streaming task when it passes, checked by one ticking timer.

    Moving it (before each wait for bytes) is two attribute writes: per-chunk ``call_at`` +
    ``cancel`` (let alone ``wait_for``, a task per chunk) cost more CPU than parsing the chunk.
    It fires at most ``tick`` late, and never while the consumer handles an event.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], tick: float = 0.1
    ) -> None:
        self._loop = loop
        self._task = task
        self._tick = tick
        self._handle: asyncio.TimerHandle | None = None
        self.when = float("inf")
        self.what = ""
        self.fired: str | None = None

    def set(self, when: float, what: str) -> None:
        self.when, self.what = when, what
        if self._handle is None:
            self._arm()

    def _arm(self) -> None:
        self._handle = self._loop.call_at(
            min(self.when, self._loop.time() + self._tick), self._check
        )

    def _check(self) -> None:
        self._handle = None
        if self.when == float("inf"):
            return  # cleared: re-armed by the next set()
        if self._loop.time() >= self.when:
            self.fired = self.what
            self._task.cancel()
        else:
            self._arm()

    def clear(self) -> None:
        self.when = float("inf")

    def close(self) -> None:
        self.when = float("inf")
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class ProtocolError(Exception):
    """The server broke HTTP/1.1 framing."""


@dataclass
class _Response:
    status: int
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, de-chunked; raises ``IncompleteReadError`` on a cut body."""
        reader = self.reader
        if self.headers.get("transfer-encoding", "").lower().endswith("chunked"):
            while True:
                line = await reader.readuntil(b"\r\n")
                try:
                    size = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size line {line[:40]!r}") from None
                if size == 0:
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        elif "content-length" in self.headers:
            remaining = int(self.headers["content-length"])
            while remaining > 0:
                data = await reader.read(min(remaining, 65536))
                if not data:
                    raise asyncio.IncompleteReadError(b"", remaining)
                remaining -= len(data)
                yield data
        else:
            while data := await reader.read(65536):
                yield data

    async def read_all(self, limit: int = _MAX_ERROR_BODY) -> bytes:
        out = bytearray()
        async for data in self.body_chunks():
            out += data
            if len(out) >= limit:
                break
        return bytes(out)

    def close(self) -> None:
        self.writer.close()


_ssl_context: ssl.SSLContext | None = None


def _ssl() -> ssl.SSLContext:
    global _ssl_context
    if _ssl_context is None:
        _ssl_context = ssl.create_default_context()
    return _ssl_context


async def _post(url: str, payload: bytes, headers: dict[str, str], connect: float) -> _Response:
    """Open a connection, send the request, read the status line and headers."""
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=_ssl() if secure else None, limit=2**20),
        connect,
    )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    head = [
        f"POST {path} HTTP/1.1",
        f"host: {host_header}",
        "connection: close",
        f"content-length: {len(payload)}",
        "user-agent: genaicompare",
    ]
    head += [f"{k}: {v}" for k, v in headers.items()]
    try:
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
        await writer.drain()
        raw = await reader.readuntil(b"\r\n\r\n")
    except BaseException:
        writer.close()
        raise
    if len(raw) > _MAX_HEADER_BYTES:
        writer.close()
        raise ProtocolError("response headers too large")
    lines = raw.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        writer.close()
        raise ProtocolError(f"bad status line {lines[0][:60]!r}") from None
    response_headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            response_headers[key.strip().lower()] = value.strip()
    return _Response(status, response_headers, reader, writer)


async def stream(
    request: ModelRequest, timeouts: Timeouts | None = None
) -> AsyncGenerator[Event, None]:
    """Yield :class:`TextDelta` …, at most one :class:`Usage`, then exactly one :class:`Finished`."""
    timeouts = timeouts or Timeouts()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    deadline = _Deadline(loop, task)
    total_deadline = loop.time() + timeouts.total
    retries = 0
    reported: str | None = None
    headers = {"accept": "text/event-stream", "content-type": "application/json"}
    headers["authorization"] = f"Bearer {_api_key(request)}"
    url = (request.api_base or "").rstrip("/") + "/chat/completions"
    payload = json.dumps(_body(request), ensure_ascii=False).encode()
    got_text = False
    finished: Finished | None = None
    # A server (or a proxy) can stream a key back as content: known secret values never leave
    # this stream, even split across chunks (core.sanitize, the export rule).
    secrets = SecretFilter()
    yield Started(time.perf_counter())  # TTFT and latency count from the send, as on litellm's path

    def fail(state: FinishState, etype: str, message: str) -> Finished:
        return Finished(
            state,
            error_type=etype,
            error=safe_error(message),
            reported_model=reported,
            retries=retries,
        )

    while finished is None:
        first_deadline = min(loop.time() + timeouts.first_token, total_deadline)
        deadline.set(first_deadline, "first_token")
        response: _Response | None = None
        try:
            try:
                response = await _post(url, payload, headers, timeouts.connect)
            except (asyncio.TimeoutError, TimeoutError):
                if deadline.fired:
                    raise asyncio.CancelledError from None
                finished = fail(
                    FinishState.timeout,
                    "Timeout",
                    f"could not connect within {timeouts.connect:g} s",
                )
                break
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as exc:
                if retries < timeouts.max_retries:
                    deadline.clear()
                    retries += 1
                    wait = _retry_after({}, retries - 1, timeouts.max_retry_after)
                    yield Retrying(retries, wait, safe_error(f"{type(exc).__name__}: {exc}"))
                    await asyncio.sleep(wait)
                    continue
                finished = fail(
                    FinishState.error, "APIConnectionError", f"{type(exc).__name__}: {exc}"
                )
                break
            if response.status != 200:
                body = await response.read_all()
                status = response.status
                if status in _RETRYABLE_STATUS and retries < timeouts.max_retries:
                    wait = _retry_after(response.headers, retries, timeouts.max_retry_after)
                    if loop.time() + wait < total_deadline:
                        deadline.clear()
                        response.close()
                        response = None
                        retries += 1
                        yield Retrying(retries, wait, _error_message(status, body))
                        await asyncio.sleep(wait)
                        continue
                finished = fail(
                    FinishState.error, _error_type(status, body), _error_message(status, body)
                )
                break
            usage: Usage | None = None
            finish_reason: str | None = None
            buffer = b""
            chunks = response.body_chunks().__aiter__()
            while finished is None:
                if got_text:
                    deadline.set(
                        min(loop.time() + timeouts.between_chunks, total_deadline),
                        "between_chunks",
                    )
                else:
                    deadline.set(first_deadline, "first_token")
                try:
                    raw = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                # The deadline guards only the wait for bytes, never the consumer's work.
                deadline.clear()
                buffer += raw
                if b"\n\n" not in buffer and b"\r\n\r\n" not in buffer:
                    continue
                if b"\r" in buffer:
                    buffer = buffer.replace(b"\r\n", b"\n")
                *blocks, buffer = buffer.split(b"\n\n")
                now = time.perf_counter()
                for block in blocks:
                    for line in block.split(b"\n"):
                        if not line.startswith(b"data:"):
                            continue  # comments, event:, id:, retry: fields
                        data = line[5:].strip()
                        if data == b"[DONE]":
                            continue
                        try:
                            data.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            finished = fail(
                                FinishState.error,
                                _broken(got_text),
                                "malformed stream: a data line is not UTF-8 "
                                f"(byte 0x{data[exc.start]:02x} at offset {exc.start})",
                            )
                            break
                        try:
                            chunk = json.loads(data)
                        except ValueError:
                            finished = fail(
                                FinishState.error,
                                _broken(got_text),
                                "malformed stream: a data line is not JSON: "
                                + data[:200].decode("utf-8", "replace"),
                            )
                            break
                        if not isinstance(chunk, dict):
                            continue
                        if "error" in chunk and not chunk.get("choices"):
                            err = chunk["error"]
                            msg = err.get("message") if isinstance(err, dict) else err
                            finished = fail(
                                FinishState.error, _broken(got_text), f"in-band error: {msg}"
                            )
                            break
                        reported = chunk.get("model") or reported
                        u = chunk.get("usage")
                        if u:
                            usage = Usage(u.get("prompt_tokens"), u.get("completion_tokens"))
                        for choice in chunk.get("choices") or ():
                            text = (choice.get("delta") or {}).get("content")
                            if text:
                                got_text = True
                                text = secrets.feed(text)
                                if text:
                                    yield TextDelta(text, now)
                            if choice.get("finish_reason"):
                                finish_reason = choice["finish_reason"]
                    if finished is not None:
                        break
            if finished is not None:
                break
            if tail := secrets.flush():
                yield TextDelta(tail, time.perf_counter())
            if usage is not None:
                yield usage
            if finish_reason is None:
                finished = fail(
                    FinishState.error, "no_finish", "the stream ended without a finish reason"
                )
            else:
                finished = Finished(
                    _FINISH.get(finish_reason, FinishState.complete),
                    finish_reason=finish_reason,
                    reported_model=reported,
                    retries=retries,
                )
        except asyncio.CancelledError:
            if deadline.fired is None:
                deadline.close()
                raise  # a real cancellation (Ctrl-C, the user): the collector records it
            if sys.version_info >= (3, 11):
                task.uncancel()
            kind = deadline.fired
            limit = timeouts.first_token if kind == "first_token" else timeouts.between_chunks
            if loop.time() >= total_deadline - 0.001:
                kind, limit = "total", timeouts.total
            # The same error_type and message as the litellm path's timeouts.
            finished = fail(FinishState.timeout, kind, timeout_message(kind, limit))
        except (
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            ProtocolError,
            ValueError,
        ) as exc:
            # A started stream that breaks: litellm raises MidStreamFallbackError.
            etype = _broken(got_text)
            reason = (
                "connection closed mid-stream"
                if isinstance(exc, asyncio.IncompleteReadError)
                else f"{type(exc).__name__}: {exc}"
            )
            finished = fail(FinishState.error, etype, reason)
        finally:
            if response is not None:
                response.close()
    deadline.close()
    if tail := secrets.flush():
        yield TextDelta(tail, time.perf_counter())
    yield finished
