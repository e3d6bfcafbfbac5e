"""Turn one provider stream into a measured :class:`~genaicompare.core.records.ResponseRecord`.

Measured per response:

* ``ttft_ms`` — request sent (the stream's :class:`Started`) to the first text chunk. Importing
  litellm, starting the local server and waiting for a free one are not billed to the model.
* ``latency_ms`` — request sent to the end of the stream (retries and their waits included).
* ``tokens_in`` / ``tokens_out`` — the provider's usage. Only when the provider sent none are they
  estimated (litellm's token counter, or ≈4 characters per token if litellm cannot count that
  model), and ``tokens_estimated`` says so. The local model's launcher adds real usage to its
  streams; should it ever be missing, ``tokens_out`` is the number of streamed chunks (llama.cpp
  streams one token per chunk), flagged estimated.
* ``tokens_per_s`` — decode speed after the first token: ``(tokens_out - 1) / (last chunk - first
  chunk)``; None when there is nothing to time (fewer than two tokens or one chunk).
* ``cost_usd`` — catalog prices (``price_in_per_mtok``/``price_out_per_mtok``) win; else litellm's
  price table (read without importing litellm when it is not loaded). ``None`` (unknown) when
  neither knows the model: an unknown price is never shown as free. The embedded ``local/…`` model costs exactly 0.0: it runs on this machine and nobody bills
  per token (electricity is out of scope).

Cancellation: cancelling the task that runs :func:`collect` ends the record in state ``cancelled``
(keeping the text so far), calls ``on_event`` with that final :class:`Finished`, and re-raises
``CancelledError`` as asyncio expects. Pass your own :class:`ResponseCollector` to keep the record.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable

from genaicompare.core.records import ResponseRecord
from genaicompare.providers.events import (
    DEFAULT_TIMEOUTS,
    Event,
    Finished,
    FinishState,
    ModelRequest,
    Retrying,
    Started,
    StreamSource,
    TextDelta,
    Timeouts,
    Usage,
)
from genaicompare.providers.local import is_local

OnEvent = Callable[[Event], "Awaitable[None] | None"]

_CHARS_PER_TOKEN = 4


def estimate_tokens(
    model: str, *, text: str | None = None, messages: list[dict[str, str]] | None = None
) -> int:
    """litellm's counter when litellm is already loaded and knows how; else ≈ chars/4."""
    from genaicompare.providers.backends import litellm as stream_module

    litellm = stream_module._litellm
    if litellm is not None:
        with contextlib.suppress(Exception):
            if messages is not None:
                return int(litellm.token_counter(model=model, messages=messages))
            return int(litellm.token_counter(model=model, text=text or ""))
    chars = (
        len(text or "")
        if messages is None
        else sum(len(str(m.get("content") or "")) for m in messages)
    )
    return max(1, round(chars / _CHARS_PER_TOKEN)) if chars else 0


def cost_usd(request: ModelRequest, tokens_in: int | None, tokens_out: int | None) -> float | None:
    """Cost of one response in USD, or None when the price is unknown (never a made-up 0)."""
    if tokens_in is None or tokens_out is None:
        return None
    if request.price_in_per_mtok is not None or request.price_out_per_mtok is not None:
        if request.price_in_per_mtok is None or request.price_out_per_mtok is None:
            return None
        return (
            tokens_in * request.price_in_per_mtok + tokens_out * request.price_out_per_mtok
        ) / 1_000_000
    if is_local(request.model):
        return 0.0
    from genaicompare.providers.backends import litellm as stream_module

    litellm = stream_module._litellm
    if litellm is None:
        # The lean clients never load litellm: its bundled price map, read directly.
        from genaicompare.providers.backends import prices

        return prices.cost_usd(request.model, tokens_in, tokens_out)
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=request.model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
    except Exception:
        return None
    if prompt_cost is None or completion_cost is None:
        return None
    return float(prompt_cost) + float(completion_cost)


