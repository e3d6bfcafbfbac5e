"""The response cache, counted at the test server: hits cost no request, misses do; --no-cache and
--repeat always ask."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import responses, run_cli, write_catalog

PROMPTS = [{"id": f"p{i}", "prompt": f"question number {i}"} for i in range(3)]


def test_cache_hits_and_misses_at_the_server(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    home = tmp_path / "home"
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"a": "fake/echo", "b": "fake/tokens?n=3"},
            PROMPTS,
        )
        first = run_cli(["run", str(cat), "--db", db, "--json"], home)
        assert first.returncode == 0, first.stderr
        assert server.requests == {"fake/echo": 3, "fake/tokens?n=3": 3}

        # Same catalog again: every answer from the cache, not one request.
        second = run_cli(["run", str(cat), "--db", db, "--json"], home)
        assert second.returncode == 0, second.stderr
        assert server.total_requests == 6
        doc = json.loads(second.stdout)
        assert all(r["from_cache"] for r in doc["responses"])
        first_texts = {
            (r["prompt_id"], r["model_alias"]): r["text"]
            for r in json.loads(first.stdout)["responses"]
        }
        assert {
            (r["prompt_id"], r["model_alias"]): r["text"] for r in doc["responses"]
        } == first_texts

        # One model changed (its params are part of the key): only that model is queried.
        changed = write_catalog(
            tmp_path / "c2.yaml",
            server.base_url,
            {"a": "fake/echo", "b": "fake/tokens?n=3"},
            PROMPTS,
        )
        text = json.loads(changed.read_text())
        text["models"][1]["params"] = {"temperature": 0.5}
        changed.write_text(json.dumps(text))
        third = run_cli(["run", str(changed), "--db", db], home)
        assert third.returncode == 0, third.stderr
        assert server.requests == {"fake/echo": 3, "fake/tokens?n=3": 6}

        # --no-cache forces every call.
        fourth = run_cli(["run", str(cat), "--db", db, "--no-cache"], home)
        assert fourth.returncode == 0, fourth.stderr
        assert server.requests == {"fake/echo": 6, "fake/tokens?n=3": 9}

        # --repeat samples are never served from the cache (they exist to vary).
        fifth = run_cli(["run", str(cat), "--db", db, "--repeat", "2", "--json"], home)
        assert fifth.returncode == 0, fifth.stderr
        assert server.requests == {"fake/echo": 12, "fake/tokens?n=3": 15}
        reg = json.loads(fifth.stdout)["regression"]
        case = next(c for c in reg["cases"] if c["model_alias"] == "a")
        # Identical samples collapse into one output with its count; consistency is 1.
        assert case["samples"] == 2 and case["distinct_outputs"][0]["count"] == 2
        assert case["consistency"] == 1.0
    rows = responses(Path(db))
    # Second run: all 6 from the cache; third: the 3 answers of the unchanged model.
    assert sum(r["from_cache"] for r in rows) == 9


def test_a_cache_hit_is_filed_under_the_asking_catalogs_model_and_prompt(tmp_path: Path) -> None:
    """The same requests from another catalog, whose aliases and prompt ids differ: served from
    the cache, but stored (and reported, and scored) under the names this catalog gives them —
    not the names of the catalog that first asked."""
    db = tmp_path / "r.db"
    home = tmp_path / "home"
    with FakeOpenAI() as server:
        first = write_catalog(
            tmp_path / "a.yaml", server.base_url, {"a": "fake/echo"}, PROMPTS, name="first"
        )
        assert run_cli(["run", str(first), "--db", str(db)], home).returncode == 0
        renamed = [{"id": f"q{i}", "prompt": p["prompt"]} for i, p in enumerate(PROMPTS)]
        other = write_catalog(
            tmp_path / "b.yaml", server.base_url, {"mine": "fake/echo"}, renamed, name="second"
        )
        second = run_cli(["run", str(other), "--db", str(db), "--json"], home)
        assert second.returncode == 0, second.stderr
        assert server.total_requests == 3  # every answer of the second run came from the cache
    doc = json.loads(second.stdout)
    assert {(r["prompt_id"], r["model_alias"]) for r in doc["responses"]} == {
        (f"q{i}", "mine") for i in range(3)
    }
    stored = responses(db, run_id=2)
    assert [r["from_cache"] for r in stored] == [1, 1, 1]
    assert {(r["prompt_id"], r["model_alias"]) for r in stored} == {
        (f"q{i}", "mine") for i in range(3)
    }
    # The first catalog's rows are untouched.
    assert {(r["prompt_id"], r["model_alias"]) for r in responses(db, run_id=1)} == {
        (f"p{i}", "a") for i in range(3)
    }


def test_a_replayed_answer_fails_its_timing_assertions_with_the_reason(tmp_path: Path) -> None:
    """A latency assertion on an answer replayed from the cache would grade its first asking's
    latency as this run's: it fails, saying why and what measures it; --no-cache passes again."""
    db = str(tmp_path / "r.db")
    home = tmp_path / "home"
    prompts = [
        {"id": f"p{i}", "prompt": f"question number {i}", "assert": {"latency_ms": "< 600000"}}
        for i in range(2)
    ]
    with FakeOpenAI() as server:
        cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"a": "fake/echo"}, prompts)
        live = run_cli(["run", str(cat), "--db", db, "--json"], home)
        replay = run_cli(["run", str(cat), "--db", db, "--json"], home)
        printed = run_cli(["run", str(cat), "--db", db], home, COLUMNS="120")
        again = run_cli(["run", str(cat), "--db", db, "--json", "--no-cache"], home)

    def failures(proc: Any) -> list[str]:
        doc = json.loads(proc.stdout)
        return [
            a["reason"]
            for c in doc["regression"]["cases"]
            for sample in c["assertions"]  # one list per sample
            for a in sample
            if not a["passed"]
        ]

    assert live.returncode == 0, live.stderr
    assert failures(live) == []
    assert replay.returncode == 1, replay.stderr
    assert (
        failures(replay)
        == [
            "latency_ms not measured: the answer was replayed from the response cache "
            "(--no-cache asks the model and measures it)"
        ]
        * 2
    )
    assert printed.returncode == 1
    shown = " ".join(printed.stdout.split())
    assert (
        "FAIL p0 × a: latency_ms < 600000: latency_ms not measured: the answer was replayed"
        in shown
    )
    assert again.returncode == 0, again.stderr
    assert failures(again) == []
