"""P2: streaming through the TUI vs litellm alone; CPU share of the app at 3 × 100 tok/s.

    python benchmarks/bench_streaming_ui.py [--tokens 5000] [--panes 3] [--json] [--fast-path]

The local test server runs in its own process. Every stream goes through litellm
(``GENAICOMPARE_FAST_PATH=0``; ``--fast-path`` measures the lean OpenAI-compatible client instead).

1. litellm alone: ``collect()`` of the same ``--panes`` requests concurrently, nothing else.
2. the app (``make_app``, as the CLI builds it: streaming in the worker process, batched text to
   the UI), headless at 140 × 40, each run in a process of its own (one app per process and no
   litellm in it, as with the CLI), metrics limited to the cheap ``ops`` family (heavy metrics
   run after a pane finishes and would blur the streaming figures): time from pressing ``n`` to
   every pane finished. The answer shown in each pane and the one stored must both equal the
   server's text: 0 tokens lost. Ratio = 2 ÷ 1 (goal ≤ 1.2).
3. CPU share: 3 panes at 100 tok/s (delay 0.01 s) for ``--paced-tokens`` tokens, the prompt with
   a reference so the lexical metrics and the metrics table update live (as a user sees them);
   CPU seconds of the UI process and of the worker process ÷ wall seconds (goal ≤ 25 % of one
   core). Measured twice: streams through litellm (≈1 ms of CPU per chunk in the worker), and
   through the lean OpenAI-compatible client the app uses for ``openai/`` models with an
   ``api_base`` and a key.
Each figure is measured after one warm-up request (litellm imported, connections open).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _common import base_url, start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLK = os.sysconf("SC_CLK_TCK")
# The paced runs show what a user sees: a reference, so the live lexical metrics and the metrics
# table update while the panes stream.
LIVE_METRICS = ["ops", "lexical"]


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def make_catalog(
    base: str, panes: int, tokens: int, delay: float, *, reference: bool = False
) -> Any:
    from genaicompare.catalog import Catalog

    scenario = "fake/echo" + (f"?delay={delay}" if delay else "")
    return Catalog.model_validate(
        {
            "name": f"bench-ui-{tokens}-{delay}",
            "models": [
                # Distinct params: three different requests, so no pane is answered from the cache.
                {
                    "id": f"m{i}",
                    "model": f"openai/{scenario}",
                    "api_base": base,
                    "params": {"temperature": round(0.1 * i, 1)},
                }
                for i in range(panes)
            ],
            "prompts": [
                {"id": "warm-up", "prompt": "warm up"},
                {
                    "id": "timed",
                    "prompt": words(tokens),
                    # A reference makes the metrics table fill in live (cheap lexical metrics).
                    **({"reference": words(tokens // 2)} if reference else {}),
                },
            ],
        }
    )


async def litellm_alone(catalog: Any) -> tuple[float, float]:
    """Wall seconds and CPU seconds of this process for the timed streams."""
    from genaicompare.providers.collect import collect
    from genaicompare.session.comparison import build_request

    warm, timed = catalog.prompts
    await collect(build_request(catalog, warm, catalog.models[0])[0])
    requests = [build_request(catalog, timed, m)[0] for m in catalog.models]
    start, cpu = time.perf_counter(), _self_cpu()
    records = await asyncio.gather(*(collect(r) for r in requests))
    elapsed, cpu = time.perf_counter() - start, _self_cpu() - cpu
    for r in records:
        if r.text != timed.prompt:
            raise SystemExit(
                f"litellm alone: {r.model_alias} ended {r.state.value} "
                f"({r.error_type}) with {len(r.text.split())} words"
            )
    return elapsed, cpu


def _proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def metrics_threads_done(timeout: float = 120) -> None:
    """Wait for the app's metric threads (named ``genaicompare-metrics``) to end."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and any(
        t.name == "genaicompare-metrics" for t in threading.enumerate()
    ):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


async def through_app(catalog: Any, db: Path, metrics: list[str]) -> dict[str, float]:
    from genaicompare.app.app import make_app
    from genaicompare.app.screens.main import MainScreen
    from genaicompare.app.widgets.response_pane import ResponsePane
    from genaicompare.config import Settings
    from genaicompare.store import Store

    store = Store(db)
    app = make_app(
        Settings(rater="bench", prefetch=0, metrics=metrics), catalog, store, save_config=False
    )
    expected = catalog.prompts[1].prompt
    async with app.run_test(size=(140, 40)) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))

        def done(index: int) -> bool:
            slots = [s for (p, _), s in screen.slots.items() if p == index]
            return len(slots) == len(catalog.models) and all(s.finished for s in slots)

        while not done(0):
            await pilot.pause(0.05)
        # The warm-up answers' full metrics (first use imports the metric libraries) run in
        # threads of this process: let them finish, or they would count as streaming CPU.
        await metrics_threads_done()
        worker_pid = app.engine._proc.pid  # type: ignore[attr-defined]
        cpu_ui, cpu_worker = _self_cpu(), _proc_cpu(worker_pid)
        start = time.perf_counter()
        await pilot.press("n")
        while not done(1):
            # Not pilot.pause(): it forces a full layout and repaint on every call, which would
            # measure the benchmark's polling, not the app.
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        cpu_ui, cpu_worker = _self_cpu() - cpu_ui, _proc_cpu(worker_pid) - cpu_worker
        panes = list(screen.query(ResponsePane))
        while not all(p.idle for p in panes):
            await asyncio.sleep(0.05)
        await pilot.pause(0.1)
        await metrics_threads_done()  # nor may they run on into the next measurement
        lost = 0
        for pane in panes:
            shown = pane.markdown.source
            slot = screen.slots[(1, pane.alias)]
            streamed, stored = "".join(slot.parts), slot.record
            if stored is None or stored.state.value != "complete":
                state = stored.state.value if stored else slot.state
                raise SystemExit(f"pane {pane.alias} ended in state {state}, not complete")
            for got in (streamed, stored.text, shown):
                # Count missing or extra words (and any other difference as one).
                lost += abs(len(expected.split()) - len(got.split())) + (got != expected)
    store.close()
    return {"seconds": elapsed, "cpu_ui": cpu_ui, "cpu_worker": cpu_worker, "lost": lost}


