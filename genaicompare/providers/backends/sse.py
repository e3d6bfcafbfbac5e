"""What the lean native clients share: HTTP/1.1 on asyncio streams, an SSE reader, deadlines,
retries before the first token, and the one loop that turns a provider's SSE stream into events.

Each provider module (:mod:`.openai_compat`, :mod:`.anthropic`, :mod:`.gemini`) supplies a
:class:`Wire` — the URL, headers and body of a request, how an HTTP error is named, and a
per-attempt :class:`Decoder` that reads one ``data:`` JSON object at a time — and calls
:func:`stream_sse`. Everything else is here once, so every client has the same behaviour:

* a :class:`~genaicompare.providers.events.Started`, text deltas, at most one ``Usage``, exactly
  one ``Finished``; a cancelled stream stops (the collector records ``cancelled``);
* 408/409/429/5xx/529 and connection errors retried before the first token only, honouring
  ``retry-after-ms`` / ``Retry-After`` (or the provider's own hint, :meth:`Wire.retry_after`) up to
  ``max_retry_after``; never after a token, never other 4xx;
* first-token, between-chunks and total deadlines on one ticking timer (:class:`_Deadline`);
* a cut stream, a malformed or non-UTF-8 data line, an in-band error event, a stream without a
  finish: each its own ``Finished(error)``; secrets echoed back as content are filtered.

Why hand-rolled HTTP: httpx costs ≈200 µs of CPU per chunk (h11 events + anyio), litellm ≈400-800;
this reader ≈40 µs, so a batch of many concurrent streams stays network-bound.
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

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
# The litellm exception class each HTTP status becomes, so every path records the same error_type.
STATUS_ERROR = {
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
_MAX_HEADER_BYTES = 64 * 1024
_MAX_ERROR_BODY = 256 * 1024


def enabled(switch: str = "GENAICOMPARE_FAST_PATH") -> bool:
    """False when the environment variable ``switch`` is ``0``/``false``/``no``."""
    return os.environ.get(switch, "1").strip().lower() not in ("0", "false", "no")


def proxied(host: str) -> bool:
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


def direct_url(url: str) -> bool:
    """An ``http(s)://host`` URL this client reaches itself (no proxy in the way)."""
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not proxied(parts.hostname or "")
    )


def plain_messages(messages: list[dict[str, Any]]) -> bool:
    """Only system/user/assistant turns with string content: what the native clients translate."""
    return all(
        m.get("role") in ("system", "user", "assistant")
        and isinstance(m.get("content"), str)
        and set(m) <= {"role", "content"}
        for m in messages
    )


def native_supports(
    request: ModelRequest, prefix: str, params: frozenset[str], default_base: str
) -> bool:
    """A native client (Anthropic, Gemini) translates ``request`` exactly: its provider prefix,
    only ``params`` it maps, plain text messages, a host it reaches directly; and neither
    ``GENAICOMPARE_NATIVE=0`` nor ``GENAICOMPARE_FAST_PATH=0`` is set."""
    return (
        enabled()
        and enabled("GENAICOMPARE_NATIVE")
        and request.model.startswith(prefix)
        and all(k in params for k in request.params)
        and plain_messages(request.messages)
        and direct_url(request.api_base or default_base)
    )


def native_key(request: ModelRequest, own: tuple[str, ...]) -> str | None:
    """The one key rule (:func:`~genaicompare.providers.events.api_key_for`); with no
    ``api_base`` the request goes to the provider's own host, which gets the first of its own
    key variables ``own`` that is set (as litellm reads them)."""
    if request.api_key_env or request.api_base:
        return request.api_key()
    return next((os.environ[v] for v in own if os.environ.get(v)), None)


def retry_after_header(headers: dict[str, str], cap: float) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw:
            try:
                return min(cap, max(0.0, float(raw) * scale))
            except ValueError:
                pass
    return None


def backoff(attempt: int, cap: float) -> float:
    """The openai client's shape: exponential with jitter."""
    return min(cap, 0.5 * 2**attempt) * (0.75 + random.random() / 2)


def broken(got_text: bool) -> str:
    """litellm's class for a stream that breaks (cut, malformed, in-band error)."""
    return "MidStreamFallbackError" if got_text else "APIConnectionError"


