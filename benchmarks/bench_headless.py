"""P3: a headless batch vs the ideal, with TTFT still measured; memory as the catalog grows.

    python benchmarks/bench_headless.py [--prompts 200] [--jobs 16] [--json] [--skip-litellm]
                                        [--skip-memory]

Workload (issue 7): 200 prompts × 2 models against the local test server at 0.2 s per request —
100 ms to the first token, then 50 tokens paced over 100 ms on an absolute schedule (``pace=1``) —
with ``-j 16``. Ideal = requests × latency ÷ concurrency = 400 × 0.2 ÷ 16 = 5 s (goal ≤ 1.3×).

The server runs in its own process (as a real one would), the run is the real CLI in a subprocess
(``genaicompare run --no-cache --json``; metrics on, as by default), and the time reported is the
run's own ``seconds`` (catalog loading and interpreter start excluded; printed separately).
Rows:
  1. a raw asyncio client doing nothing but read the streams: what this server + machine allow;
  2. ``genaicompare run`` (the lean OpenAI-compatible client, the default for openai/ + api_base),
     then the same prompts with references (the lexical metrics and their WordNet load);
  3. the same with ``GENAICOMPARE_FAST_PATH=0`` (every chunk through litellm), for comparison:
     litellm's streams in worker processes (the default with 2+ cores), then in one process
     (``GENAICOMPARE_LITELLM_WORKERS=0``);
  4. peak RSS of a run with N and 10 × N prompts (zero-latency server; goal: +< 100 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import base_url, start_server

ROOT = Path(__file__).resolve().parent.parent
PACED = "fake/tokens?n=50&ttft=0.1&delay=0.00204&pace=1"
KEY_ENV = "GC_BENCH_KEY"


def write_catalog(
    path: Path, port: int, prompts: int, scenario: str, references: bool = False
) -> Path:
    base = base_url(port)
    doc = {
        "name": "bench-headless",
        "version": "1",
        "models": [
            {
                "id": alias,
                "model": f"openai/{scenario}&m={alias}",
                "api_base": base,
                "api_key_env": KEY_ENV,
            }
            for alias in ("old", "new")
        ],
        "prompts": [
            {
                "id": f"p{i:05d}",
                "prompt": f"Question {i}: summarise the quarterly report.",
                **({"reference": f"t0 t1 t2 answer {i}"} if references else {}),
            }
            for i in range(prompts)
        ],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _cli(catalog: Path, db: Path, jobs: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "genaicompare",
        "run",
        str(catalog),
        "--db",
        str(db),
        "-j",
        str(jobs),
        "--no-cache",
        "--no-progress",
        *extra,
    ]


def _env(home: Path, **env_extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "GENAICOMPARE_HOME": str(home),
        KEY_ENV: "sk-bench-0123456789",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        **env_extra,
    }


def run_cli(catalog: Path, db: Path, jobs: int, home: Path, **env_extra: str) -> dict[str, Any]:
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(
        _cli(catalog, db, jobs, "--json"),
        env=_env(home, **env_extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"run failed ({proc.returncode}): {err[-2000:]}")
    doc = json.loads(out)
    ttfts = [r["ttft_ms"] for r in doc["responses"] if r["ttft_ms"] is not None]
    states = {r["state"] for r in doc["responses"]}
    return {
        "seconds": doc["seconds"],
        "wall": wall,
        "cpu_s": cpu,
        "responses": len(doc["responses"]),
        "states": sorted(states),
        "mean_ttft_ms": sum(ttfts) / len(ttfts) if ttfts else None,
    }


def peak_rss_mb(catalog: Path, db: Path, jobs: int, home: Path) -> float:
    proc = subprocess.Popen(
        _cli(catalog, db, jobs),
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit("memory run failed")
    return usage.ru_maxrss / 1024


async def _raw_client(port: int, requests: int, jobs: int) -> tuple[float, float]:
    """The floor: open, send, read until [DONE]; no parsing beyond finding the end."""
    body = json.dumps(
        {"model": PACED, "stream": True, "messages": [{"role": "user", "content": "x"}]}
    ).encode()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json"
        b"\r\nconnection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
    )
    slots = asyncio.Semaphore(jobs)
    ttfts: list[float] = []

    async def one() -> None:
        async with slots:
            t0 = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head + body)
            first = None
            while data := await reader.read(65536):
                if first is None and b'"content": "t0"' in data:
                    first = time.perf_counter() - t0
                if b"[DONE]" in data:
                    break
            writer.close()
            ttfts.append((first or 0) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    return time.perf_counter() - started, sum(ttfts) / len(ttfts)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)
    requests = args.prompts * 2
    ideal = requests * 0.2 / args.jobs
    server, port = start_server()
    rows: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            raw_s, raw_ttft = asyncio.run(_raw_client(port, requests, args.jobs))
            rows.append(
                {
                    "what": "raw asyncio client (floor)",
                    "seconds": raw_s,
                    "ratio": raw_s / ideal,
                    "mean_ttft_ms": raw_ttft,
                }
            )
            cat = write_catalog(tmp / "c.json.yaml", port, args.prompts, PACED)
            fast = run_cli(cat, tmp / "fast.db", args.jobs, tmp / "home")
            rows.append(
                {"what": "genaicompare run (lean client)", **fast, "ratio": fast["seconds"] / ideal}
            )
            refs = write_catalog(tmp / "r.yaml", port, args.prompts, PACED, references=True)
            lexical = run_cli(refs, tmp / "refs.db", args.jobs, tmp / "home")
            rows.append(
                {
                    "what": "  + references (lexical metrics)",
                    **lexical,
                    "ratio": lexical["seconds"] / ideal,
                }
            )
            if not args.skip_litellm:
                slow = run_cli(
                    cat, tmp / "slow.db", args.jobs, tmp / "home", GENAICOMPARE_FAST_PATH="0"
                )
                rows.append(
                    {
                        "what": "genaicompare run (litellm path, worker processes)",
                        **slow,
                        "ratio": slow["seconds"] / ideal,
                    }
                )
                one = run_cli(
                    cat,
                    tmp / "slow1.db",
                    args.jobs,
                    tmp / "home",
                    GENAICOMPARE_FAST_PATH="0",
                    GENAICOMPARE_LITELLM_WORKERS="0",
                )
                rows.append(
                    {
                        "what": "genaicompare run (litellm path, one process)",
                        **one,
                        "ratio": one["seconds"] / ideal,
                    }
                )
            memory = None
            if not args.skip_memory:
                small = write_catalog(tmp / "m1.yaml", port, args.prompts, "fake/tokens?n=50")
                big = write_catalog(tmp / "m10.yaml", port, args.prompts * 10, "fake/tokens?n=50")
                rss_small = peak_rss_mb(small, tmp / "m1.db", args.jobs, tmp / "home")
                rss_big = peak_rss_mb(big, tmp / "m10.db", args.jobs, tmp / "home")
                memory = {
                    "prompts": args.prompts,
                    "rss_mb": rss_small,
                    "prompts_10x": args.prompts * 10,
                    "rss_10x_mb": rss_big,
                    "growth_mb": rss_big - rss_small,
                }
    finally:
        server.kill()
    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "ideal_s": ideal,
        "rows": rows,
        "memory": memory,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return result
    print(
        f"P3 headless batch: {args.prompts} prompts × 2 models, 0.2 s/request, -j {args.jobs}; "
        f"ideal {ideal:.2f} s  ({result['machine']}, load {os.getloadavg()[0]:.1f})"
    )
    print(f"{'':34} {'run s':>7} {'× ideal':>8} {'TTFT ms':>8} {'process s':>10} {'CPU s':>6}")
    for r in rows:
        print(
            f"{r['what']:34} {r['seconds']:7.2f} {r['ratio']:8.2f} "
            f"{r['mean_ttft_ms']:8.1f} {r.get('wall', float('nan')):10.2f} "
            f"{r.get('cpu_s', float('nan')):6.2f}"
        )
    print(
        "process s: the whole CLI process (interpreter start, imports, catalog load included); "
        "CPU s: its user + system CPU time"
    )
    if memory:
        print(
            f"peak RSS: {memory['prompts']} prompts {memory['rss_mb']:.0f} MB, "
            f"{memory['prompts_10x']} prompts {memory['rss_10x_mb']:.0f} MB "
            f"(+{memory['growth_mb']:.0f} MB; goal < 100)"
        )
    return result


if __name__ == "__main__":
    main()