CASES = {
    # case: (tokens argument, delay between tokens, reference, metrics, lean client)
    "fast": ("tokens", 0.0, False, ["ops"], False),
    "paced": ("paced_tokens", 0.01, True, LIVE_METRICS, False),
    "lean": ("paced_tokens", 0.01, True, LIVE_METRICS, True),
}


async def child(args: argparse.Namespace) -> None:
    """``--child CASE``: one app run, its figures as a JSON line on stdout."""
    tokens_arg, delay, reference, metrics, _ = CASES[args.child]
    catalog = make_catalog(
        args.base, args.panes, getattr(args, tokens_arg), delay, reference=reference
    )
    home = Path(os.environ["GENAICOMPARE_HOME"])
    print(json.dumps(await through_app(catalog, home / f"{args.child}.db", metrics)))


def app_in_child(args: argparse.Namespace, case: str, base: str, home: str) -> dict[str, float]:
    """One app per process, as with the CLI: a process that ran other apps keeps some of their
    objects, and every garbage collection walks them (a third app in one process measured
    ≈5 points more CPU share than the first). litellm stays out of it too (the worker has it)."""
    env = dict(os.environ, GENAICOMPARE_HOME=home)
    if CASES[case][4]:
        env["GENAICOMPARE_FAST_PATH"] = "1"
    command = [sys.executable, __file__, "--child", case, "--base", base]
    command += ["--tokens", str(args.tokens), "--paced-tokens", str(args.paced_tokens)]
    command += ["--panes", str(args.panes)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{case}: {done.stderr.strip()[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def paced_figures(prefix: str, r: dict[str, float]) -> dict[str, float]:
    """Wall time, CPU shares (of one core) and tokens lost of a paced run."""
    wall = r["seconds"]
    return {
        f"{prefix}_wall_s": wall,
        f"{prefix}_cpu_share_ui": r["cpu_ui"] / wall,
        f"{prefix}_cpu_share_worker": r["cpu_worker"] / wall,
        f"{prefix}_cpu_share_total": (r["cpu_ui"] + r["cpu_worker"]) / wall,
        f"{prefix}_tokens_lost": r["lost"],
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    server, port = start_server()
    base = base_url(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["GENAICOMPARE_HOME"] = tmp
            ui = app_in_child(args, "fast", base, tmp)
            ui_paced = app_in_child(args, "paced", base, tmp)
            ui_lean = app_in_child(args, "lean", base, tmp)
            alone, alone_cpu = await litellm_alone(make_catalog(base, args.panes, args.tokens, 0))
    finally:
        server.terminate()
        server.wait()
    return {
        "panes": args.panes,
        "tokens_per_pane": args.tokens,
        "litellm_alone_s": alone,
        "litellm_alone_cpu_s": alone_cpu,
        "app_s": ui["seconds"],
        "ratio": ui["seconds"] / alone,
        "tokens_lost": ui["lost"],
        "app_cpu_ui_s": ui["cpu_ui"],
        "app_cpu_worker_s": ui["cpu_worker"],
        "paced_tok_per_s_per_pane": 100,
        **paced_figures("paced", ui_paced),
        **paced_figures("lean_paced", ui_lean),
        "litellm_path": "fast path" if args.fast_path else "litellm",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--paced-tokens", type=int, default=1000)
    parser.add_argument("--panes", type=int, default=3)
    parser.add_argument("--fast-path", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=sorted(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args))
        return
    os.environ["GENAICOMPARE_FAST_PATH"] = "1" if args.fast_path else "0"
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # The local server ignores the key; without one the lean client declines (litellm would fail
    # on a real endpoint), so every stream would go through litellm whatever the flag says.
    os.environ.setdefault("OPENAI_API_KEY", "sk-local-benchmark")
    result = asyncio.run(run(args))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['panes']} panes × {result['tokens_per_pane']} tokens, zero delay "
        f"({result['litellm_path']}):"
    )
    print(
        f"  litellm alone        {result['litellm_alone_s']:8.2f} s   "
        f"(CPU {result['litellm_alone_cpu_s']:.2f} s)"
    )
    print(
        f"  through the app      {result['app_s']:8.2f} s   ratio {result['ratio']:.2f} "
        f"(goal ≤ 1.2)   tokens lost: {result['tokens_lost']}"
    )
    print(f"  CPU: UI {result['app_cpu_ui_s']:.2f} s, worker {result['app_cpu_worker_s']:.2f} s")
    for key, label in (("paced", "litellm"), ("lean_paced", "lean OpenAI-compatible client")):
        print(f"{result['panes']} panes × 100 tok/s for {result[key + '_wall_s']:.1f} s ({label}):")
        print(
            f"  CPU share UI {100 * result[key + '_cpu_share_ui']:.1f} %, worker "
            f"{100 * result[key + '_cpu_share_worker']:.1f} %, total "
            f"{100 * result[key + '_cpu_share_total']:.1f} % of one core (goal ≤ 25 %)   "
            f"tokens lost: {result[key + '_tokens_lost']}"
        )


if __name__ == "__main__":
    main()
