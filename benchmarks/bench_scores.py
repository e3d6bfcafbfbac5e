"""P5: every score on 1,000,000 ratings (goal ≤ 2 s), Bradley–Terry with 1,000 bootstrap rounds included.

Builds a real SQLite database through the store's migrations (catalog, runs, responses, metrics and
ratings — thumbs, A/B preferences, superseded ratings and retractions from many raters), then times
:func:`genaicompare.scoring.compute_scores` end to end: SQL aggregation, numpy, the BT fit and its
bootstrap. The database is built once and reused (``--rebuild`` to force).

    python benchmarks/bench_scores.py [--ratings 1000000] [--db PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from genaicompare.catalog import Catalog
from genaicompare.ratings import pair_item, rebuild_current, thumb_item
from genaicompare.store import Store

MODELS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
# True strengths (BT scale): the benchmark's battles follow them, so the fit has signal.
STRENGTH = np.linspace(0.6, -0.6, len(MODELS))


def build(
    path: Path,
    n_ratings: int,
    n_prompts: int = 10_000,
    n_raters: int = 20,
    seed: int = 1,
    paired: bool = False,
) -> None:
    """The database. ``paired``: two runs that answer the same prompts × models (a model
    switch, what ``genaicompare diff`` compares): the second run's answer differs from the
    first's for 30% of them, every prompt asserts ``contains: x``; otherwise each answer goes to
    one of three runs at random."""
    rng = np.random.default_rng(seed)
    if path.exists():
        path.unlink()
    prompts = [
        {
            "id": f"p{i}",
            "prompt": f"question {i}",
            "reference": f"answer {i}",
            "tags": [f"topic:{i % 7}"],
            "segment": f"group-{'ab'[i % 2]}",
            "task": "qa",
            **({"assert": {"contains": "x"}} if paired else {}),
        }
        for i in range(n_prompts)
    ]
    catalog = Catalog.model_validate(
        {
            "name": "bench",
            "models": [{"id": m, "model": f"openai/{m}"} for m in MODELS],
            "prompts": prompts,
        }
    )
    with Store(path) as store:
        cid = store.record_catalog(catalog)
        run_ids = [store.start_run(cid, catalog, "headless") for _ in range(2 if paired else 3)]
        conn = store.conn
        n_keys = n_prompts * len(MODELS)
        copies = 2 if paired else 1
        n_resp = n_keys * copies
        p_idx = np.tile(np.repeat(np.arange(n_prompts), len(MODELS)), copies)
        m_idx = np.tile(np.arange(len(MODELS)), n_prompts * copies)
        # The second run's answer: the first run's text (and hash), or for 30% another one.
        other = (
            (np.arange(n_resp) >= n_keys) & (rng.random(n_resp) < 0.3)
            if paired
            else np.zeros(n_resp, dtype=bool)
        )
        texts = [("y" if other[i] else "x") * (50 + (i % n_keys) % 400) for i in range(n_resp)]
        # Content hashes as the store writes them (32 hex digits), so reads that decode them
        # take the path real databases take.
        hashes = [f"{i if other[i] else i % n_keys:032x}" for i in range(n_resp)]
        lat = rng.gamma(4.0, 250.0, n_resp) * (1 + 0.1 * m_idx)
        ttft = lat * rng.uniform(0.05, 0.3, n_resp)
        cost = np.where(rng.random(n_resp) < 0.1, np.nan, rng.uniform(1e-5, 1e-3, n_resp))
        run_of = np.repeat([0, 1], n_keys) if paired else rng.integers(0, 3, n_resp)
        days = [f"2026-11-{d:02d}T12:00:00.000+00:00" for d in range(1, 15)]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO responses (id, run_id, catalog_id, prompt_id, model_alias, model, "
            "messages, request_hash, content_hash, text, state, ttft_ms, latency_ms, cost_usd, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?, 'complete', ?, ?, ?, ?)",
            (
                (
                    i + 1,
                    run_ids[run_of[i]],
                    cid,
                    f"p{p_idx[i]}",
                    MODELS[m_idx[i]],
                    f"openai/{MODELS[m_idx[i]]}",
                    f"h{i % n_keys:012d}",  # the same request in both runs
                    hashes[i],
                    texts[i],
                    float(ttft[i]),
                    float(lat[i]),
                    None if np.isnan(cost[i]) else float(cost[i]),
                    days[i % len(days)],
                )
                for i in range(n_resp)
            ),
        )
        # Each answer's style counts, as the store writes them beside it (first hash wins).
        from genaicompare.store.style import record_styles, style_row

        record_styles(
            conn, (style_row(hashes[i], MODELS[m_idx[i]], texts[i]) for i in range(n_resp))
        )
        conn.executemany(
            "INSERT INTO metrics (response_id, name, value, version, created_at) "
            "VALUES (?, ?, ?, '1', '2026-11-01')",
            (
                (i + 1, name, float(v))
                for name, vals in (
                    ("rougeL", rng.random(n_resp)),
                    ("assert:contains", (rng.random(n_resp) < 0.6).astype(float)),
                    ("toxicity", rng.random(n_resp) * 0.2),
                )
                for i, v in enumerate(vals)
            ),
        )
        conn.execute("COMMIT")

        n_pairs = int(n_ratings * 0.3)
        n_thumbs = n_ratings - n_pairs
        raters = [f"rater{r}" for r in range(n_raters)]
        rows = []
        # Thumbs: up with probability σ(strength); about 5% re-rated (superseded) by the same rater.
        t_resp = rng.integers(0, n_resp, n_thumbs)
        t_rater = rng.integers(0, n_raters, n_thumbs)
        again = rng.random(n_thumbs) < 0.05
        t_rater[again] = np.roll(t_rater, 1)[again]
        t_resp[again] = np.roll(t_resp, 1)[again]
        up = rng.random(n_thumbs) < 1 / (1 + np.exp(-STRENGTH[m_idx[t_resp]]))
        for k in range(n_thumbs):
            i = int(t_resp[k])
            rows.append(
                (
                    f"t{k}",
                    "thumb",
                    raters[t_rater[k]],
                    f"p{p_idx[i]}",
                    "up" if up[k] else "down",
                    thumb_item(hashes[i]),
                    days[k % len(days)],
                    "bench",
                    i + 1,
                    hashes[i],
                    MODELS[m_idx[i]],
                    None,
                    None,
                    None,
                )
            )
        a_model = rng.integers(0, len(MODELS), n_pairs)
        b_model = (a_model + rng.integers(1, len(MODELS), n_pairs)) % len(MODELS)
        prompt = rng.integers(0, n_prompts, n_pairs)
        p_rater = rng.integers(0, n_raters, n_pairs)
        diff = STRENGTH[a_model] - STRENGTH[b_model]
        u = rng.random(n_pairs)
        p_a = 1 / (1 + 10 ** (-diff))
        outcome = np.where(
            u < 0.1,
            "tie",
            np.where(u < 0.15, "both_bad", np.where(rng.random(n_pairs) < p_a, "a", "b")),
        )
        for k in range(n_pairs):
            ia = int(prompt[k] * len(MODELS) + a_model[k])
            ib = int(prompt[k] * len(MODELS) + b_model[k])
            rows.append(
                (
                    f"q{k}",
                    "pair",
                    raters[p_rater[k]],
                    f"p{prompt[k]}",
                    str(outcome[k]),
                    pair_item(hashes[ia], hashes[ib]),
                    days[k % len(days)],
                    "bench",
                    ia + 1,
                    hashes[ia],
                    MODELS[a_model[k]],
                    ib + 1,
                    hashes[ib],
                    MODELS[b_model[k]],
                )
            )
        # 1% retractions of random ratings (undo).
        n_undo = n_ratings // 100
        for k, target in enumerate(rng.choice(len(rows), n_undo, replace=False)):
            t = rows[int(target)]
            rows.append(
                (
                    f"u{k}",
                    "retract",
                    t[2],
                    t[3],
                    t[0],
                    t[5],
                    t[6],
                    "bench",
                    None,
                    t[9],
                    t[10],
                    None,
                    None,
                    None,
                )
            )
        order = rng.permutation(len(rows) - n_undo)
        rows = [rows[int(i)] for i in order] + rows[len(rows) - n_undo :]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO ratings (uid, kind, rater, prompt_id, value, item, created_at, "
            "catalog_name, response_id, content_hash, model_alias, other_response_id, "
            "other_content_hash, other_model_alias) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        rebuild_current(conn)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")


def cli_scores(path: Path) -> dict[str, float | None]:
    """Time ``python -m genaicompare scores bench --db PATH`` (its output discarded)."""
    cmd = [sys.executable, "-m", "genaicompare", "scores", "bench", "--db", str(path)]
    timer = Path("/usr/bin/time")
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        prefix = [str(timer), "-f", "%M %e %U %S", "-o", report.name] if timer.exists() else []
        t0 = time.perf_counter()
        subprocess.run([*prefix, *cmd], check=True, stdout=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - t0
        fields = report.read().split()
    if len(fields) < 4:  # no /usr/bin/time: wall time only
        return {"seconds": round(wall, 3), "max_rss_mb": None, "cpu_seconds": None}
    rss_kb, elapsed, user, system = (float(f) for f in fields[-4:])
    return {
        "seconds": round(elapsed, 3),
        "max_rss_mb": round(rss_kb / 1024, 1),
        "cpu_seconds": round(user + system, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    path = args.db or Path(tempfile.gettempdir()) / f"genaicompare-bench-scores-{args.ratings}.db"
    built = 0.0
    if args.rebuild or not path.exists():
        t0 = time.perf_counter()
        build(path, args.ratings)
        built = time.perf_counter() - t0

    from genaicompare.scoring import compute_scores

    times, cpu = [], []
    result = None
    with Store(path) as store:
        n_rows = store.query("SELECT count(*) AS n FROM ratings")[0]["n"]
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            result = compute_scores(store, "bench", rounds=1000)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    assert result is not None
    best = min(times)
    cli = cli_scores(path)
    figures = {
        "benchmark": "P5 scores on 1M ratings",
        "ratings_rows": n_rows,
        "seconds_best": round(best, 3),
        "seconds_all": [round(t, 3) for t in times],
        # CPU seconds of this process (both threads): what the wall time is on an idle machine
        # with one spare core, whatever else the machine is running.
        "cpu_seconds_best": round(min(cpu), 3),
        "thread_cpu_main": round(result.timings.get("thread_cpu:main", 0.0), 3),
        "thread_cpu_side": round(result.timings.get("thread_cpu:side", 0.0), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "goal_seconds": 2.0,
        "ok": best <= 2.0,
        "bt_rounds": result.bt.rounds if result.bt else 0,
        "battles": result.bt.n_battles if result.bt else 0,
        "battle_sources": result.battle_sources,
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        # The whole `genaicompare scores` command (with the style, judge and agreement
        # sections) in a subprocess: wall seconds and max RSS by /usr/bin/time.
        "cli_scores_s": cli["seconds"],
        "cli_scores_max_rss_mb": cli["max_rss_mb"],
        "cli_scores_cpu_s": cli["cpu_seconds"],
        "cli_goal_seconds": 5.0,
        "build_seconds": round(built, 1) if built else None,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>16}: {value}")
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
