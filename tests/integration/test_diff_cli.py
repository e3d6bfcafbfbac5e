"""``genaicompare diff RUN_A RUN_B`` from a real subprocess over two real runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

PROMPTS = [
    {"id": "same", "prompt": "stays the same"},
    {"id": "changes", "prompt": "alpha beta gamma delta"},
]


def test_diff_cli_orders_and_diffs(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    home = tmp_path / "home"
    with FakeOpenAI() as server:
        # Run 1: "m" echoes; run 2: "m" echoes for one prompt only (the other becomes tokens).
        c1 = write_catalog(tmp_path / "a.yaml", server.base_url, {"m": "fake/echo"}, PROMPTS)
        assert run_cli(["run", str(c1), "--db", db], home).returncode == 0
        c2 = write_catalog(
            tmp_path / "b.yaml",
            server.base_url,
            {"m": "fake/echo"},
            [PROMPTS[0], {"id": "changes", "prompt": "alpha beta \x1b[2J gamma"}],
        )
        assert run_cli(["run", str(c2), "--db", db], home).returncode == 0
    # The earlier answer to "changes" was approved: it must come first now that it changed.
    conn = sqlite3.connect(db)
    (rid,) = conn.execute(
        "SELECT id FROM responses WHERE run_id=1 AND prompt_id='changes'"
    ).fetchone()
    conn.close()
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    with Store(db) as store:
        Ratings(store, rater="t").thumb(rid, "up")

    table = run_cli(["diff", "1", "2", "--db", db, "--all", "--lexical"], home)
    assert table.returncode == 0, table.stderr
    out = table.stdout
    assert out.index("changes") < out.index("same")
    assert "[- delta-]" in out and "\x1b" not in out
    data = run_cli(["diff", "1", "2", "--db", db, "--json", "--lexical"], home)
    rows = json.loads(data.stdout)["rows"]
    assert [r["prompt_id"] for r in rows] == ["changes"]  # unchanged rows hidden without --all
    assert rows[0]["thumbs_up_before"] is True and rows[0]["similarity"] < 1
    missing = run_cli(["diff", "1", "99", "--db", db], home)
    assert missing.returncode == 2 and "no run 99" in missing.stderr


ASSERTED = [
    # echo passes, tokens fails: PASS→FAIL when the model goes from echo to tokens.
    {
        "id": "greet",
        "prompt": "hello there",
        "reference": "hello there",
        "assert": {"contains": "hello"},
    },
    # echo fails ("count t0" has no t1), tokens passes: FAIL→PASS.
    {"id": "count", "prompt": "count t0", "reference": "t0 t1 t2", "assert": {"contains": "t1"}},
    {"id": "same", "prompt": "stays", "reference": "stays"},
]


def _two_runs(tmp_path: Path) -> tuple[str, Path]:
    db, home = str(tmp_path / "r.db"), tmp_path / "home"
    with FakeOpenAI() as server:
        # Run 2 is slower per token but has a shorter first token: its latency is worse and its
        # TTFT better (the fake streams run 1's echo in one burst after a delay).
        for scenario in ("fake/echo?delay=0.02", "fake/tokens?n=3&delay=0.001"):
            cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"m": scenario}, ASSERTED)
            proc = run_cli(["run", str(cat), "--db", db, "--no-cache"], home)
            assert proc.returncode in (0, 1), proc.stderr
    return db, home


def test_diff_ranks_assertion_transitions_first_and_names_improvements(tmp_path: Path) -> None:
    from tests.support.tables import assert_readable

    db, home = _two_runs(tmp_path)
    data = run_cli(["diff", "1", "2", "--db", db, "--json"], home)
    assert data.returncode == 0, data.stderr
    doc = json.loads(data.stdout)
    rows = doc["rows"]
    assert [(r["prompt_id"], r["transition"]) for r in rows] == [
        ("greet", "PASS→FAIL"),
        ("count", "FAIL→PASS"),
        ("same", None),
    ]
    assert (rows[0]["assertions_a"], rows[0]["assertions_b"]) == ("pass", "fail")
    for r in rows:
        changes = {c["metric"]: c for c in r["metric_changes"]}
        for name, c in changes.items():
            worse = name in r["metric_drops"]
            assert c["change"] in ("worse", "better", "neutral")
            assert (c["change"] == "worse") == worse
            if name in ("latency_ms", "ttft_ms", "cost_usd") and c["b"] < c["a"]:
                assert c["change"] == "better" and name not in r["metric_drops"]
        # By importance: reference metrics (rougeL, BLEU …) before latency and length.
        order = [c["metric"] for c in r["metric_changes"]]
        if "rougeL" in order and "latency_ms" in order:
            assert order.index("rougeL") < order.index("latency_ms")
    for columns in (80, 120):
        text = run_cli(["diff", "1", "2", "--db", db], home, COLUMNS=str(columns)).stdout
        lines = text.splitlines()
        assert lines[1] == "3 of 3 answers changed · 1 PASS→FAIL · 1 FAIL→PASS"
        first = next(i for i, line in enumerate(lines) if line.startswith("greet × m"))
        assert "assertions PASS→FAIL" in lines[first]
        assert first < next(i for i, line in enumerate(lines) if line.startswith("count × m"))
        assert "(better)" in text or "(worse)" in text
        assert_readable(text, columns)  # the paired tables fit whole


def test_the_counts_are_over_every_answer_not_the_rows_shown(tmp_path: Path) -> None:
    db, home = _two_runs(tmp_path)
    every = json.loads(run_cli(["diff", "1", "2", "--db", db, "--json", "--all"], home).stdout)
    changed = sum(r["changed"] for r in every["rows"])
    assert changed == every["changed"] >= 2 and every["answers"] == len(every["rows"]) == 3
    one = run_cli(["diff", "1", "2", "--db", db, "--limit", "1"], home, COLUMNS="100")
    assert one.returncode == 0, one.stderr
    assert f"{changed} of 3 answers changed · 1 PASS→FAIL · 1 FAIL→PASS" in one.stdout
    assert "1 of 3 shown (--limit)" in one.stdout
    doc = json.loads(run_cli(["diff", "1", "2", "--db", db, "--json", "--limit", "1"], home).stdout)
    assert len(doc["rows"]) == 1 and doc["rows"][0]["transition"] == "PASS→FAIL"
    assert (doc["answers"], doc["changed"], doc["listed"]) == (3, changed, 3)
    assert doc["transitions"] == {"PASS→FAIL": 1, "FAIL→PASS": 1}


def test_an_empty_diff_says_no_answer_changed(tmp_path: Path) -> None:
    db, home = _two_runs(tmp_path)
    proc = run_cli(["diff", "1", "1", "--db", db], home, COLUMNS="80")
    assert proc.returncode == 0, proc.stderr
    assert "no answer changed" in proc.stdout and "┏" not in proc.stdout.split("paired")[0]


def test_diff_and_the_tuis_c_compute_the_same_similarity(tmp_path: Path) -> None:
    from genaicompare.gate.run_diff import latest_run_diff
    from genaicompare.store import Store

    db, home = _two_runs(tmp_path)
    cli = json.loads(run_cli(["diff", "1", "2", "--db", db, "--json", "--all"], home).stdout)
    with Store(db) as store:
        found = latest_run_diff(store, "regress")
    assert found is not None
    run_a, run_b, method, rows = found
    assert (run_a, run_b, method) == (1, 2, cli["similarity_method"])
    assert {(r.prompt_id, r.similarity) for r in rows} == {
        (r["prompt_id"], r["similarity"]) for r in cli["rows"]
    }


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_diff_tui_shows_the_transition_first_on_screen(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    from tests.support.terminal import genaicompare

    db, _home = _two_runs(tmp_path)
    cols, rows = size
    with genaicompare(["diff", "1", "2", "--db", db, "--tui"], cols, rows, isolated_home) as term:
        term.wait(lambda ls: any("PASS→FAIL" in line for line in ls), 30, "the diff")
        lines = term.wait(
            lambda ls: any("3 of 3 answers changed" in line for line in ls), 10, "the title"
        )
        flips = [i for i, line in enumerate(lines) if "PASS→FAIL greet" in line]
        fixes = [i for i, line in enumerate(lines) if "FAIL→PASS count" in line]
        assert flips and fixes and flips[0] < fixes[0], term.dump()
        assert any("assertions PASS→FAIL" in line for line in lines), term.dump()
