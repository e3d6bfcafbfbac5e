"""``genaicompare scores`` with the statistics of issue 14 §5–§7, as a user runs it: the real CLI
on a real SQLite file written through the store and ratings APIs — the style-controlled table, the
judge's report card and agreement between people, in the table and in ``--json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.integration.test_scores_cli import _answer, _store
from tests.support.headless import run_cli
from tests.unit.scoring.test_judge_card import _verdict


def _long_and_short(tmp_path: Path, n: int) -> tuple[Path, Any, int, int, Any]:
    """A database with a catalog of ``n`` prompts for the models ``long`` and ``short``:
    (path, store, catalog id, run id, ratings API)."""
    from genaicompare.ratings import Ratings

    db = tmp_path / "s.db"
    store, cid, run = _store(db, ("long", "short"), n)
    return db, store, cid, run, Ratings(store)


def test_scores_shows_style_judge_card_and_agreement(tmp_path: Path) -> None:
    n = 40
    db, store, cid, run, ratings = _long_and_short(tmp_path, n)
    for i in range(n):
        long = _answer(
            store, cid, run, f"p{i}", "long", text="## Answer\n- **one**\n- two\n" + "w " * (20 + i)
        )
        short = _answer(store, cid, run, f"p{i}", "short", text="w " * (5 + i % 7))
        # ann and bob mostly prefer the long answer; the left pane is the long one on even prompts.
        order = ["long", "short"] if i % 2 == 0 else ["short", "long"]
        ann = "a" if i % 5 else "b"
        bob = "a" if i % 4 else "tie"
        ratings.prefer(long, short, ann, rater="ann", catalog_name="quick", pane_order=order)
        ratings.prefer(long, short, bob, rater="bob", catalog_name="quick", pane_order=order)
        ratings.thumb(long, "up", rater="ann", catalog_name="quick")
        ratings.thumb(long, "up" if i % 3 else "down", rater="bob", catalog_name="quick")
        _verdict(store, long, short, "a", "a" if i % 6 else "b")
    store.close()

    home = tmp_path / "home"
    js = run_cli(["scores", "quick", "--db", str(db), "--json", "--rounds", "200"], home)
    assert js.returncode == 0, js.stderr
    doc = json.loads(js.stdout)
    style = doc["style_control"]
    assert style["n"] == 2 * n and style["enough"] and style["interval"] == "bootstrap"
    assert {m["model"] for m in style["models"]} == {"long", "short"}
    coef = {c["feature"]: c for c in style["coefficients"]}
    assert set(coef) == {"length", "headers", "lists", "bold"}
    assert coef["length"]["lower"] <= coef["length"]["coef"] <= coef["length"]["upper"]
    assert style["longer_won"]["n"] > 0
    (card,) = doc["judge_card"]
    assert card["judge"] == "openai/judge-x" and card["comparisons"] == n
    assert card["order_flip"]["k"] == sum(1 for i in range(n) if i % 6 == 0)
    assert card["human_agreement"]["n"] == 2 * n and card["human_agreement"]["enough"]
    agreement = doc["rater_agreement"]
    assert agreement["preferences"]["n"] == n and agreement["preferences"]["raters"] == 2
    for name in ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1"):
        e = agreement["thumbs"][name]
        assert e["value"] is None or e["lower"] <= e["value"] <= e["upper"]
    bias = agreement["position_bias"]
    decisive = n + sum(1 for i in range(n) if i % 4)  # ann: a or b; bob: a or tie
    assert bias["n"] == decisive and 0 < bias["rate"] < 1

    table = run_cli(["scores", "quick", "--db", str(db), "--rounds", "200"], home, COLUMNS="100")
    assert table.returncode == 0, table.stderr
    text = table.stdout
    assert "style-controlled Bradley–Terry (80 A/B votes;" in text
    assert "style coefficients" in text and "the longer answer won" in text
    assert "judge report card — openai/judge-x (40 comparisons)" in text
    assert "order flips" in text and "κ with human A/B votes" in text
    assert "agreement between people" in text and "Krippendorff α" in text
    assert "A/B votes for the left pane:" in text and "n=" in text
    assert max(len(line) for line in text.splitlines()) <= 100


def test_scores_says_n_too_small(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "s.db"
    store, cid, run = _store(db, ("long", "short"), 3)
    ratings = Ratings(store)
    for i in range(3):
        long = _answer(store, cid, run, f"p{i}", "long", text="long answer " * 5)
        short = _answer(store, cid, run, f"p{i}", "short", text="short")
        ratings.prefer(
            long, short, "a", rater="ann", catalog_name="quick", pane_order=["long", "short"]
        )
        ratings.prefer(
            long, short, "a", rater="bob", catalog_name="quick", pane_order=["long", "short"]
        )
    store.close()
    table = run_cli(["scores", "quick", "--db", str(db), "--rounds", "50"], tmp_path / "h")
    assert table.returncode == 0, table.stderr
    assert "style-controlled ratings: n too small (6 A/B votes, 30 needed)" in table.stdout
    assert "the longer answer won n too small (n=6) of decisive votes" in table.stdout
    assert "A/B votes (n=3)" in table.stdout and "n too small" in table.stdout


def test_style_counts_are_stored_with_each_answer_and_an_old_database_scores_the_same(
    tmp_path: Path,
) -> None:
    """Each stored answer's Markdown style counts are kept beside it (``answer_style``); the
    style-controlled table and the judge's card read them, and a database from before they were
    kept gets them counted when it is opened, and the very same figures."""
    import sqlite3

    from genaicompare.core.markdown_style import style_counts

    n = 36
    db, store, cid, run, ratings = _long_and_short(tmp_path, n)
    for i in range(n):
        long = _answer(
            store,
            cid,
            run,
            f"p{i}",
            "long",
            text="# Head\n1. **one**\n* two\n```\n- not a list\n```\n__b__ " + "w " * (20 + i),
        )
        short = _answer(store, cid, run, f"p{i}", "short", text="w " * (5 + i % 7))
        ratings.prefer(long, short, "a" if i % 5 else "b", rater="ann", catalog_name="quick")
        _verdict(store, long, short, "a", "a" if i % 4 else "b")
    store.close()

    conn = sqlite3.connect(db)
    query = (
        "SELECT r.text, r.model_alias, s.model_alias, s.length, s.headers, s.lists, s.bold "
        "FROM responses r LEFT JOIN answer_style s ON s.content_hash = r.content_hash"
    )
    rows = conn.execute(query).fetchall()
    assert len(rows) == 2 * n
    for text, alias, stored_alias, *counts in rows:
        assert (stored_alias, tuple(counts)) == (alias, style_counts(text))
    assert rows[0][0].startswith("# Head") and tuple(rows[0][4:]) == (1, 2, 2)

    def style() -> list[object]:
        """The style-controlled table and the judge's card (its length and style figures)."""
        js = run_cli(["scores", "quick", "--db", str(db), "--json", "--rounds", "100"], tmp_path)
        assert js.returncode == 0, js.stderr
        doc = json.loads(js.stdout)
        return [doc["style_control"], doc["judge_card"]]

    stored_doc = style()
    assert stored_doc[0]["n"] == n and stored_doc[0]["enough"]  # type: ignore[index]
    assert stored_doc[1][0]["comparisons"] == n  # type: ignore[index]
    # The file as a genaicompare from before the counts were kept left it: opened again, it is
    # migrated, its answers counted, and scores the same.
    with conn:
        conn.execute("DROP TABLE answer_style")
        conn.execute("DELETE FROM _migrations WHERE name = 'm011_answer_style'")
    assert style() == stored_doc
    assert conn.execute(query).fetchall() == rows
    # And the stored counts are what both read.
    with conn:
        conn.execute("UPDATE answer_style SET headers = 0, lists = 0, bold = 0, length = 1")
    changed = style()
    assert changed[0] != stored_doc[0] and changed[1] != stored_doc[1]
    conn.close()
