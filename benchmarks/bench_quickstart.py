"""P9: the quickstart as a newcomer meets it — launch → first visible token, from cold; `q` → shell.

    python benchmarks/bench_quickstart.py [--runs 3] [--json]

Each run starts ``genaicompare sample_catalogs/quickstart.yaml`` in a 120 × 40 pty read by a
terminal emulator (pyte; the screen, not a widget), with a new GENAICOMPARE_HOME and database: no
stored answer, no local model server running (cold, as after a reboot, except for the page cache).
It times, from the spawn:

- the main screen (the header's ``N/M rated``);
- the first visible token: a pane's status reads ``streaming ·`` or ``complete ·`` (its text is
  on the screen in the same frame) — goal ≤ 3 s;
- both answers complete;

then sends ``q`` once both are complete and times until the process has exited (the shell's
prompt is back) — goal ≤ 0.5 s — and until every process it started (stream worker, llama.cpp
servers) is gone. The trivial Textual app's first paint (a Static and a Footer) is timed in the
same run as the floor: absolute times move with the load on these shared machines.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_launch import TRIVIAL  # noqa: E402

from tests.integration.test_tui_children import _alive, descendants  # noqa: E402
from tests.support.terminal import Terminal  # noqa: E402

QUICKSTART = ROOT / "sample_catalogs" / "quickstart.yaml"
FIRST_TOKEN_GOAL_S = 3.0
QUIT_GOAL_S = 0.5


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEXTUAL"))}
    env.update(GENAICOMPARE_HOME=str(home), NO_PROXY="127.0.0.1,localhost")
    return env


def trivial_paint(tmp: Path) -> float:
    script = tmp / "trivial.py"
    script.write_text(TRIVIAL, encoding="utf-8")
    t0 = time.perf_counter()
    term = Terminal([sys.executable, str(script)], 120, 40, _env(tmp / "trivial-home"))
    try:
        term.wait(lambda ls: any("trivial-ready" in line for line in ls), 60, "the trivial app")
        return time.perf_counter() - t0
    finally:
        term.send("q")
        term.close(10)


def quickstart_once(home: Path) -> dict[str, Any]:
    argv = [sys.executable, "-m", "genaicompare", str(QUICKSTART), "--db", str(home / "q.db")]
    t0 = time.perf_counter()
    term = Terminal(argv, 120, 40, _env(home), str(ROOT))
    marks: dict[str, float] = {}
    try:
        deadline = t0 + 180
        while time.perf_counter() < deadline and term.proc.isalive():
            text = term.text()
            now = time.perf_counter() - t0
            if "main_screen_s" not in marks and " rated" in text:
                marks["main_screen_s"] = now
            if "first_token_s" not in marks and ("streaming ·" in text or "complete ·" in text):
                marks["first_token_s"] = now
            if text.count("complete ·") >= 2:
                marks["both_complete_s"] = now
                break
            time.sleep(0.005)
        if "both_complete_s" not in marks:
            raise SystemExit(
                "the quickstart's answers did not complete; the screen:\n" + term.dump()
            )
        pids = descendants(term.proc.pid)
        time.sleep(0.5)  # a person reads the answers before pressing q
        sent = time.perf_counter()
        term.proc.write(b"q")
        while term.proc.isalive() and time.perf_counter() - sent < 30:
            time.sleep(0.002)
        marks["quit_s"] = time.perf_counter() - sent
        while _alive(pids) and time.perf_counter() - sent < 30:
            time.sleep(0.01)
        marks["children_gone_s"] = time.perf_counter() - sent
        marks["children"] = len(pids)
        marks["children_left"] = len(_alive(pids))
    finally:
        if term.proc.isalive():
            term.proc.terminate(force=True)
        term.close(5)
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    compileall.compile_dir(str(ROOT / "genaicompare"), quiet=1)
    runs: list[dict[str, Any]] = []
    trivial: list[float] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for i in range(args.runs):
            trivial.append(trivial_paint(tmp))
            runs.append(quickstart_once(tmp / f"home-{i}"))
    keys = ("main_screen_s", "first_token_s", "both_complete_s", "quit_s", "children_gone_s")
    figures: dict[str, Any] = {
        "runs": args.runs,
        "trivial_paint_s": statistics.median(trivial),
        **{k: statistics.median(r[k] for r in runs) for k in keys},
        **{f"{k}_max": max(r[k] for r in runs) for k in keys},
        "children_left": sum(r["children_left"] for r in runs),
        "all_runs": runs,
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    print(f"quickstart, {args.runs} runs from cold (medians; max in brackets):")
    print(f"  trivial Textual app, first paint  {figures['trivial_paint_s']:.2f} s")
    for k in keys:
        print(f"  {k:<30} {figures[k]:6.2f} s  ({figures[k + '_max']:.2f})")
    print(f"  processes left after q: {figures['children_left']}")
    print(f"goals: first token ≤ {FIRST_TOKEN_GOAL_S} s; q → shell ≤ {QUIT_GOAL_S} s; none left")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
