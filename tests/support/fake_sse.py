"""What the fake Anthropic and Gemini servers share with each other (and with
:mod:`tests.support.fake_openai`, whose HTTP plumbing they reuse): scenario names with options,
word counting for usage, token lists, pacing, chunked SSE writing, and ``python -m`` serving.

Scenario options may follow ``?`` and ``&`` (``tokens?n=5&delay=0.01``) or ``;``
(``tokens;n=5;delay=0.01``) — the second form survives a URL path unquoted, which the Gemini
model name is part of.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from tests.support.fake_openai import FakeOpenAI

JsonDict = dict[str, Any]
_SPLIT = re.compile(r"[?;]")


def parse_model(model: str) -> tuple[str, dict[str, str]]:
    """``fault/429;retry_after=2`` → (``429``, ``{"retry_after": "2"}``)."""
    parts = _SPLIT.split(model, maxsplit=1)
    name = parts[0]
    query = parts[1].replace(";", "&") if len(parts) > 1 else ""
    for prefix in ("anthropic/", "gemini/", "fake/", "fault/"):
        name = name.removeprefix(prefix)
    return name, dict(parse_qsl(query))


def words(text: str) -> int:
    return len(text.split())


def tokens(opts: dict[str, str], last_user: str, scenario: str) -> list[str]:
    if scenario == "echo":
        out = last_user.split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(out)] or [""]
    count = int(opts.get("n", "20"))
    word = opts.get("prefix", "t")
    return [f"{word}{i}" if i == 0 else f" {word}{i}" for i in range(count)]


async def paced(items: list[str], opts: dict[str, str]) -> AsyncIterator[tuple[int, str]]:
    """``(index, token)`` after ``ttft``, ``delay`` apart (``pace=1``: on an absolute schedule,
    so per-request time does not drift with timer overshoot under load)."""
    delay = float(opts.get("delay", "0"))
    ttft = float(opts.get("ttft", "0"))
    if ttft:
        await asyncio.sleep(ttft)
    loop = asyncio.get_running_loop()
    start = loop.time() if opts.get("pace") == "1" else None
    for index, item in enumerate(items):
        if index and delay:
            if start is None:
                await asyncio.sleep(delay)
            else:
                wait = start + index * delay - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
        yield index, item


def chunk(payload: bytes) -> bytes:
    """One HTTP/1.1 chunk."""
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class FakeSSE(FakeOpenAI):
    """A server with fake_openai's lifecycle, request reading and stats; subclasses route."""

    async def start_stream(self, writer: asyncio.StreamWriter) -> None:
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

    async def end_stream(self, writer: asyncio.StreamWriter) -> None:
        writer.write(b"0\r\n\r\n")
        await writer.drain()


def serve(server_class: type[FakeOpenAI], argv: list[str] | None = None) -> None:
    """``python -m tests.support.fake_<x> --port 0`` prints ``PORT <n>`` once listening."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)

    async def run() -> None:
        server = server_class(args.host, args.port)
        await server.start_async()
        print(f"PORT {server.port}", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())