class ResponseCollector:
    """Consumes events for one request and keeps :attr:`record` current, even when cancelled."""

    def __init__(
        self,
        request: ModelRequest,
        *,
        prompt_id: str = "",
        template_hash: str | None = None,
        sample_index: int = 0,
    ) -> None:
        self.request = request
        self.record = ResponseRecord(
            prompt_id=prompt_id,
            model_alias=request.alias,
            model=request.model,
            params=dict(request.params),
            messages=request.messages,
            template_hash=template_hash,
            api_base=request.api_base,
            sample_index=sample_index,
        )
        self.finished: Finished | None = None
        self._parts: list[str] = []
        self._usage: Usage | None = None
        self._started: float | None = None
        self._first_at: float | None = None
        self._last_at: float | None = None
        self._chunks = 0
        self._sent = False

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def start(self) -> None:
        self._started = time.perf_counter()

    def feed(self, event: Event) -> None:
        if isinstance(event, Started):
            if not self._sent:  # retries keep the first send time: their waits are latency
                self._sent = True
                self._started = event.at
        elif isinstance(event, TextDelta):
            if self._first_at is None:
                self._first_at = event.at
            self._last_at = event.at
            self._chunks += 1
            self._parts.append(event.text)
        elif isinstance(event, Usage):
            self._usage = event
        elif isinstance(event, Retrying):
            self.record.retries = event.attempt
        elif isinstance(event, Finished):
            self.finished = event
            self._finalize(event)

    def cancel(self) -> Finished:
        """Record that the stream was cancelled; returns the Finished event to show."""
        event = Finished(
            FinishState.cancelled, error_type="CancelledError", retries=self.record.retries
        )
        self.finished = event
        self._finalize(event)
        return event

    def _finalize(self, event: Finished) -> None:
        record = self.record
        end = time.perf_counter()
        started = self._started if self._started is not None else end
        record.text = self.text
        record.state = event.state
        record.finish_reason = event.finish_reason
        record.error_type = event.error_type
        record.error = event.error
        record.reported_model = event.reported_model
        record.retries = max(record.retries, event.retries)
        record.latency_ms = (end - started) * 1000
        record.ttft_ms = (self._first_at - started) * 1000 if self._first_at is not None else None

        usage = self._usage
        tokens_in = usage.prompt_tokens if usage else None
        tokens_out = usage.completion_tokens if usage else None
        estimated = bool(usage and usage.estimated)
        produced = bool(record.text) or record.ok
        # llama.cpp's server streams one token per chunk but sends no usage; the chunk count
        # beats a tiktoken estimate of another model's tokenizer (still flagged estimated).
        if self._chunks and is_local(self.request.model) and (usage is None or usage.estimated):
            tokens_out, estimated = self._chunks, True
        if tokens_out is None and produced:
            tokens_out, estimated = estimate_tokens(self.request.model, text=record.text), True
        if tokens_in is None and produced:
            tokens_in = estimate_tokens(self.request.model, messages=self.request.messages)
            estimated = True
        record.tokens_in, record.tokens_out, record.tokens_estimated = (
            tokens_in,
            tokens_out,
            estimated,
        )

        record.tokens_per_s = None
        if (
            tokens_out
            and tokens_out > 1
            and self._chunks > 1
            and self._first_at is not None
            and self._last_at is not None
            and self._last_at > self._first_at
        ):
            record.tokens_per_s = (tokens_out - 1) / (self._last_at - self._first_at)
        record.cost_usd = cost_usd(self.request, tokens_in, tokens_out)

    async def run(
        self,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        on_event: OnEvent | None = None,
        source: StreamSource | None = None,
    ) -> ResponseRecord:
        """Consume ``source(request, timeouts)`` (default: the backend that serves the request,
        :func:`~genaicompare.providers.backends.backend_for`) into :attr:`record`.

        On cancellation :attr:`record` keeps the text so far in state ``cancelled`` and the
        cancellation propagates.
        """
        if source is None:
            from genaicompare.providers.backends import backend_for

            source = backend_for(self.request)
        self.start()  # provisional: the stream's Started event moves it to the actual send
        try:
            async with contextlib.aclosing(source(self.request, timeouts)) as events:
                async for event in events:
                    self.feed(event)
                    if on_event is not None:
                        await _call(on_event, event)
        except asyncio.CancelledError:
            final = self.cancel()
            if on_event is not None:
                # The cancellation was delivered already; one more await for cleanup is fine.
                with contextlib.suppress(Exception):
                    await _call(on_event, final)
            raise
        if self.finished is None:  # stream() guarantees a Finished; never store a half record
            self.feed(
                Finished(
                    FinishState.error,
                    error_type="no_finish",
                    error="the provider stream ended without a final state",
                )
            )
        return self.record


async def _call(callback: OnEvent, event: Event) -> None:
    result = callback(event)
    if inspect.isawaitable(result):
        await result


async def collect(
    request: ModelRequest,
    timeouts: Timeouts = DEFAULT_TIMEOUTS,
    on_event: OnEvent | None = None,
    *,
    prompt_id: str = "",
    template_hash: str | None = None,
    sample_index: int = 0,
    collector: ResponseCollector | None = None,
    source: StreamSource | None = None,
) -> ResponseRecord:
    """Stream ``request`` to the end and return its measured record (see module docstring).

    The backend is picked for the request (``source`` None); tests that pin one pass its
    ``stream``. Whichever serves it, the collector measures, so TTFT, tok/s, token estimates
    and cost are computed the same way."""
    if collector is None:
        collector = ResponseCollector(
            request, prompt_id=prompt_id, template_hash=template_hash, sample_index=sample_index
        )
    return await collector.run(timeouts, on_event, source=source)


__all__ = [
    "OnEvent",
    "ResponseCollector",
    "StreamSource",
    "collect",
    "cost_usd",
    "estimate_tokens",
]
