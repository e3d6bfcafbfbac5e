"""The scores screen (``S``) as a person sees it: the real TUI in a pty read by pyte, at 80×24 and
120×40, over a database written through the Store and Ratings APIs (issue #13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_scores_cli import SIX, _many
from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare


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
        cat = tmp_path / "quick.yaml"
        doc = {
            "name": "quick",
            "prompts": [{"id": f"p{i}", "prompt": f"question {i}"} for i in range(12)],
            "models": [
                {"id": m, "model": "openai/fake/echo", "api_base": server.base_url} for m in SIX
            ],
        }
        cat.write_text(json.dumps(doc), encoding="utf-8")
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
