"""P2 on the screen: the real CLI in a pseudo-terminal, timed by what the terminal shows.

    python benchmarks/bench_streaming_screen.py [--tokens 5000] [--panes 3] [--json] [--fast-path]

P2 (``bench_streaming_ui.py``) times the app headless and checks the widgets' text; a repaint bug
leaves that text right and the screen wrong (issue 12 §1). This one runs ``genaicompare CATALOG``
in a 140 × 40 pseudo-terminal read by the pyte terminal emulator (``tests/support/terminal.py``),
each model streaming numbered words (``a0 a1 …``, ``b0 …``) from the local test server in its own
process. After a warm-up prompt, it presses ``n`` and samples the screen every 20 ms until every
pane shows its answer's last word:

- time: ``n`` → every last word on the screen, ÷ the same streams through litellm alone
  (``collect()`` of the same requests, concurrently, in this process). Goal ≤ 1.2×.
- windows broken: samples in which a pane's visible words were not one contiguous run on
  contiguous rows (a word missing inside the window, or a blank row inside it). Goal 0.
- at the end, each pane shows the tail of its answer (the last word, and a contiguous window
  ending there).

The terminal emulator costs CPU in this process, as a real terminal does on the user's machine.
``GENAICOMPARE_FAST_PATH=0`` sends the app's streams through litellm; ``--fast-path`` measures
the lean OpenAI-compatible client instead (and litellm alone stays the denominator).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import base_url, start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LETTERS = "abcdef"


def models(base: str, panes: int, tokens: int) -> list[dict[str, Any]]:
    return [
        {"id": f"m{c}", "model": f"openai/fake/tokens?n={tokens}&prefix={c}", "api_base": base}
        for c in LETTERS[:panes]
    ]


def catalog_text(base: str, panes: int, tokens: int) -> str:
    lines = ["name: bench-screen", "models:"]
    for m in models(base, panes, tokens):
        lines += [
            f"  - id: {m['id']}",
            f"    model: {m['model']}",
            f"    api_base: {m['api_base']}",
        ]
    lines += [
        "prompts:",
        "  - id: warm-up",
        "    prompt: warm up",
        "  - id: timed",
        "    prompt: the timed prompt",
    ]
    return "\n".join(lines) + "\n"


async def litellm_alone(base: str, panes: int, tokens: int) -> float:
    """Wall seconds for the timed streams through litellm alone (after one warm-up request)."""
    from genaicompare.catalog import Catalog
    from genaicompare.providers.collect import collect
    from genaicompare.session.comparison import build_request

    cat = Catalog.model_validate(
        {
            "name": "bench-screen",
            "models": models(base, panes, tokens),
            "prompts": [
                {"id": "warm-up", "prompt": "warm up"},
                {"id": "timed", "prompt": "the timed prompt"},
            ],
        }
    )
    warm, timed = cat.prompts
    await collect(build_request(cat, warm, cat.models[0])[0])
    requests = [build_request(cat, timed, m)[0] for m in cat.models]
    start = time.perf_counter()
    records = await asyncio.gather(*(collect(r) for r in requests))
    elapsed = time.perf_counter() - start
    for r in records:
        if len(r.text.split()) != tokens:
            raise SystemExit(f"litellm alone: {r.model_alias} ended {r.state.value}")
    return elapsed


def window_broken(lines: list[str], letter: str) -> bool:
    from tests.support.terminal import words

    found = words(lines, letter)
    if not found:
        return False
    numbers = [n for _, n in found]
    rows = sorted({r for r, _ in found})
    return any(b != a + 1 for a, b in itertools.pairwise(numbers)) or rows != list(
        range(rows[0], rows[-1] + 1)
    )


def through_screen(catalog: Path, home: Path, panes: int, tokens: int) -> dict[str, Any]:
    from tests.support.terminal import genaicompare, words

    letters = LETTERS[:panes]
    last = tokens - 1

    def all_last(lines: list[str]) -> bool:
        return all(any(n == last for _, n in words(lines, c)) for c in letters)

    db = home / "screen.db"
    args = [str(catalog), "--db", str(db), "--prefetch", "0"]
    with genaicompare(args, 140, 40, home) as term:
        term.wait(all_last, 180, "the warm-up answers' last words")
        time.sleep(1.0)  # the warm-up's metrics and final renders settle
        term.send("n")
        start = time.perf_counter()
        term.wait(lambda ls: not all_last(ls), 30, "the timed prompt")
        samples = broken = 0
        while True:
            lines = term.lines()
            samples += 1
            broken += sum(window_broken(lines, c) for c in letters)
            if all_last(lines):
                elapsed = time.perf_counter() - start
                break
            if time.perf_counter() - start > 300:
                raise SystemExit("the timed answers never reached the screen:\n" + term.dump())
            time.sleep(0.02)
        final = term.lines()
        tails_ok = all(not window_broken(final, c) for c in letters)
        term.send("q")
        term.close(10)
    return {"screen_s": elapsed, "samples": samples, "windows_broken": broken, "tails_ok": tails_ok}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=5000)
    ap.add_argument("--panes", type=int, default=3)
    ap.add_argument("--fast-path", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    if not args.fast_path:
        os.environ["GENAICOMPARE_FAST_PATH"] = "0"
    server, port = start_server()
    try:
        base = base_url(port)
        alone = asyncio.run(litellm_alone(base, args.panes, args.tokens))
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            catalog = home / "screen.yaml"
            catalog.write_text(catalog_text(base, args.panes, args.tokens), encoding="utf-8")
            seen = through_screen(catalog, home, args.panes, args.tokens)
    finally:
        server.terminate()
    out = {
        "panes": args.panes,
        "tokens_per_pane": args.tokens,
        "app_path": "lean client" if args.fast_path else "litellm",
        "litellm_alone_s": alone,
        **seen,
        "ratio": seen["screen_s"] / alone,
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"P2 on screen: {args.panes}×{args.tokens} tokens, n → every last word visible "
            f"{seen['screen_s']:.2f} s vs litellm alone {alone:.2f} s = {out['ratio']:.2f}×; "
            f"{seen['samples']} screen samples, {seen['windows_broken']} broken windows; "
            f"final tails {'ok' if seen['tails_ok'] else 'WRONG'}"
        )


if __name__ == "__main__":
    main()