class InBandError(Exception):
    """A ``data:`` event that reports an error instead of content; ``kind`` names it."""

    def __init__(self, message: str, kind: str | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.retryable = retryable
        """Before any text this is a failed attempt, retried like a 5xx (never after text)."""


class Decoder:
    """One attempt's reading of a provider's events. Subclasses implement :meth:`feed`."""

    __slots__ = ("finish_reason", "reported", "usage")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.reported: str | None = None
        self.usage: Usage | None = None

    def feed(self, chunk: dict[str, Any]) -> str | None:
        """The text in one decoded ``data:`` object (or None); raise :class:`InBandError`."""
        raise NotImplementedError


class Wire:
    """A provider's side of :func:`stream_sse`."""

    finish_states: dict[str, FinishState] = {}
    """finish_reason (as the decoder reports it) → state; unknown reasons are ``complete``."""

    def decoder(self) -> Decoder:
        raise NotImplementedError

    def error_type(self, status: int, body: bytes) -> str:
        if status == 400 and (b"context_length_exceeded" in body or b"maximum context" in body):
            return "ContextWindowExceededError"
        if status == 400 and b"content_policy" in body:
            return "ContentPolicyViolationError"
        return STATUS_ERROR.get(status, "APIError")

    def error_message(self, status: int, body: bytes) -> str:
        try:
            payload = json.loads(body)
            err = payload.get("error", payload) if isinstance(payload, dict) else payload
            msg = err.get("message") if isinstance(err, dict) else None
            text = str(msg) if msg else body.decode("utf-8", "replace")
        except (ValueError, AttributeError):
            text = body.decode("utf-8", "replace")
        return safe_error(f"{self.error_type(status, body)}: {status}: {text}")

    def retry_after(self, headers: dict[str, str], body: bytes, attempt: int, cap: float) -> float:
        """Seconds to wait before retry ``attempt + 1``: the server's hint, else backoff."""
        hinted = retry_after_header(headers, cap)
        return backoff(attempt, cap) if hinted is None else hinted


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


async def stream_sse(
    wire: Wire,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any],
    timeouts: Timeouts | None = None,
) -> AsyncGenerator[Event, None]:
    """POST ``body`` to ``url`` and yield the stream's events (see the module docstring)."""
    timeouts = timeouts or Timeouts()
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    deadline = _Deadline(loop, task)
    total_deadline = loop.time() + timeouts.total
    retries = 0
    reported: str | None = None
    headers = {"accept": "text/event-stream", "content-type": "application/json", **headers}
    payload = json.dumps(body, ensure_ascii=False).encode()
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
            reported_model=decoder.reported or reported,
            retries=retries,
        )

    decoder = wire.decoder()
    while finished is None:
        first_deadline = min(loop.time() + timeouts.first_token, total_deadline)
        deadline.set(first_deadline, "first_token")
        response: _Response | None = None
        reported = decoder.reported or reported  # a retry keeps what the last attempt reported
        decoder = wire.decoder()
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
                    wait = backoff(retries - 1, timeouts.max_retry_after)
                    yield Retrying(retries, wait, safe_error(f"{type(exc).__name__}: {exc}"))
                    await asyncio.sleep(wait)
                    continue
                finished = fail(
                    FinishState.error, "APIConnectionError", f"{type(exc).__name__}: {exc}"
                )
                break
            if response.status != 200:
                error_body = await response.read_all()
                status = response.status
                if status in RETRYABLE_STATUS and retries < timeouts.max_retries:
                    wait = wire.retry_after(
                        response.headers, error_body, retries, timeouts.max_retry_after
                    )
                    if loop.time() + wait < total_deadline:
                        deadline.clear()
                        response.close()
                        response = None
                        retries += 1
                        yield Retrying(retries, wait, wire.error_message(status, error_body))
                        await asyncio.sleep(wait)
                        continue
                finished = fail(
                    FinishState.error,
                    wire.error_type(status, error_body),
                    wire.error_message(status, error_body),
                )
                break
            buffer = b""
            retry_in_band: str | None = None
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
                            continue  # comments, event: (repeated in the data's type), id:, retry:
                        data = line[5:].strip()
                        if data == b"[DONE]":
                            continue
                        try:
                            data.decode("utf-8")
                        except UnicodeDecodeError as exc:
                            finished = fail(
                                FinishState.error,
                                broken(got_text),
                                "malformed stream: a data line is not UTF-8 "
                                f"(byte 0x{data[exc.start]:02x} at offset {exc.start})",
                            )
                            break
                        try:
                            chunk = json.loads(data)
                        except ValueError:
                            finished = fail(
                                FinishState.error,
                                broken(got_text),
                                "malformed stream: a data line is not JSON: "
                                + data[:200].decode("utf-8", "replace"),
                            )
                            break
                        if not isinstance(chunk, dict):
                            continue
                        try:
                            text = decoder.feed(chunk)
                        except InBandError as exc:
                            if exc.retryable and not got_text and retries < timeouts.max_retries:
                                retry_in_band = f"in-band error: {exc}"
                            finished = fail(
                                FinishState.error,
                                exc.kind or broken(got_text),
                                f"in-band error: {exc}",
                            )
                            break
                        if text:
                            got_text = True
                            text = secrets.feed(text)
                            if text:
                                yield TextDelta(text, now)
                    if finished is not None:
                        break
            if retry_in_band is not None:
                # An error event before any text (overloaded, say) is a failed attempt like a 529.
                finished = None
                deadline.clear()
                response.close()
                response = None
                retries += 1
                wait = backoff(retries - 1, timeouts.max_retry_after)
                yield Retrying(retries, wait, safe_error(retry_in_band))
                await asyncio.sleep(wait)
                continue
            if finished is not None:
                break
            if tail := secrets.flush():
                yield TextDelta(tail, time.perf_counter())
            if decoder.usage is not None:
                yield decoder.usage
            reason = decoder.finish_reason
            if reason is None:
                finished = fail(
                    FinishState.error, "no_finish", "the stream ended without a finish reason"
                )
            else:
                finished = Finished(
                    wire.finish_states.get(reason, FinishState.complete),
                    finish_reason=reason,
                    reported_model=decoder.reported or reported,
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
            reason_text = (
                "connection closed mid-stream"
                if isinstance(exc, asyncio.IncompleteReadError)
                else f"{type(exc).__name__}: {exc}"
            )
            finished = fail(FinishState.error, broken(got_text), reason_text)
        finally:
            if response is not None:
                response.close()
    deadline.close()
    if tail := secrets.flush():
        yield TextDelta(tail, time.perf_counter())
    yield finished


async def missing_key(variable: str) -> AsyncGenerator[Event, None]:
    """The stream of a request to a provider's own host with no key to send: litellm's
    ``AuthenticationError``, without a request."""
    yield Started(time.perf_counter())
    yield Finished(
        FinishState.error,
        error_type="AuthenticationError",
        error=f"no API key: set {variable} (or name another variable with api_key_env)",
    )


__all__ = [
    "Decoder",
    "InBandError",
    "ProtocolError",
    "Wire",
    "direct_url",
    "enabled",
    "missing_key",
    "plain_messages",
    "proxied",
    "stream_sse",
]
