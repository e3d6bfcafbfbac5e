"""The scores screen (``S``) on a real database: one A/B vote is "not enough to rank", with n and
intervals on what it does show (issue 14 §1, §2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import DataTable, Label

from genaicompare.app.screens.scores import ScoresScreen


def _one_vote(path: Path):  # type: ignore[no-untyped-def]
    from genaicompare.ratings import Ratings
    from tests.integration.test_scores_cli import _answer, _store

    store, cid, run = _store(path, ("friendly", "terse"), 1)
    friendly = _answer(store, cid, run, "p0", "friendly")
    terse = _answer(store, cid, run, "p0", "terse")
    Ratings(store, rater="me").prefer(friendly, terse, "b")
    return store


async def test_scores_screen_says_one_vote_is_not_enough_to_rank(tmp_path: Path) -> None:
    from genaicompare.scoring import scores_table

    store = _one_vote(tmp_path / "one.db")
    title, columns, rows, note, charts = scores_table(store, "quick")
    store.close()

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ScoresScreen(title, columns, rows, note, charts))

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        rank = columns.index("rank")
        cells = [[str(table.get_row_at(i)[c]) for c in range(len(columns))] for i in range(2)]
        assert all(row[rank] == "–" for row in cells)  # no rank from one vote
        bt = columns.index("BT rating (95% CI)")
        assert {row[bt] for row in cells} == {"not enough votes (n=1)"}
        labels = " ".join(
            str(lab.render()) for lab in [*screen.query(Label), *screen.query(".note")]
        )
        assert "1 vote: not enough to rank" in labels
        assert "ahead" not in labels
        bt_chart = [str(c.render()) for c in screen.query(".chart")][1]
        assert "not enough to rank" in bt_chart and "n=1" in bt_chart


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_table_fits_in_parts_and_the_bars_follow_its_order(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """Six models with long names: the table is split into parts that each fit (no sideways
    scrolling past a figure), every part in the ranked order, and the bars in that order too;
    the rating's bars say where they start (a rating has no zero)."""
    from genaicompare.scoring import compute_scores, scores_table
    from genaicompare.store import Store
    from tests.integration.test_scores_cli import SIX, _many

    db = tmp_path / "six.db"
    _many(db, SIX)
    with Store(db) as store:
        title, columns, rows, note, charts = scores_table(store, "quick")
        ranked = [r["model"] for r in compute_scores(store, "quick").bt.rows()]  # type: ignore[union-attr]

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ScoresScreen(title, columns, rows, note, charts))

    app = Host()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        tables = list(app.screen.query(DataTable))
        shown: list[str] = []
        for table in tables:
            assert table.virtual_size.width <= table.scrollable_content_region.width, (
                table.virtual_size,
                table.scrollable_content_region,
            )
            names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert names == ranked
            shown += [str(c.label) for c in table.columns.values()][1:]
        assert ["model", *shown] == columns  # every column, once, in order
        charts_text = [str(c.render()) for c in app.screen.query(".chart")]
        for chart in charts_text:
            order = [
                line.split()[0]
                for line in chart.splitlines()
                if line.split() and line.split()[0] in SIX
            ]
            assert order == ranked
        bt_chart = next(c for c in charts_text if c.startswith("Bradley-Terry"))
        assert "bars start at" in bt_chart
        assert "bars start at" not in charts_text[0]  # the rate's bars start at a real 0
