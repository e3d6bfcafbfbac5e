"""CPU per streamed chunk: genaicompare's litellm path vs reading the same SSE with httpx alone.

The fake OpenAI server runs in a *subprocess* so only the client's CPU is counted
(``time.process_time`` of this process). Streams ``--tokens`` chunks at zero delay.

    python benchmarks/bench_litellm_chunk.py [--tokens 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx
from _common import base_url, start_server

from genaicompare.providers import FinishState, ModelRequest, TextDelta, Timeouts
from genaicompare.providers.backends.litellm import stream, warm_up


async def via_httpx(base: str, tokens: int) -> int:
    body = {
        "model": f"fake/tokens?n={tokens}",
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    count = 0
    async with (
        httpx.AsyncClient(timeout=60) as client,
        client.stream("POST", f"{base}/chat/completions", json=body) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                if chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                    count += 1
    return count


async def via_genaicompare(base: str, tokens: int) -> int:
    request = ModelRequest(
        alias="f",
        model=f"openai/fake/tokens?n={tokens}",
        messages=[{"role": "user", "content": "hi"}],
        api_base=base,
    )
    count = 0
    async for event in stream(request, Timeouts(total=600)):
        if isinstance(event, TextDelta):
            count += 1
        elif event.__class__.__name__ == "Finished":
            assert event.state is FinishState.complete, event  # type: ignore[union-attr]
    return count


def measure(fn: object, base: str, tokens: int, repeat: int) -> tuple[float, float]:
    cpu_us: list[float] = []
    wall_s: list[float] = []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        got = asyncio.run(fn(base, tokens))  # type: ignore[operator]
        cpu_us.append((time.process_time() - c0) / got * 1e6)
        wall_s.append(time.perf_counter() - w0)
        assert got == tokens, (got, tokens)
    return statistics.median(cpu_us), statistics.median(wall_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    warm_up()
    proc, port = start_server()
    base = base_url(port)
    try:
        asyncio.run(via_genaicompare(base, 10))  # first-call setup (clients, cost map) untimed
        raw_cpu, raw_wall = measure(via_httpx, base, args.tokens, args.repeat)
        gc_cpu, gc_wall = measure(via_genaicompare, base, args.tokens, args.repeat)
    finally:
        proc.terminate()
        proc.wait(5)
    print(f"{args.tokens} chunks, median of {args.repeat}")
    print(f"{'client':<26}{'CPU µs/chunk':>14}{'wall s':>9}")
    print(f"{'httpx + json (baseline)':<26}{raw_cpu:>14.0f}{raw_wall:>9.2f}")
    print(f"{'genaicompare → litellm':<26}{gc_cpu:>14.0f}{gc_wall:>9.2f}")
    print(f"ratio litellm path / baseline: {gc_cpu / raw_cpu:.1f}×")


if __name__ == "__main__":
    main()
