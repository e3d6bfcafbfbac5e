"""Ratings survive the whole path with real processes and a real server on 127.0.0.1:
``genaicompare run`` → rate (the domain API the TUI calls) → a second run served from the cache
shows the ratings without re-rating → ``scores --json`` → ``export --format rated`` → the file
loads back as a catalog with the same prompts and references, and carries every rating."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from genaicompare.catalog import load_catalog
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

pytestmark = pytest.mark.slow

PROMPTS = [
    {"id": "p0", "prompt": "first question", "reference": "one", "tags": ["a"], "segment": "s1"},
    {
        "id": "p1",
        "prompt": "second question \u2028 with a separator 😀",
        "reference": "two",
        "tags": ["b"],
        "segment": "s2",
    },
]


def test_run_rate_rerun_score_export_reload(tmp_path: Path) -> None:
    db, home = tmp_path / "r.db", tmp_path / "home"
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"echo": "fake/echo", "tok": "fake/tokens?n=4"},
            PROMPTS,
            name="rt",
        )
        first = run_cli(["run", str(cat), "--db", str(db), "--json"], home)
        assert first.returncode == 0, first.stderr
        run1 = json.loads(first.stdout)["responses"]
        with Store(db) as store:
            ratings = Ratings(store, rater="ann")
            recs = {(r["prompt_id"], r["model_alias"]): store.response(r["id"]) for r in run1}
            for pid in ("p0", "p1"):
                ratings.thumb(recs[(pid, "echo")], "up", time_to_rate_ms=900.0)  # type: ignore[arg-type]
                ratings.thumb(recs[(pid, "tok")], "down")  # type: ignore[arg-type]
            ratings.prefer(recs[("p0", "echo")], recs[("p0", "tok")], "a")  # type: ignore[arg-type]
        second = run_cli(["run", str(cat), "--db", str(db), "--json"], home)
        assert second.returncode == 0, second.stderr
        run2 = json.loads(second.stdout)["responses"]
        assert all(r["from_cache"] for r in run2) and server.total_requests == 4
    with Store(db) as store:
        ann = Ratings(store, rater="ann")
        for r in run2:  # carried over: the cached outputs show their thumbs
            shown = ann.thumb_for(store.response(r["id"]))  # type: ignore[arg-type]
            assert shown is not None
            assert shown.value == ("up" if r["model_alias"] == "echo" else "down")

    scores = run_cli(["scores", "rt", "--db", str(db), "--json"], home)
    assert scores.returncode == 0, scores.stderr
    js = json.loads(scores.stdout)
    rows = {m["model"]: m for m in js["models"]}
    assert (rows["echo"]["rated"], rows["echo"]["up"]) == (2, 2)
    assert (rows["tok"]["rated"], rows["tok"]["up"]) == (2, 0)
    # p0's pair vote is ann's battle there; her p0 thumbs no longer count again (issue 12 §5).
    assert _two(js["battle_sources"]) == {"preferences": 1, "thumbs": 1}
    assert [r["rated"] for r in js["trends"]["per_run"]] == [4, 4]  # counts in both runs
    assert js["bt"]["rows"][0]["model"] == "echo"

    out = tmp_path / "rated.jsonl"
    exp = run_cli(["export", str(cat), "--db", str(db), "-f", "rated", "-o", str(out)], home)
    assert exp.returncode == 0, exp.stderr
    reloaded = load_catalog(out)
    original = load_catalog(cat)
    assert [(p.id, p.reference) for p in reloaded.prompts] == [
        (p.id, p.reference) for p in original.prompts
    ]
    assert reloaded.prompt("p1").prompt == original.prompt("p1").prompt
    assert {m.id for m in reloaded.models} == {"echo", "tok"}
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").split("\n")[1:] if x]
    assert len(lines) == 4  # one per distinct output, not per run
    assert sum(len(x["rated"]["ratings"]) for x in lines) == 4
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM exports").fetchone()[0] == 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def _two(sources: dict) -> dict:
    """The A/B and thumb battle counts (the other sources are zero here: no picks, no strong votes)."""
    assert not any(
        v for k, v in sources.items() if k not in ("preferences", "thumbs", "strong_weight")
    )
    return {k: sources[k] for k in ("preferences", "thumbs")}
