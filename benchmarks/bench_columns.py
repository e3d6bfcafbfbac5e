"""What the columnar copy of the answers (store.columns) costs the writers.

    python benchmarks/bench_columns.py [--rounds 5] [--answers 20000]

Saves ``--answers`` answers (100 to a transaction, each with two metrics, as a headless run
writes them) into a new database, once as genaicompare does (the copy's triggers, and its
blocks written every 1,024 answers saved) and once with the triggers dropped and no blocks
written; rounds alternate. Prints the CPU seconds of each (CPU, not wall: the machines are
shared) and their ratio, the median over the rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def save(answers: int, with_columns: bool) -> tuple[float, int]:
    """CPU seconds to save the answers and their metrics; the blocks written."""
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.store import Store, database

    database.EXTEND_EVERY = 1024 if with_columns else 10**12
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "w.db") as store:
        if not with_columns:
            for (name,) in store.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'answer_columns%'"
            ).fetchall():
                store.conn.execute(f"DROP TRIGGER {name}")
        t0 = time.process_time()
        for start in range(0, answers, 100):
            records = [
                ResponseRecord(
                    prompt_id=f"p{i}",
                    model_alias="x",
                    model="openai/x",
                    params={},
                    messages=[{"role": "user", "content": f"question {i}"}],
                    text="an answer " * 40,
                    state=FinishState.complete,
                    latency_ms=100.0 + i,
                )
                for i in range(start, min(start + 100, answers))
            ]
            ids = store.save_responses(records)
            store.save_metrics_many(
                [(i, {"rougeL": (0.5, None, "1"), "toxicity": (0.1, None, "1")}) for i in ids]
            )
        seconds = time.process_time() - t0
        (blocks,) = store.conn.execute("SELECT count(*) FROM answer_columns").fetchone()
    return seconds, int(blocks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--answers", type=int, default=20_000)
    args = parser.parse_args()
    plain, kept, blocks = [], [], 0
    for _ in range(args.rounds):
        plain.append(save(args.answers, with_columns=False)[0])
        seconds, blocks = save(args.answers, with_columns=True)
        kept.append(seconds)
    a, b = statistics.median(plain), statistics.median(kept)
    print(
        f"saving {args.answers:,} answers + {2 * args.answers:,} metrics, CPU, median of "
        f"{args.rounds}: {a:.2f} s without the columnar copy, {b:.2f} s with it "
        f"({blocks} blocks written): {b / a:.2f}×, {(b - a) / args.answers * 1e6:.0f} µs an answer"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
