"""A fake Anthropic Messages API (``POST /v1/messages``, ``stream: true``) speaking the real wire
format, with scripted faults; for tests and benchmarks (``benchmarks/bench_native.py``).

The stream is what Anthropic documents: ``event: message_start`` (``message.model``,
``usage.input_tokens``), ``content_block_start`` (a ``text`` block), a ``ping``, one
``content_block_delta`` (``text_delta``) per token, ``content_block_stop``, ``message_delta``
(``stop_reason``, cumulative ``usage.output_tokens``), ``message_stop``. Errors are
``{"type": "error", "error": {"type": "…_error", "message": …}}`` — as an HTTP body (with
``retry-after`` on 429/529) or as a mid-stream ``event: error``.

``stream: false`` gets the whole message as JSON once it would have finished streaming (the
benchmark's promptfoo reference can use either).

The scenario is the model name, ``<scenario>[?k=v&…]`` (``anthropic/`` prefix and ``fake/`` /
``fault/`` are ignored):

================  ==============================================================================
``echo``          the last user message back word by word, ``end_turn``
``tokens``        ``n`` tokens ``t0 t1 …`` (``prefix``), ``end_turn``; ``max_tokens`` in the body
                  truncates with ``max_tokens``
``length``        tokens, then ``stop_reason: max_tokens``
``stop_sequence`` tokens, then ``stop_sequence``
``refusal``       ``after`` tokens (default 3), then ``refusal``
``thinking``      a thinking block (thinking + signature deltas), then a text block of tokens
``cache``         tokens, with ``cache_read_input_tokens: 7`` and ``cache_creation_input_tokens: 5``
``429``           ``fails`` times (default 1) 429 ``rate_limit_error`` with ``retry-after``
                  (default 1), then like ``tokens``
``529``           ``fails`` times (default 1) 529 ``overloaded_error`` with ``retry-after``
``500``           ``fails`` times (default always) 500 ``api_error``
``401``           401 ``authentication_error`` (never succeeds)
``400``           400 ``invalid_request_error``
``context``       400 ``prompt is too long: 210000 tokens > 200000 maximum``
``overloaded``    ``after`` tokens, then ``event: error`` ``overloaded_error``; the body ends
``error_first``   message_start, then ``event: error`` ``api_error`` before any text
``drop``          ``after`` tokens, then the connection is cut
``malformed``     ``after`` tokens, then a data line that is not JSON
``hang_first``    nothing for ``hang`` s (default 3600)
``hang_mid``      ``after`` tokens, then nothing for ``hang`` s
``no_finish``     tokens and ``message_stop`` but no ``message_delta``
``echo_key``      ``status`` (default 401) error whose message echoes the ``x-api-key``
``echo_auth``     streams the ``x-api-key`` header back, ``chunk`` characters per delta
================  ==============================================================================

Common options: ``n``, ``delay`` (``pace=1``), ``ttft``, ``after``, ``reported`` (the model in
``message_start``). Prompt tokens: one per word of ``system`` and every message.

In-process: ``with FakeAnthropic() as server:`` (``server.base_url`` is the host root, to use as
``api_base``); subprocess: ``python -m tests.support.fake_anthropic --port 0`` prints ``PORT n``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.fake_sse import (
    FakeSSE,
    JsonDict,
    chunk,
    paced,
    parse_model,
    serve,
    tokens,
    words,
)


def _text(content: Any) -> str:
    """A message's text: a string, or the text of its content blocks (litellm sends blocks)."""
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return str(content or "")


def _error(kind: str, message: str) -> JsonDict:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _event(name: str, data: JsonDict) -> bytes:
    return chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())


