"""Durability of ratings on a real SQLite file, with real processes.

* A rating writer is SIGKILLed at random points 20 times. The writer prints a rating's uid only
  after ``Ratings.thumb``/``prefer``/``undo`` returned (i.e. after COMMIT): every printed uid must
  be in the database afterwards, ``PRAGMA integrity_check`` must say ok, and the derived
  ``ratings_current`` table must equal a rebuild from the append-only log.
* Two processes write one database at once (a response writer standing in for a headless run, and
  a rating session) while a third computes scores: nothing acknowledged is lost and no process
  ever reports "database is locked". ``GENAICOMPARE_DURABILITY_SECONDS`` sets how long (default
  8 s here; the reliability suite's figure is 60 s).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.store import Store

pytestmark = pytest.mark.slow

RATER = r"""
import random, sys
from genaicompare.store import Store
from genaicompare.ratings import Ratings
store = Store(sys.argv[1])
ratings = Ratings(store, rater=sys.argv[2])
rng = random.Random(int(sys.argv[3]))
ids = [r["id"] for r in store.query("SELECT id FROM responses WHERE prompt_id = 'p0'")]
print("ready", flush=True)
deadline = float(sys.argv[4]) if len(sys.argv) > 4 else None
import time
while deadline is None or time.time() < deadline:
    roll = rng.random()
    if roll < 0.6:
        r = ratings.thumb(rng.choice(ids), rng.choice(["up", "down"]), time_to_rate_ms=12.5)
    elif roll < 0.9:
        a, b = rng.sample(ids, 2)
        r = ratings.prefer(a, b, rng.choice(["a", "b", "tie", "both_bad"]))
    else:
        r = ratings.undo()
        if r is None:
            continue
        print("undo", r.uid, flush=True)
        continue
    print("ack", r.uid, flush=True)
print("done", flush=True)
"""

RESPONDER = r"""
import sys, time
from genaicompare.store import Store
from genaicompare.core.records import ResponseRecord
from genaicompare.core.records import FinishState
store = Store(sys.argv[1])
deadline = float(sys.argv[2])
print("ready", flush=True)
i = 0
while time.time() < deadline:
    rec = ResponseRecord(prompt_id=f"q{i % 50}", model_alias="m", model="openai/m", params={},
                         messages=[{"role": "user", "content": f"q{i}"}], text=f"answer {i}",
                         state=FinishState.complete, latency_ms=1.0)
    rid = store.save_response(rec)
    store.save_metrics(rid, {"len": (float(i), None, "1")})
    print("ack", rid, flush=True)
    i += 1
print("done", flush=True)
"""

SCORER = r"""
import sys, time
from genaicompare.store import Store
from genaicompare.scoring import compute_scores
store = Store(sys.argv[1])
deadline = float(sys.argv[2])
n = 0
while time.time() < deadline:
    compute_scores(store, "dur", rounds=10)
    n += 1
print("scored", n, flush=True)
"""


def _setup(path: Path) -> None:
    with Store(path) as store:
        cat = Catalog.model_validate(
            {
                "name": "dur",
                "prompts": [{"id": "p0", "prompt": "x"}],
                "models": [{"id": "a", "model": "openai/a"}],
            }
        )
        cid = store.record_catalog(cat)
        for alias in ("a", "b", "c", "d"):
            store.save_response(
                ResponseRecord(
                    prompt_id="p0",
                    model_alias=alias,
                    model=f"openai/{alias}",
                    params={},
                    messages=[{"role": "user", "content": "x"}],
                    text=f"{alias} says",
                    state=FinishState.complete,
                ),
                catalog_id=cid,
            )


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_consistent(path: Path) -> None:
    from tests.unit.ratings.test_ratings import derived_state, rebuilt_state

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    derived = derived_state(conn)
    conn.close()
    # The running totals (ratings_current, agg_*) equal a recomputation from the log.
    assert derived == rebuilt_state(path)


def test_sigkill_a_rating_writer_20_times_loses_no_acknowledged_rating(tmp_path: Path) -> None:
    path = tmp_path / "kill.db"
    _setup(path)
    rng = random.Random(20)
    acked: set[str] = set()
    undone: set[str] = set()
    kills = 0
    for round_no in range(20):
        proc = _spawn(RATER, str(path), f"rater{round_no % 3}", str(round_no))
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.strip() == "ready", proc.stderr.read() if proc.stderr else ""
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        kills += 1
        # Only whole lines count: a line cut by the kill was never acknowledged.
        for line in out.split("\n")[:-1]:
            kind, _, uid = line.partition(" ")
            if kind == "ack":
                acked.add(uid)
            elif kind == "undo":
                undone.add(uid)
    assert kills == 20
    assert len(acked) > 20, "the writer should have committed ratings between kills"
    conn = sqlite3.connect(path)
    stored = {r[0] for r in conn.execute("SELECT uid FROM ratings WHERE kind != 'retract'")}
    retracted = {r[0] for r in conn.execute("SELECT value FROM ratings WHERE kind = 'retract'")}
    conn.close()
    assert acked <= stored, f"lost {len(acked - stored)} acknowledged ratings"
    assert undone <= retracted
    _check_consistent(path)
    print(f"\n20 SIGKILLs: {len(acked)} acknowledged ratings and {len(undone)} undos, all stored")


def test_two_writers_and_a_reader_lose_nothing_and_never_lock(tmp_path: Path) -> None:
    seconds = float(os.environ.get("GENAICOMPARE_DURABILITY_SECONDS", "8"))
    path = tmp_path / "two.db"
    _setup(path)
    start_by = time.time() + 8.0  # let the interpreters start under a loaded machine
    deadline = start_by + seconds
    procs = {
        "rater": _spawn(RATER, str(path), "ann", "1", str(deadline)),
        "responder": _spawn(RESPONDER, str(path), str(deadline)),
        "scorer": _spawn(SCORER, str(path), str(deadline)),
    }
    results = {name: p.communicate(timeout=seconds + 300) for name, p in procs.items()}
    for name, (out, err) in results.items():
        assert procs[name].returncode == 0, f"{name}: {err[-2000:]}"
        assert "locked" not in err and "locked" not in out, f"{name}: {err[-2000:]}"
    rated = {
        line.split()[1] for line in results["rater"][0].splitlines() if line.startswith("ack ")
    }
    responded = {
        int(line.split()[1])
        for line in results["responder"][0].splitlines()
        if line.startswith("ack ")
    }
    assert rated and responded and "scored" in results["scorer"][0]
    conn = sqlite3.connect(path)
    assert rated <= {r[0] for r in conn.execute("SELECT uid FROM ratings")}
    assert responded <= {r[0] for r in conn.execute("SELECT id FROM responses")}
    assert conn.execute("SELECT count(*) FROM metrics").fetchone()[0] >= len(responded)
    conn.close()
    _check_consistent(path)
    print(
        f"\n{seconds:.0f} s: {len(rated)} ratings and {len(responded)} responses written "
        f"concurrently; {results['scorer'][0].strip()}"
    )
