"""Pilot: comparing three models (issue 13) and graded votes (issue 16) — pick the best pane,
mark two panes for A/B, press a win twice for "much better", D against a chosen pane or the
reference with markers, the comment dialog naming its rating and the 💬 mark, the filter's
count and empty state."""

from __future__ import annotations

import json
from typing import Any

from textual.widgets import Input, Label, OptionList, Static

from genaicompare.app.screens.comment import CommentScreen
from genaicompare.app.screens.word_diff import DiffScreen, DiffTarget
from genaicompare.app.widgets.prompt_list import PromptList
from genaicompare.app.widgets.response_pane import ResponsePane
from tests.app.conftest import SIZE, finished, wait_for
from tests.app.test_blind_and_marks import catalog, main_screen, ratings, spy_notifications

THREE = {
    "ant": "tokens?n=5&prefix=a",
    "bee": "tokens?n=5&prefix=b",
    "cat": "echo",
}
PROMPTS = [
    {"id": "trip", "prompt": "it takes 3 hours", "reference": "it takes to arrive 3 hours"},
    {"id": "two", "prompt": "second question"},
]


def _badges(app: Any) -> list[str]:
    return [p.badge for p in main_screen(app).query(ResponsePane)]


async def test_best_of_three_is_one_row_and_reveals_names(server, build, db_path):
    app = build(catalog(server, THREE, prompts=PROMPTS), blind=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        screen = main_screen(app)
        assert screen.hiding
        await pilot.press("2", "w")
        await wait_for(pilot, lambda: not screen.hiding)
        (row,) = ratings(db_path)
        shown = [screen.models[i].id for i in screen.order]
        assert (row["kind"], row["model_alias"]) == ("best", shown[1])
        assert json.loads(row["pane_order"]) == shown and row["blind"] == 1
        assert sorted(o["model_alias"] for o in json.loads(row["others"])) == sorted(
            shown[0:1] + shown[2:]
        )
        assert "★ best of 3" in _badges(app)[1]


async def test_a_b_with_three_panes_needs_two_marks_and_a_second_press_is_strong(
    server, build, db_path
):
    app = build(catalog(server, THREE, prompts=PROMPTS))
    seen = spy_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("a")
        await pilot.pause(0.1)
        assert any("mark two with m" in s for s in seen) and ratings(db_path) == []
        await pilot.press("1", "m", "3", "m")
        await pilot.pause(0.1)
        assert _badges(app)[0].startswith("◆A") and _badges(app)[2].startswith("◆B")
        await pilot.press("b")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("b")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        first, second = ratings(db_path)
        assert (first["model_alias"], first["other_model_alias"]) == ("ant", "cat")
        assert (first["value"], first["strength"]) == ("b", 1)
        assert (second["value"], second["strength"]) == ("b", 2)
        await wait_for(pilot, lambda: "B≫A" in _badges(app)[0])
        assert any("B much better (B≫A): ant vs cat" in s for s in seen)


async def test_d_chooses_a_pane_or_the_reference_with_markers_under_no_color(
    server, build, db_path, monkeypatch
):
    monkeypatch.setenv("NO_COLOR", "1")
    app = build(catalog(server, THREE, prompts=PROMPTS))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("3", "D")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffTarget))
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["1  ant", "2  bee", "r  reference"]
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        body = str(app.screen.query_one("#diff-body", Static).render())
        # reference "it takes to arrive 3 hours" → cat's echo "it takes 3 hours"
        assert "[-to arrive -]" in body or "[-to arrive-]" in body, body
        assert "fuse" not in body
        title = str(app.screen.query_one("#diff-title", Label).render())
        assert title.startswith("Word diff: reference") and "cat" in title
        assert "Esc, q or D closes" in str(app.screen.query_one("#diff-hint", Label).render())
        await pilot.press("escape", "1", "D")  # from pane 1, Enter on the highlighted: pane 2
        await wait_for(pilot, lambda: isinstance(app.screen, DiffTarget))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        title = str(app.screen.query_one("#diff-title", Label).render())
        assert title.startswith("Word diff: bee") and "ant" in title


async def test_comment_names_the_rating_and_leaves_a_mark(server, build, db_path):
    app = build(catalog(server, THREE, prompts=PROMPTS))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("2", "u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CommentScreen))
        target = str(app.screen.query_one("#comment-target", Label).render())
        assert target == "👍 on bee"
        await pilot.press(*"terse", "enter")
        await wait_for(pilot, lambda: "💬" in _badges(app)[1])
        assert ratings(db_path)[0]["comment"] == "terse"


async def test_filter_counts_and_says_when_nothing_matches(server, build, db_path):
    app = build(catalog(server, THREE, prompts=PROMPTS))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("slash", *"second")
        box = main_screen(app).query_one("#filter", Input)
        await wait_for(pilot, lambda: box.border_title == "1 of 2 prompts match")
        await pilot.press("backspace", *"zzzz")  # "seconzzzz"
        await wait_for(pilot, lambda: "no prompt matches" in str(box.border_title))
        prompts = main_screen(app).query_one(PromptList)
        assert prompts.shown == []
        assert "no match for" in prompts.render_line(0).text
        assert "Esc clears" in prompts.render_line(1).text
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(prompts.shown) == 2)
        assert box.border_title is None


async def test_picker_has_a_title_descriptions_keys_and_recents_first(tmp_path):
    from pathlib import Path

    from genaicompare.app.screens.picker import CatalogPicker, _PickerApp, catalog_choices

    samples = Path(__file__).parents[2] / "sample_catalogs"
    recent = str(samples / "quickstart.yaml")
    app = _PickerApp(catalog_choices([recent], samples))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, CatalogPicker))
        assert str(app.screen.query_one("#picker-title", Label).render()) == "Open a catalog"
        options = app.screen.query_one(OptionList)
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert texts[0].startswith(f"recent: {recent}")
        assert sum("quickstart" in t.split("\n")[0] for t in texts) == 1  # not twice
        assert any(t.startswith("sample: capitals.jsonl") for t in texts)
        switch = next(t for t in texts if "model_switch" in t)
        assert "needs ANTHROPIC_API_KEY, OPENAI_API_KEY" in switch
        assert all("\n  " in t for t in texts)  # a description line under each
        await pilot.press("escape")