class FakeAnthropic(FakeSSE):
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _dispatch(self, request: Any, writer: asyncio.StreamWriter) -> bool:
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method == "POST" and path.endswith("/messages"):
            body: JsonDict = json.loads(request.body or b"{}")
            model = str(body.get("model", ""))
            self.in_flight[model] += 1
            self.max_in_flight[model] = max(self.max_in_flight[model], self.in_flight[model])
            try:
                return await self._messages(request, body, writer)
            finally:
                self.in_flight[model] -= 1
        return await super()._dispatch(request, writer)

    async def _messages(self, request: Any, body: JsonDict, writer: asyncio.StreamWriter) -> bool:
        model = str(body.get("model", "echo"))
        self.requests[model] += 1
        self.last_headers = request.headers
        self.seen_headers.append({"model": model, "headers": dict(request.headers)})
        self.last_body = body
        scenario, opts = parse_model(model)
        key = request.headers.get("x-api-key", "")

        if scenario in ("429", "529", "500"):
            default = "1000000000" if scenario == "500" else "1"
            if self._failures[model] < int(opts.get("fails", default)):
                self._failures[model] += 1
                kind, message, extra = {
                    "429": (
                        "rate_limit_error",
                        "Number of request tokens has exceeded your rate limit",
                        True,
                    ),
                    "529": ("overloaded_error", "Overloaded", True),
                    "500": ("api_error", "Internal server error", False),
                }[scenario]
                headers = {"retry-after": opts.get("retry_after", "1")} if extra else {}
                await self._send_json(writer, int(scenario), _error(kind, message), headers)
                return True
        fixed = {
            "401": (401, "authentication_error", "invalid x-api-key"),
            "400": (400, "invalid_request_error", "temperature: range: 0..1"),
            "context": (
                400,
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
            ),
        }
        if scenario in fixed:
            status, kind, message = fixed[scenario]
            await self._send_json(writer, status, _error(kind, message))
            return True
        if scenario == "echo_key":
            status = int(opts.get("status", "401"))
            message = f"invalid x-api-key: {key}. See https://api.example.invalid/v1?key={key}"
            await self._send_json(writer, status, _error("authentication_error", message))
            return True
        if scenario == "hang_first":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False
        if not body.get("stream"):
            return await self._complete(writer, model, body, scenario, opts)
        return await self._stream(writer, model, body, scenario, opts, key)

    async def _complete(
        self,
        writer: asyncio.StreamWriter,
        model: str,
        body: JsonDict,
        scenario: str,
        opts: dict[str, str],
    ) -> bool:
        """``stream: false``: the whole message once it would have finished streaming."""
        messages = body.get("messages") or []
        last_user = next(
            (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        items = tokens(opts, last_user, scenario)
        async for _ in paced(items, opts):
            pass
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": opts.get("reported", model),
            "content": [{"type": "text", "text": "".join(items)}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": sum(words(_text(m.get("content"))) for m in messages),
                "output_tokens": len(items),
            },
        }
        await self._send_json(writer, 200, message)
        return True

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        model: str,
        body: JsonDict,
        scenario: str,
        opts: dict[str, str],
        key: str,
    ) -> bool:
        messages = body.get("messages") or []
        last_user = next(
            (_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), ""
        )
        items = tokens(opts, last_user, scenario)
        if scenario == "echo_auth":
            reflected = f"you sent: {key or '(no x-api-key)'}"
            size = max(1, int(opts.get("chunk", "5")))
            items = [reflected[i : i + size] for i in range(0, len(reflected), size)]
        after = int(opts.get("after", "3"))
        stop = {
            "length": "max_tokens",
            "stop_sequence": "stop_sequence",
            "refusal": "refusal",
        }.get(scenario, "end_turn")
        if scenario == "refusal":
            items = items[:after]
        limit = body.get("max_tokens")
        if isinstance(limit, int) and len(items) > limit:
            items, stop = items[:limit], "max_tokens"
        system = body.get("system") or ""
        if isinstance(system, list):
            system = " ".join(str(b.get("text", "")) for b in system)
        usage: JsonDict = {
            "input_tokens": words(str(system))
            + sum(words(_text(m.get("content"))) for m in messages),
            "output_tokens": 1,
        }
        if scenario == "cache":
            usage |= {"cache_read_input_tokens": 7, "cache_creation_input_tokens": 5}

        await self.start_stream(writer)
        message = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": opts.get("reported", model),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        writer.write(_event("message_start", {"type": "message_start", "message": message}))
        if scenario == "error_first":
            writer.write(_event("error", _error("api_error", "Internal server error")))
            await self.end_stream(writer)
            return True
        block = 0
        if scenario == "thinking":
            writer.write(
                _event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "thinking", "thinking": ""},
                    },
                )
            )
            for delta in (
                {"type": "thinking_delta", "thinking": "Let me think. "},
                {"type": "signature_delta", "signature": "EqQBCgIYAhIM"},
            ):
                writer.write(
                    _event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": delta},
                    )
                )
            writer.write(_event("content_block_stop", {"type": "content_block_stop", "index": 0}))
            block = 1
        writer.write(
            _event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": block,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        writer.write(_event("ping", {"type": "ping"}))
        await writer.drain()
        cut = after if scenario in ("drop", "malformed", "hang_mid", "overloaded") else None
        delay = float(opts.get("delay", "0"))
        async for index, token in paced(items, opts):
            if cut is not None and index == cut:
                break
            writer.write(
                _event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": block,
                        "delta": {"type": "text_delta", "text": token},
                    },
                )
            )
            if delay or index % 64 == 0:
                await writer.drain()
        await writer.drain()
        if scenario == "drop":
            writer.transport.abort()
            return False
        if scenario == "malformed":
            writer.write(
                chunk(
                    b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta"\n\n'
                )
            )
            await self.end_stream(writer)
            return True
        if scenario == "hang_mid":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False
        if scenario == "overloaded":
            writer.write(_event("error", _error("overloaded_error", "Overloaded")))
            await self.end_stream(writer)
            return True
        writer.write(_event("content_block_stop", {"type": "content_block_stop", "index": block}))
        if scenario != "no_finish":
            writer.write(
                _event(
                    "message_delta",
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": stop, "stop_sequence": None},
                        "usage": {"output_tokens": len(items)},
                    },
                )
            )
        writer.write(_event("message_stop", {"type": "message_stop"}))
        await self.end_stream(writer)
        return True


if __name__ == "__main__":
    serve(FakeAnthropic)
