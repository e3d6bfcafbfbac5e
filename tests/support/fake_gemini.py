"""A fake Gemini API (``POST /v1beta/models/{model}:streamGenerateContent?alt=sse``) speaking the
real wire format, with scripted faults; for tests and benchmarks (``benchmarks/bench_native.py``).

Each SSE event is ``data: <GenerateContentResponse>`` followed by a blank line with CRLF line
ends, as Google sends them: ``candidates[0].content.parts[].text`` (role ``model``), the last one
with ``finishReason``; ``usageMetadata`` (``promptTokenCount``, ``candidatesTokenCount``,
``totalTokenCount``, ``thoughtsTokenCount`` when thinking) on every event, growing; and
``modelVersion``. Errors are google.rpc bodies, ``{"error": {"code", "message", "status",
"details"}}`` — 429 ``RESOURCE_EXHAUSTED`` carries a ``RetryInfo`` detail (and ``Retry-After``
with ``header=1``).

The scenario is the model name in the path, ``<scenario>[;k=v;…]`` (``?k=v&…`` works when the
client percent-encodes it); ``fake/`` and ``fault/`` prefixes are ignored:

================  ==============================================================================
``echo``          the last user turn back word by word, ``STOP``
``tokens``        ``n`` tokens (``prefix``), ``STOP``; ``generationConfig.maxOutputTokens``
                  truncates with ``MAX_TOKENS``
``length``        tokens, then ``MAX_TOKENS``
``safety``        ``after`` tokens (default 3), then ``SAFETY``
``recitation``    ``after`` tokens, then ``RECITATION``
``blocked``       no candidates: ``promptFeedback.blockReason: SAFETY``
``thoughts``      a ``thought: true`` part first, then tokens; usage has ``thoughtsTokenCount: 4``
``429``           ``fails`` times (default 1) 429 with ``RetryInfo.retryDelay`` = ``retry_after``
                  s (default 1; ``header=1`` sends it as ``Retry-After`` instead)
``500``/``503``   ``fails`` times (default always) 500 ``INTERNAL`` / 503 ``UNAVAILABLE``
``400``           400 ``INVALID_ARGUMENT``
``401``           400 ``API key not valid`` (what Google answers a bad key), never succeeds
``403``           403 ``PERMISSION_DENIED``
``inband_error``  ``after`` tokens, then ``data: {"error": {… "status": "INTERNAL"}}``
``drop``          ``after`` tokens, then the connection is cut
``malformed``     ``after`` tokens, then a data line that is not JSON
``hang_first``    nothing for ``hang`` s (default 3600)
``hang_mid``      ``after`` tokens, then nothing for ``hang`` s
``no_finish``     tokens, never a ``finishReason``
``echo_key``      ``status`` (default 400) error whose message echoes the ``x-goog-api-key``
``echo_auth``     streams the ``x-goog-api-key`` header back, ``chunk`` characters per event
================  ==============================================================================

``:generateContent`` (not streamed) gets the whole response once it would have finished
streaming (the benchmark's promptfoo reference uses it).

Common options: ``n``, ``delay`` (``pace=1``), ``ttft``, ``after``, ``reported``
(``modelVersion``). Prompt tokens: one per word of ``systemInstruction`` and every turn.

In-process: ``with FakeGemini() as server:`` (``server.base_url`` ends in ``/v1beta``, to use as
``api_base``); subprocess: ``python -m tests.support.fake_gemini --port 0`` prints ``PORT n``.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote

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

_ROUTE = re.compile(r"/models/(.+):(streamGenerateContent|generateContent)$")
_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _error(code: int, message: str, details: list[JsonDict] | None = None) -> JsonDict:
    err: JsonDict = {"code": code, "message": message, "status": _STATUS.get(code, "UNKNOWN")}
    if details:
        err["details"] = details
    return {"error": err}


def _event(data: JsonDict) -> bytes:
    return chunk(b"data: " + json.dumps(data).encode() + b"\r\n\r\n")


def _text(turn: JsonDict) -> str:
    return " ".join(str(p.get("text", "")) for p in turn.get("parts") or [])


class FakeGemini(FakeSSE):
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1beta"

    async def _dispatch(self, request: Any, writer: asyncio.StreamWriter) -> bool:
        path = request.path.split("?", 1)[0]
        match = _ROUTE.search(unquote(path)) if request.method == "POST" else None
        if match is None:
            return await super()._dispatch(request, writer)
        model = match.group(1)
        if match.group(2) == "generateContent":
            return await self._complete(request, model, writer)
        self.in_flight[model] += 1
        self.max_in_flight[model] = max(self.max_in_flight[model], self.in_flight[model])
        try:
            return await self._generate(request, model, writer)
        finally:
            self.in_flight[model] -= 1

    async def _complete(self, request: Any, model: str, writer: asyncio.StreamWriter) -> bool:
        """``:generateContent``: the whole response once it would have finished streaming."""
        body: JsonDict = json.loads(request.body or b"{}")
        self.requests[model] += 1
        scenario, opts = parse_model(model)
        contents = body.get("contents") or []
        last_user = next((_text(t) for t in reversed(contents) if t.get("role") == "user"), "")
        items = tokens(opts, last_user, scenario)
        async for _ in paced(items, opts):
            pass
        prompt = sum(words(_text(t)) for t in contents)
        response = {
            "candidates": [
                {
                    "content": {"parts": [{"text": "".join(items)}], "role": "model"},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": prompt,
                "candidatesTokenCount": len(items),
                "totalTokenCount": prompt + len(items),
            },
            "modelVersion": opts.get("reported", model),
        }
        await self._send_json(writer, 200, response)
        return True

    async def _generate(self, request: Any, model: str, writer: asyncio.StreamWriter) -> bool:
        body: JsonDict = json.loads(request.body or b"{}")
        self.requests[model] += 1
        self.last_headers = request.headers
        self.seen_headers.append(
            {"model": model, "headers": dict(request.headers), "path": request.path}
        )
        self.last_body = body
        scenario, opts = parse_model(model)
        key = request.headers.get("x-goog-api-key", "")

        if scenario in ("429", "500", "503"):
            default = "1" if scenario == "429" else "1000000000"
            if self._failures[model] < int(opts.get("fails", default)):
                self._failures[model] += 1
                code = int(scenario)
                if code == 429:
                    delay = opts.get("retry_after", "1")
                    header = opts.get("header") == "1"
                    details = (
                        []
                        if header
                        else [
                            {
                                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                                "retryDelay": f"{delay}s",
                            }
                        ]
                    )
                    await self._send_json(
                        writer,
                        429,
                        _error(429, "Resource has been exhausted (e.g. check quota).", details),
                        {"retry-after": delay} if header else None,
                    )
                else:
                    await self._send_json(
                        writer, code, _error(code, "An internal error has occurred.")
                    )
                return True
        fixed = {
            "400": (400, 'Invalid JSON payload received. Unknown name "nope"'),
            "401": (400, "API key not valid. Please pass a valid API key."),
            "403": (403, "Method doesn't allow unregistered callers."),
        }
        if scenario in fixed:
            code, message = fixed[scenario]
            await self._send_json(writer, code, _error(code, message))
            return True
        if scenario == "echo_key":
            code = int(opts.get("status", "400"))
            message = f"API key not valid: {key}. Retry at https://example.invalid/v1beta?key={key}"
            await self._send_json(writer, code, _error(code, message))
            return True
        if scenario == "hang_first":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False
        return await self._stream(writer, model, body, scenario, opts, key)

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        model: str,
        body: JsonDict,
        scenario: str,
        opts: dict[str, str],
        key: str,
    ) -> bool:
        contents = body.get("contents") or []
        last_user = next((_text(t) for t in reversed(contents) if t.get("role") == "user"), "")
        items = tokens(opts, last_user, scenario)
        if scenario == "echo_auth":
            reflected = f"you sent: {key or '(no x-goog-api-key)'}"
            size = max(1, int(opts.get("chunk", "5")))
            items = [reflected[i : i + size] for i in range(0, len(reflected), size)]
        after = int(opts.get("after", "3"))
        finish = {"length": "MAX_TOKENS", "safety": "SAFETY", "recitation": "RECITATION"}.get(
            scenario, "STOP"
        )
        if scenario in ("safety", "recitation"):
            items = items[:after]
        limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
        if isinstance(limit, int) and len(items) > limit:
            items, finish = items[:limit], "MAX_TOKENS"
        system = _text(body.get("systemInstruction") or {})
        prompt = words(system) + sum(words(_text(t)) for t in contents)
        thoughts = 4 if scenario == "thoughts" else 0
        version = opts.get("reported", model)

        def usage(done: int) -> JsonDict:
            meta = {
                "promptTokenCount": prompt,
                "candidatesTokenCount": done,
                "totalTokenCount": prompt + done + thoughts,
            }
            if thoughts:
                meta["thoughtsTokenCount"] = thoughts
            return meta

        def response(parts: list[JsonDict], done: int, reason: str | None = None) -> JsonDict:
            candidate: JsonDict = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if reason:
                candidate["finishReason"] = reason
            return {
                "candidates": [candidate],
                "usageMetadata": usage(done),
                "modelVersion": version,
                "responseId": "fake",
            }

        await self.start_stream(writer)
        if scenario == "blocked":
            writer.write(
                _event(
                    {
                        "promptFeedback": {"blockReason": "SAFETY"},
                        "usageMetadata": usage(0),
                        "modelVersion": version,
                    }
                )
            )
            await self.end_stream(writer)
            return True
        if scenario == "thoughts":
            writer.write(_event(response([{"text": "Let me think.", "thought": True}], 0)))
        await writer.drain()
        cut = after if scenario in ("drop", "malformed", "hang_mid", "inband_error") else None
        delay = float(opts.get("delay", "0"))
        last = len(items) - 1
        async for index, token in paced(items, opts):
            if cut is not None and index == cut:
                break
            # Gemini puts the finish reason on the event with the last text.
            reason = finish if index == last and scenario != "no_finish" else None
            writer.write(_event(response([{"text": token}], index + 1, reason)))
            if delay or index % 64 == 0:
                await writer.drain()
        await writer.drain()
        if scenario == "drop":
            writer.transport.abort()
            return False
        if scenario == "malformed":
            writer.write(
                chunk(b'data: {"candidates": [{"content": {"parts": [{"text": "x"\r\n\r\n')
            )
        elif scenario == "hang_mid":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False
        elif scenario == "inband_error":
            writer.write(_event(_error(500, "An internal error has occurred.")))
        elif not items and scenario != "no_finish":
            writer.write(_event(response([], 0, finish)))
        await self.end_stream(writer)
        return True


if __name__ == "__main__":
    serve(FakeGemini)
