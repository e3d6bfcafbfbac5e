"""P8: a million stored answers in one SQLite file — every command a user runs stays bounded.

    python benchmarks/bench_million.py [--answers 1000000] [--db PATH] [--rebuild] [--json]

Builds (once; reused unless ``--rebuild``) a database of ``--answers`` answers (125,000 prompts ×
8 models, each answer with three metrics), 1,000,000 ratings (thumbs, pair votes, re-ratings,
retractions) through ``bench_scores.build`` — the real migrations and schema — and an empty
database. Then runs the real CLI, each command in a process of its own under ``/usr/bin/time``,
once on the empty database and once on the full one:

- ``genaicompare scores bench`` — goal ≤ 5 s; RSS ≤ +200 MB over the empty database — with the
  columnar copy of the answers up to date, as the store keeps it while answers are saved and
  every ``scores`` leaves it; and, before it, the first ``scores`` after that copy is dropped
  (``scores first``: it writes the copy of all the answers, once; no time goal);
- ``genaicompare export bench -f rated -o FILE`` and ``-f dpo`` — RSS ≤ +200 MB (streamed);
- ``genaicompare diff RUN_A RUN_B`` — RSS ≤ +200 MB — on a second database (built once too):
  two runs of 500,000 answers each that answer the same 62,500 prompts × 8 models (a model
  switch), 30% of the answers different, every prompt with an assertion, 200,000 ratings — so
  that the diff pairs every answer, scores its similarity and runs the paired tests;
- the TUI on a 100-prompt catalog named ``bench`` in that database, in a 120 × 40 pty: launch →
  the first prompt's stored answer on the screen — goal ≤ 2 s; RSS ≤ +200 MB.
Absolute times drift on these shared machines: the empty-database row of each command is the
same command's floor in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))
GOAL_MB = 200.0
MODELS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def timed(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds, peak RSS (MB) and exit code of ``python -m genaicompare ARGV``."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as out:
        cmd = ["/usr/bin/time", "-f", "%M %e", "-o", out.name, sys.executable, "-m", "genaicompare"]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                [*cmd, *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
            )
        except subprocess.TimeoutExpired:
            # A command that does not finish is a figure too (and the bench goes on).
            return {"rc": "timeout", "seconds": 600.0, "rss_mb": float("nan"), "stderr": ""}
        wall = time.perf_counter() - t0
        fields = out.read().split()
    rss_kb = float(fields[-2]) if len(fields) >= 2 else float("nan")
    return {
        "rc": proc.returncode,
        "seconds": round(wall, 2),
        "rss_mb": round(rss_kb / 1024, 1),
        "stderr": proc.stderr[-400:],
    }


def empty_db(path: Path) -> None:
    from genaicompare.catalog import Catalog
    from genaicompare.store import Store

    if path.exists():
        path.unlink()
    cat = Catalog.model_validate(
        {
            "name": "bench",
            "models": [{"id": m, "model": f"openai/{m}"} for m in MODELS],
            "prompts": [{"id": "p0", "prompt": "question 0"}],
        }
    )
    with Store(path) as store:
        cid = store.record_catalog(cat)
        for _ in range(2):
            store.start_run(cid, cat, "headless")


def drop_columns(db: Path) -> None:
    """Delete the columnar copy of the answers (store.columns), as a database upgraded to it, or
    one whose every block was invalidated, has none: the next ``scores`` writes it all."""
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'answer_columns'").fetchone():
            conn.execute("DELETE FROM answer_columns")
            conn.commit()
    finally:
        conn.close()


def two_runs(db: Path) -> tuple[int, int]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT run_id, count(*) FROM responses GROUP BY run_id ORDER BY 2 DESC LIMIT 2"
        ).fetchall()
        if len(rows) < 2:
            ids = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id LIMIT 2")]
            return int(ids[0]), int(ids[1])
        a, b = sorted(int(r[0]) for r in rows)
        return a, b
    finally:
        conn.close()


def tui_catalog(db: Path, home: Path) -> Path:
    """A 100-prompt catalog named ``bench`` (2 of the models), its answers stored in ``db`` as a
    run would store them (the TUI shows them from the store, no request made)."""
    from genaicompare.catalog import load_catalog
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.session.comparison import build_request
    from genaicompare.store import Store

    catalog = home / "bench.yaml"
    lines = ["name: bench", "models:"]
    for m in MODELS[:2]:
        lines += [f"  - id: {m}", f"    model: openai/{m}"]
    lines.append("prompts:")
    for i in range(100):
        lines += [f"  - id: p{i}", f"    prompt: question {i}", f"    reference: answer {i}"]
    catalog.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cat = load_catalog(catalog)
    with Store(db) as store:
        cid = store.record_catalog(cat, catalog)
        # Once per database: a rerun of the benchmark finds them stored already.
        if store.query("SELECT 1 FROM responses WHERE catalog_id = ? LIMIT 1", [cid]):
            return catalog
        run = store.start_run(cid, cat, "headless")
        for p in cat.prompts:
            for m in cat.models:
                request, rendered = build_request(cat, p, m)
                rec = ResponseRecord(
                    prompt_id=p.id,
                    model_alias=m.id,
                    model=request.model,
                    params=request.params,
                    messages=request.messages,
                    api_base=request.api_base,
                    template_hash=rendered.template_hash,
                    text=f"stored answer {p.id} " + "x" * 40,
                    state=FinishState.complete,
                    latency_ms=100.0,
                )
                store.save_response(rec, run_id=run, catalog_id=cid)
    return catalog


def tui_first_screen(db: Path, home: Path) -> dict[str, Any]:
    """Launch → the first prompt's stored answer (``xxxx…``) visible, in a 120 × 40 pty."""
    from tests.support.terminal import Terminal

    catalog = tui_catalog(db, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEXTUAL"))}
    env.update(GENAICOMPARE_HOME=str(home), NO_PROXY="127.0.0.1,localhost")
    argv = [sys.executable, "-m", "genaicompare", str(catalog), "--db", str(db), "--prefetch", "0"]
    t0 = time.perf_counter()
    term = Terminal(argv, 120, 40, env, str(ROOT))
    try:
        term.wait(lambda ls: any("xxxxxxxxxx" in line for line in ls), 120, "a stored answer")
        seconds = time.perf_counter() - t0
        status = Path(f"/proc/{term.proc.pid}/status").read_text()
        hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
        rss = int(hwm.group(1)) / 1024 if hwm else float("nan")
        # The worker process streams; the UI process holds what the screen needs.
        term.send("q")
        term.close(10)
    finally:
        if term.proc.isalive():
            term.proc.terminate(force=True)
    return {"seconds": round(seconds, 2), "rss_mb": round(rss, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    tmp = Path(tempfile.gettempdir())
    full = args.db or tmp / f"genaicompare-bench-million-{args.answers}.db"
    built = None
    if args.rebuild or not full.exists():
        from bench_scores import build

        t0 = time.perf_counter()
        build(full, args.ratings, n_prompts=args.answers // len(MODELS))
        built = round(time.perf_counter() - t0, 1)
    paired = tmp / f"genaicompare-bench-million-diff-{args.answers}.db"
    if args.rebuild or not paired.exists():
        from bench_scores import build

        t0 = time.perf_counter()
        build(paired, args.ratings // 5, n_prompts=args.answers // (2 * len(MODELS)), paired=True)
        figures_built_diff = round(time.perf_counter() - t0, 1)
    else:
        figures_built_diff = None
    empty = tmp / "genaicompare-bench-million-empty.db"
    empty_db(empty)

    figures: dict[str, Any] = {
        "answers": args.answers,
        "build_seconds": built,
        "build_diff_seconds": figures_built_diff,
    }
    with tempfile.TemporaryDirectory() as home_dir:
        home = Path(home_dir)
        env = {**os.environ, "GENAICOMPARE_HOME": str(home), "COLUMNS": "120"}
        for name, db, diff_db in (("empty", empty, empty), ("full", full, paired)):
            a, b = two_runs(diff_db)
            out = home / f"{name}.jsonl"
            drop_columns(db)
            cases = {
                "scores first": ["scores", "bench", "--db", str(db)],
                "scores": ["scores", "bench", "--db", str(db)],
                "export rated": ["export", "bench", "-f", "rated", "-o", str(out), "--db", str(db)],
                "export dpo": ["export", "bench", "-f", "dpo", "-o", str(out), "--db", str(db)],
                "diff": ["diff", str(a), str(b), "--db", str(diff_db)],
            }
            for case, argv in cases.items():
                figures[f"{case}:{name}"] = timed(argv, env)
            figures[f"tui:{name}"] = tui_first_screen(db, home)
    rows = []
    for case in ("scores first", "scores", "export rated", "export dpo", "diff", "tui"):
        e, f = figures[f"{case}:empty"], figures[f"{case}:full"]
        growth = f["rss_mb"] - e["rss_mb"]
        goal_s = {"scores": 5.0, "tui": 2.0}.get(case)
        ok = growth <= GOAL_MB and (goal_s is None or f["seconds"] <= goal_s)
        ok = ok and f.get("rc", 0) in (0, 1)
        rows.append(
            {
                "case": case,
                "seconds_empty": e["seconds"],
                "seconds_full": f["seconds"],
                "goal_seconds": goal_s,
                "rss_growth_mb": round(growth, 1),
                "rc": f.get("rc", 0),
                "ok": ok,
            }
        )
    figures["rows"] = rows
    figures["load_average"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(figures))
    else:
        for r in rows:
            goal = f" (goal ≤ {r['goal_seconds']} s)" if r["goal_seconds"] else ""
            print(
                f"P8 {r['case']:<13} {r['seconds_full']:>7.2f} s{goal}, empty db "
                f"{r['seconds_empty']:.2f} s; RSS +{r['rss_growth_mb']:.0f} MB (goal ≤ +200); "
                f"exit {r['rc']}; {'ok' if r['ok'] else 'MISSED'}"
            )
        for k, v in figures.items():
            if isinstance(v, dict) and v.get("rc") not in (0, 1, None):
                print(f"  {k}: exit {v['rc']}: {v['stderr']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
