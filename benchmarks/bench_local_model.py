"""P6: the embedded local model's TTFT and tok/s per pane, with 1 and with 2 panes streaming.

Goes through the real path (``collect`` → litellm → llama-cpp-python server pool on 127.0.0.1), the
way the TUI's panes do. Servers are started (and warmed with one request each) before timing.
Prints a table and, with ``--json``, one JSON object.

    python benchmarks/bench_local_model.py [--tokens 64] [--repeat 3] [--servers 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time

from genaicompare.providers import ModelRequest, Timeouts, local
from genaicompare.providers.backends.litellm import warm_up
from genaicompare.providers.collect import collect

PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper."}]
TIMEOUTS = Timeouts(first_token=120, between_chunks=60, total=600)


def request(tokens: int, seed: int) -> ModelRequest:
    return ModelRequest(
        alias="smol",
        model="local/smollm2",
        messages=PROMPT,
        params={"max_tokens": tokens, "temperature": 0.7, "seed": seed},
    )


async def run(tokens: int, repeat: int, panes: int) -> dict[str, float]:
    ttfts: list[float] = []
    speeds: list[float] = []
    for rep in range(repeat):
        records = await asyncio.gather(
            *(collect(request(tokens, rep * 10 + p), TIMEOUTS) for p in range(panes))
        )
        for record in records:
            if record.ttft_ms is not None:
                ttfts.append(record.ttft_ms)
            if record.tokens_per_s is not None:
                speeds.append(record.tokens_per_s)
    return {
        "panes": panes,
        "ttft_ms_median": statistics.median(ttfts) if ttfts else float("nan"),
        "tok_s_per_pane_median": statistics.median(speeds) if speeds else float("nan"),
        "tok_s_total": (statistics.median(speeds) * panes) if speeds else float("nan"),
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, float]]:
    warm_up()
    local.configure(servers=args.servers, threads=args.threads)
    started = time.perf_counter()
    await local.ensure_started()
    startup = time.perf_counter() - started
    # one untimed request per server: the first generation pays for page-ins and allocations
    await asyncio.gather(*(collect(request(4, 0), TIMEOUTS) for _ in range(args.servers)))
    rows = [await run(args.tokens, args.repeat, panes) for panes in (1, 2)]
    print(f"server pool start: {startup:.2f} s ({args.servers} × {args.threads} thread)")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if local.missing_packages():
        sys.exit(f"local model not installed: {local.INSTALL_HINT}")
    try:
        rows = asyncio.run(main_async(args))
    finally:
        local.shutdown()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"load {load:.2f}"
    )
    print(f"{'panes':>5}  {'TTFT ms':>8}  {'tok/s per pane':>14}  {'tok/s total':>11}")
    for row in rows:
        print(
            f"{row['panes']:>5}  {row['ttft_ms_median']:>8.0f}  "
            f"{row['tok_s_per_pane_median']:>14.1f}  {row['tok_s_total']:>11.1f}"
        )
    ratio = rows[1]["tok_s_per_pane_median"] / rows[0]["tok_s_per_pane_median"]
    print(f"per-pane speed with 2 panes / with 1 pane: {ratio:.2f}")
    if args.json:
        print(json.dumps({"rows": rows, "two_pane_ratio": ratio, "load": load}))


if __name__ == "__main__":
    main()
