"""An OpenAI-compatible chat-completions server for tests and benchmarks, with scripted faults.

Plain asyncio (no framework) so every byte on the wire is under control: a fault here is a real
fault on a real socket, seen by the real litellm → openai → httpx stack.

The scenario is chosen per request by the model name, ``<scenario>[?key=value&...]``, e.g.
``fake/echo``, ``fake/tokens?n=5000``, ``fake/tokens?n=50&ttft=0.1&delay=0.01``, ``fault/429``.
With litellm, prefix ``openai/`` and pass ``api_base=server.base_url``.

Scenarios (``fake/`` and ``fault/`` prefixes are interchangeable):

==================  ==========================================================================
``echo``            streams the last user message back word by word, finish ``stop``
``tokens``          streams ``n`` tokens ``"t0 t1 …"`` (default 20; ``prefix=a`` gives ``"a0 a1 …"``)
``length``          like ``tokens`` but finish_reason ``length``
``content_filter``  a few tokens, then finish_reason ``content_filter``
``429``             ``fails`` times (default 1) 429 with ``Retry-After: retry_after`` (default
                    1; ``retry_after_ms`` sends ``retry-after-ms``), then streams like ``tokens``
``500``             ``fails`` times (default: always) 500, then streams like ``tokens``
``400``             400 invalid_request_error (never succeeds)
``context``         400 with ``code: context_length_exceeded``
``drop``            ``after`` tokens (default 3), then the connection is cut mid-body
``malformed``       ``after`` tokens, then a ``data:`` line that is not JSON
``bad_utf8``        ``after`` tokens, then a ``data:`` line whose bytes are not UTF-8
``hang_first``      accepts the request, sends nothing for ``hang`` s (default 3600)
``hang_mid``        ``after`` tokens, then nothing for ``hang`` s
``inband_error``    ``after`` tokens, then ``data: {"error": {...}}`` and the stream ends
``no_finish``       tokens without any finish_reason, no ``[DONE]``; the body ends cleanly
``no_done``         tokens and finish_reason ``stop``, but no ``[DONE]``
``echo_key``        ``status`` (default 401) error whose body echoes the bearer key, and a URL
                    with the key in its query string
``echo_auth``       streams the request's ``Authorization`` header back as content (``chunk``
                    characters per chunk, default 5, so a key is split across chunks), like a
                    proxy that reflects headers
``judge``           a deterministic LLM judge (see :func:`judge_reply`): strict JSON verdicts
                    from genaicompare's judge prompts, prose for answers containing
                    ``BREAK-JUDGE`` (a parse failure)
==================  ==========================================================================

Common parameters: ``n`` tokens, ``delay`` seconds between tokens (``pace=1``: on an absolute
schedule), ``ttft`` seconds before the first token, ``usage=0`` to omit the usage chunk, ``reported`` the model name put in chunks.

Use it in-process (``with FakeOpenAI() as server:`` — runs on a background thread) or as a
subprocess: ``python -m tests.support.fake_openai --port 0`` prints ``PORT <n>`` on stdout.
``GET /stats`` returns request counts; ``GET /headers`` the headers of every chat request so far
(``[{"model": …, "headers": {…}}]``, also :attr:`FakeOpenAI.seen_headers`); ``POST /reset``
clears counts, recorded headers and fault counters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

JsonDict = dict[str, Any]


class _Request:
    __slots__ = ("body", "headers", "method", "path")

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


def parse_model(model: str) -> tuple[str, dict[str, str]]:
    """``fault/429?retry_after=2`` → (``429``, ``{"retry_after": "2"}``)."""
    name, _, query = model.partition("?")
    for prefix in ("openai/", "fake/", "fault/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    return name, dict(parse_qsl(query))


class FakeOpenAI:
    """The server. ``requests`` counts chat-completion requests per model string."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.requests: Counter[str] = Counter()
        self.last_headers: dict[str, str] = {}
        self.seen_headers: list[JsonDict] = []
        """Every chat request's model and headers, in arrival order (``GET /headers``)."""
        self.last_body: JsonDict = {}
        self._failures: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        """Most chat requests open at once, per model string (concurrency checks, not timing)."""
        self._server: asyncio.AbstractServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._open: set[asyncio.StreamWriter] = set()

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def reset(self) -> None:
        self.requests.clear()
        self.max_in_flight.clear()
        self._failures.clear()
        self.seen_headers.clear()

    async def start_async(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, backlog=256)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop_async(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._open):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def start(self) -> FakeOpenAI:
        """Run on a daemon thread with its own event loop; returns once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            loop.run_until_complete(self.start_async())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop_async())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            self._loop = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- HTTP

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    return
                keep = await self._dispatch(request, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._open.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return _Request(method, path, headers, body)

    @staticmethod
    def _head(status: int, headers: dict[str, str]) -> bytes:
        reason = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            429: "Too Many Requests",
            500: "Internal Server Error",
        }.get(status, "Error")
        lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def _send_json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: JsonDict,
        extra: dict[str, str] | None = None,
    ) -> None:
        body = json.dumps(payload).encode()
        headers = {
            "content-type": "application/json",
            "content-length": str(len(body)),
            **(extra or {}),
        }
        writer.write(self._head(status, headers) + body)
        await writer.drain()

    async def _dispatch(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method == "GET" and path.endswith("/stats"):
            await self._send_json(
                writer, 200, {"requests": dict(self.requests), "total": self.total_requests}
            )
            return True
        if request.method == "GET" and path.endswith("/headers"):
            await self._send_json(writer, 200, {"requests": self.seen_headers})
            return True
        if request.method == "POST" and path.endswith("/reset"):
            self.reset()
            await self._send_json(writer, 200, {"ok": True})
            return True
        if request.method == "GET" and path.endswith("/models"):
            await self._send_json(writer, 200, {"object": "list", "data": []})
            return True
        if request.method == "POST" and path.endswith("/chat/completions"):
            model = str(json.loads(request.body or b"{}").get("model", ""))
            self.in_flight[model] += 1
            self.max_in_flight[model] = max(self.max_in_flight[model], self.in_flight[model])
            try:
                return await self._chat(request, writer)
            finally:
                self.in_flight[model] -= 1
        await self._send_json(writer, 404, {"error": {"message": f"no route {path}"}})
        return True

    # ---------------------------------------------------------------- chat completions

    async def _chat(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        body: JsonDict = json.loads(request.body or b"{}")
        model = str(body.get("model", "fake/echo"))
        self.requests[model] += 1
        self.last_headers = request.headers
        self.seen_headers.append({"model": model, "headers": dict(request.headers)})
        self.last_body = body
        scenario, opts = parse_model(model)
        key = request.headers.get("authorization", "").removeprefix("Bearer ").strip()

        if scenario in ("429", "500"):
            default_fails = "1" if scenario == "429" else "1000000000"
            if self._failures[model] < int(opts.get("fails", default_fails)):
                self._failures[model] += 1
                if scenario == "429":
                    extra = (
                        {"retry-after-ms": opts["retry_after_ms"]}
                        if "retry_after_ms" in opts
                        else {"retry-after": opts.get("retry_after", "1")}
                    )
                    await self._send_json(
                        writer,
                        429,
                        _error("Rate limit reached, slow down", "rate_limit_exceeded"),
                        extra,
                    )
                else:
                    await self._send_json(
                        writer, 500, _error("The server had an error", "server_error")
                    )
                return True
        if scenario == "400":
            await self._send_json(writer, 400, _error("Invalid parameter: nope", "invalid_request"))
            return True
        if scenario == "context":
            await self._send_json(
                writer,
                400,
                _error(
                    "This model's maximum context length is 8 tokens. However, your messages "
                    "resulted in 100 tokens.",
                    "context_length_exceeded",
                ),
            )
            return True
        if scenario == "echo_key":
            status = int(opts.get("status", "401"))
            message = (
                f"Incorrect API key provided: {key}. Retry at "
                f"https://api.example.invalid/v1/chat?key={key}&alt=sse"
            )
            await self._send_json(writer, status, _error(message, "invalid_api_key"))
            return True
        if scenario == "hang_first":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False

        if not body.get("stream"):
            return await self._complete_non_stream(
                writer, model, body, scenario, opts, request.headers
            )
        return await self._stream(writer, model, body, scenario, opts, request.headers)

    @staticmethod
    def _tokens(
        body: JsonDict, scenario: str, opts: dict[str, str], headers: dict[str, str] | None = None
    ) -> list[str]:
        headers = headers or {}
        if scenario == "judge":
            reply = judge_reply(body.get("messages") or [])
            return [reply[i : i + 12] for i in range(0, len(reply), 12)] or [""]
        if scenario == "echo_auth":
            reflected = f"you sent: {headers.get('authorization', '(no authorization header)')}"
            size = max(1, int(opts.get("chunk", "5")))
            return [reflected[i : i + size] for i in range(0, len(reflected), size)]
        if scenario == "echo":
            messages = body.get("messages") or [{}]
            last = next((m for m in reversed(messages) if m.get("role") == "user"), messages[-1])
            content = last.get("content") or ""
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            words = str(content).split(" ")
            return [w if i == 0 else " " + w for i, w in enumerate(words)] or [""]
        count = int(opts.get("n", "20"))
        word = opts.get("prefix", "t")
        return [f"{word}{i}" if i == 0 else f" {word}{i}" for i in range(count)]

    async def _complete_non_stream(
        self,
        writer: asyncio.StreamWriter,
        model: str,
        body: JsonDict,
        scenario: str,
        opts: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> bool:
        tokens = self._tokens(body, scenario, opts, headers)
        payload = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": opts.get("reported", model),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "".join(tokens)},
                }
            ],
            "usage": _usage(body, len(tokens)),
        }
        await self._send_json(writer, 200, payload)
        return True

    async def _stream(
        self,
        writer: asyncio.StreamWriter,
        model: str,
        body: JsonDict,
        scenario: str,
        opts: dict[str, str],
        headers: dict[str, str] | None = None,
    ) -> bool:
        tokens = self._tokens(body, scenario, opts, headers)
        delay = float(opts.get("delay", "0"))
        ttft = float(opts.get("ttft", "0"))
        after = int(opts.get("after", "3"))
        reported = opts.get("reported", model)
        created = int(time.time())
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        include_usage = include_usage and opts.get("usage", "1") != "0"
        finish = {"length": "length", "content_filter": "content_filter"}.get(scenario, "stop")
        if scenario == "content_filter":
            tokens = tokens[: min(len(tokens), after)]
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        if isinstance(limit, int) and len(tokens) > limit:
            tokens, finish = tokens[:limit], "length"

        writer.write(
            self._head(
                200,
                {
                    "content-type": "text/event-stream",
                    "cache-control": "no-cache",
                    "transfer-encoding": "chunked",
                },
            )
        )

        def event(data: str) -> bytes:
            payload = f"data: {data}\n\n".encode()
            return b"%x\r\n%s\r\n" % (len(payload), payload)

        def chunk(delta: JsonDict, finish_reason: str | None = None) -> bytes:
            return event(
                json.dumps(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": reported,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
                    }
                )
            )

        writer.write(chunk({"role": "assistant", "content": ""}))
        await writer.drain()
        if ttft:
            await asyncio.sleep(ttft)
        # pace=1: tokens on an absolute schedule (start + i·delay), so per-request time does not
        # drift with timer overshoot under load (the headless benchmark needs exactly 0.2 s).
        paced_from = asyncio.get_running_loop().time() if opts.get("pace") == "1" else None
        cut_at = (
            after
            if scenario in ("drop", "malformed", "bad_utf8", "hang_mid", "inband_error")
            else None
        )
        for index, token in enumerate(tokens):
            if cut_at is not None and index == cut_at:
                break
            if index and delay:
                if paced_from is None:
                    await asyncio.sleep(delay)
                else:
                    wait = paced_from + index * delay - asyncio.get_running_loop().time()
                    if wait > 0:
                        await asyncio.sleep(wait)
            writer.write(chunk({"content": token}))
            if delay or index % 64 == 0:
                await writer.drain()
        await writer.drain()

        if scenario == "drop":
            writer.transport.abort()
            return False
        if scenario == "malformed":
            writer.write(event('{"id": "chatcmpl-fake", "choices": [{"delta": {"content": "x"'))
            writer.write(event("[DONE]"))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if scenario == "bad_utf8":
            payload = b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}\n\n'
            writer.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            writer.write(event("[DONE]"))
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if scenario == "hang_mid":
            await asyncio.sleep(float(opts.get("hang", "3600")))
            return False
        if scenario == "inband_error":
            writer.write(
                event(json.dumps(_error("The model overloaded mid-stream", "server_error")))
            )
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        if scenario == "no_finish":
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True

        writer.write(chunk({}, finish))
        if include_usage:
            writer.write(
                event(
                    json.dumps(
                        {
                            "id": "chatcmpl-fake",
                            "object": "chat.completion.chunk",
                            "created": created,
                            "model": reported,
                            "choices": [],
                            "usage": _usage(body, len(tokens)),
                        }
                    )
                )
            )
        if scenario != "no_done":
            writer.write(event("[DONE]"))
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True


_JUDGE_BLOCK = re.compile(r"<<<([A-Z]+(?: \d+)?) ([0-9a-f]+)>>>\n(.*?)\n<<<END \1 \2>>>", re.S)
_WORD = re.compile(r"\w+")


def judge_reply(messages: list[JsonDict]) -> str:
    """A deterministic judge for genaicompare's judge prompts (metrics/judge.py).

    * score: answers naming Paris get helpfulness 9, relevance 8, accuracy 10, detail 7 (mean
      8.5); others 3, 2, 1, 4 (mean 2.5);
    * pairwise: the answer naming Paris wins, else a tie (so both orders agree);
    * groundedness: a sentence is supported when at least half its words occur in the context;
    * an answer (or sentence) containing ``BREAK-JUDGE`` gets prose back: a parse failure.
    """
    system = str(messages[0].get("content", "")) if messages else ""
    user = str(messages[-1].get("content", "")) if messages else ""
    blocks = {m.group(1): m.group(3) for m in _JUDGE_BLOCK.finditer(user)}
    if any("BREAK-JUDGE" in text for name, text in blocks.items() if name != "QUESTION"):
        return "I would give this answer a solid 7 out of 10, it is fine."
    if "comparing two answers" in system:
        first = "paris" in blocks.get("ANSWER 1", "").lower()
        second = "paris" in blocks.get("ANSWER 2", "").lower()
        winner = "1" if first and not second else "2" if second and not first else "tie"
        return json.dumps({"winner": winner, "reason": "the answer naming Paris is right"})
    if "supported by the given context" in system:
        context = {w.lower() for w in _WORD.findall(blocks.get("CONTEXT", ""))}
        supported = []
        for name, text in blocks.items():
            if name.startswith("SENTENCE "):
                words = [w.lower() for w in _WORD.findall(text)]
                if words and sum(w in context for w in words) * 2 >= len(words):
                    supported.append(int(name.split()[1]))
        return json.dumps({"supported": sorted(supported), "reason": "word overlap"})
    good = "paris" in blocks.get("ANSWER", "").lower()
    scores = (9, 8, 10, 7) if good else (3, 2, 1, 4)
    criteria = ("helpfulness", "relevance", "accuracy", "detail")
    return json.dumps(
        {
            **dict(zip(criteria, scores, strict=True)),
            "reason": "names Paris" if good else "no Paris",
        }
    )


def _error(message: str, code: str) -> JsonDict:
    return {"error": {"message": message, "type": code, "param": None, "code": code}}


def _usage(body: JsonDict, completion_tokens: int) -> JsonDict:
    """Prompt tokens: one per whitespace-separated word of every message (deterministic)."""
    prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages") or [])
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


@contextlib.contextmanager
def running() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def serve() -> None:
        server = FakeOpenAI(args.host, args.port)
        await server.start_async()
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
