"""The scores screen (``S``) as a person sees it: the real TUI in a pty read by pyte, at 80×24 and
120×40, over a database written through the Store and Ratings APIs (issue #13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_scores_cli import SIX, _many
from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare


def _six_catalog(tmp_path: Path, server: FakeOpenAI) -> Path:
    """The ``quick`` catalog of ``_many``'s database: 12 prompts, the six models on ``server``."""
    cat = tmp_path / "quick.yaml"
    doc = {
        "name": "quick",
        "prompts": [{"id": f"p{i}", "prompt": f"question {i}"} for i in range(12)],
        "models": [
            {"id": m, "model": "openai/fake/echo", "api_base": server.base_url} for m in SIX
        ],
    }
    cat.write_text(json.dumps(doc), encoding="utf-8")
    return cat


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_scores_screen_shows_whole_names_and_the_rate_with_its_interval(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    from genaicompare.scoring import compute_scores
    from genaicompare.store import Store

    db = tmp_path / "six.db"
    _many(db, SIX)
    with Store(db) as store:
        scores = compute_scores(store, "quick")
    ranked = [r["model"] for r in scores.bt.rows()]  # type: ignore[union-attr]
    cols, rows = size
    with FakeOpenAI() as server:
        cat = _six_catalog(tmp_path, server)
        with genaicompare(
            [str(cat), "--db", str(db), "--prefetch", "0"], cols, rows, isolated_home
        ) as term:
            term.wait(lambda ls: "q Quit" in ls[-1], 60, "the main screen's footer")
            for attempt in range(6):  # the first key can arrive before the screen takes keys
                term.send("S")
                try:
                    term.wait(lambda ls: any("Scores — quick" in ln for ln in ls), 5, "scores")
                    break
                except AssertionError:
                    if attempt == 5:
                        raise
            lines = term.wait(
                lambda ls: any("66.7% [39.1–86.2]" in line for line in ls), 10, "rate"
            )
            # Inside the dialog (between its borders): ranked rows with whole names in the
            # first part of the table, and nothing cut.
            inside = [line.split("█")[1] for line in lines if line.count("█") >= 2]
            first = [
                cell.split()[0] for cell in inside if cell.split()[:1] and cell.split()[0] in SIX
            ]
            assert first[: len(SIX)] == ranked, term.dump()
            assert not any("…" in line for line in inside), term.dump()
            if cols >= 120:
                # The rate and the rating with their intervals, on one row.
                best = next(line for line in lines if f" {ranked[0]} " in line)
                rating = scores.bt.rows()[0]  # type: ignore[union-attr]
                assert (
                    f"{rating['rating']:.0f} [{rating['lower']:.0f}–{rating['upper']:.0f}]" in best
                )
                assert "66.7% [39.1–86.2]" in best, term.dump()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_the_first_scores_screen_on_many_answers_says_it_indexes_them(
    tmp_path: Path, isolated_home: Path, size: tuple[int, int]
) -> None:
    """70,000 stored answers and no columnar copy yet: ``S`` shows the indexing toast with the
    number of answers the copy then holds, then the scores; the second ``S`` says nothing."""
    import re
    import sqlite3

    db = tmp_path / "many.db"
    _many(db, SIX)
    with sqlite3.connect(db) as conn:  # copies of the stored answers, as a long-kept database
        cols = [r[1] for r in conn.execute("PRAGMA table_info(responses)") if r[1] != "id"]
        (have,) = conn.execute("SELECT count(*) FROM responses").fetchone()
        copied = ", ".join(cols)
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO responses ({copied}) SELECT {copied} FROM responses, n",
            [70_000 // have],
        )
        conn.execute("DELETE FROM answer_columns")
    with FakeOpenAI() as server:
        cat = _six_catalog(tmp_path, server)
        with genaicompare(
            [str(cat), "--db", str(db), "--prefetch", "0"], *size, isolated_home
        ) as term:
            term.wait(lambda ls: "q Quit" in ls[-1], 60, "the main screen's footer")
            toast = re.compile(r"indexing ([\d,]+) stored answers")
            for attempt in range(6):  # the first key can arrive before the screen takes keys
                term.send("S")
                try:
                    lines = term.wait(
                        lambda ls: any(toast.search(ln) for ln in ls), 10, "the toast"
                    )
                    break
                except AssertionError:
                    if attempt == 5:
                        raise
            (shown,) = {m.group(1) for ln in lines if (m := toast.search(ln))}
            term.wait(lambda ls: any("Scores — quick" in ln for ln in ls), 60, "the scores")
            term.send("Escape")
            term.wait(lambda ls: not any("Scores — quick" in ln for ln in ls), 10, "main")
            term.send("S")
            lines = term.wait(lambda ls: any("Scores — quick" in ln for ln in ls), 60, "again")
            assert not any("indexing" in ln for ln in lines), term.dump()
    with sqlite3.connect(db) as conn:
        (in_blocks,) = conn.execute("SELECT sum(rows) FROM answer_columns").fetchone()
    assert int(shown.replace(",", "")) == in_blocks > 50_000
