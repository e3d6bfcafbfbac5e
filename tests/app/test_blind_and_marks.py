"""Pilot: what blind mode hides and when it reveals, marks that follow the answer, and the rating
refusals the TUI says in words (issue 12 §3, §6, §10; issue 18 §9, §14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from genaicompare.app.screens.main import MainScreen
from genaicompare.app.services import GONE as GONE_HINT
from genaicompare.app.widgets.metrics_matrix import MetricsMatrix
from genaicompare.app.widgets.prompt_list import PromptList
from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.catalog import Catalog
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, make_catalog, wait_for

PROMPTS = [{"id": f"p{i}", "prompt": f"say number {i}"} for i in range(3)]


def main_screen(app: Any) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def ratings(db: Path) -> list[dict[str, Any]]:
    with Store(db) as store:
        return store.query("SELECT * FROM ratings WHERE kind != 'retract' ORDER BY id")


def spy_notifications(app: Any) -> list[str]:
    """Every notification's text (toasts expire; the list does not)."""
    seen: list[str] = []
    notify = app.notify

    def spy(message: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(f"{kwargs.get('title') or ''} {message}")
        return notify(message, *args, **kwargs)

    app.notify = spy
    return seen


def catalog(server: Any, models: dict[str, str], *, systems: bool = False, **extra: Any) -> Catalog:
    return Catalog.model_validate(
        {
            "name": extra.pop("name", "blindtest"),
            "models": [
                {
                    "id": alias,
                    "model": f"openai/{scenario}",
                    "api_base": server.base_url,
                    **({"system": f"You are the {alias} persona."} if systems else {}),
                }
                for alias, scenario in models.items()
            ],
            "prompts": extra.pop("prompts", PROMPTS),
        }
    )


FOUR = {
    "alpha": "fake/tokens?n=8&prefix=a",
    "bravo": "fake/tokens?n=8&prefix=b",
    "charlie": "fake/tokens?n=8&prefix=c",
    "delta": "fake/tokens?n=8&prefix=d",
}


def screen_texts(screen: MainScreen) -> str:
    """Everything the main screen shows as text: headers, status lines, prompt, metrics table."""
    parts = [str(screen.query_one("#prompt-text").render())]
    for pane in screen.panes():
        parts += [pane.title, pane.badge, pane.status_text()]
    matrix = screen.query_one(MetricsMatrix)
    parts += matrix.headers()
    for name, cells in matrix.rows().items():
        parts += [name, *cells]
    return "\n".join(parts)


async def test_blind_hides_names_systems_cost_and_cache_until_every_pane_is_rated(
    server, build, db_path
):
    # Two of the four models answered before (not blind): their answers come from the store.
    before = build(catalog(server, dict(list(FOUR.items())[:2]), systems=True), prefetch=0)
    async with before.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(before))
    app = build(catalog(server, FOUR, systems=True), blind=True, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.pause(0.8)  # the metrics table's next redraw
        screen = main_screen(app)
        assert [p.title for p in screen.panes()] == [f"Model {c}" for c in "ABCD"]
        # The order is the recorded per-prompt shuffle, not the catalog's.
        shown = [p.alias for p in screen.panes()]

        def nothing_told() -> None:
            text = screen_texts(screen)
            for alias in FOUR:
                assert alias not in text, text
            assert "stored" not in text and "cost" not in text and "$" not in text, text
            assert "persona" not in text, text  # the per-model system prompts

        nothing_told()
        assert "hidden while blind" in str(screen.query_one("#prompt-text").render())
        await pilot.press("d")  # one 👎 reveals nothing (it revealed all four names)
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await wait_for(pilot, lambda: "👎" in screen.panes()[0].badge)
        nothing_told()
        row = ratings(db_path)[0]
        assert row["blind"] == 1 and row["shuffle_seed"] is not None
        assert json.loads(row["pane_order"]) == shown
        for _ in range(3):
            await pilot.press("l", "u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 4)
        await wait_for(pilot, lambda: all(p.alias in p.title for p in screen.panes()))
        assert [p.title for p in screen.panes()] == [
            f"Model {c} — {alias}" for c, alias in zip("ABCD", shown, strict=True)
        ]
        text = str(screen.query_one("#prompt-text").render())
        assert "You are the alpha persona." in text and "You are the delta persona." in text
        statuses = {p.alias: p.status_text() for p in screen.panes()}
        assert "stored" in statuses["alpha"] and "stored" not in statuses["charlie"]


async def test_a_pair_vote_reveals_both_names(server, build, db_path):
    app = build(catalog(server, dict(list(FOUR.items())[:2])), blind=True, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        screen = main_screen(app)
        await pilot.press("t")
        await wait_for(pilot, lambda: all(p.alias in p.title for p in screen.panes()))


async def test_marks_follow_the_answer_not_the_pane(server, build, db_path):
    slow = {c: f"fake/tokens?n=300&delay=0.02&prefix={c}" for c in "st"}
    app = build(catalog(server, slow), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app), timeout=90)
        screen = main_screen(app)
        panes = screen.panes()
        await pilot.press("x")
        await wait_for(pilot, lambda: all("both bad" in p.badge for p in panes))
        # Regenerated and cancelled: the new answers were not rated.
        await pilot.press("R")
        await wait_for(pilot, lambda: panes[0].state == "streaming")
        await pilot.press("s")
        await wait_for(pilot, lambda: finished(app))
        assert [p.badge for p in panes] == ["", ""]
        await pilot.press("n")
        await wait_for(pilot, lambda: screen.prompt_index == 1)
        await pilot.press("p")
        await wait_for(pilot, lambda: screen.prompt_index == 0)
        await pilot.pause(0.5)  # the ratings reload
        assert screen.ratings and [p.badge for p in panes] == ["", ""]


async def test_an_identical_regenerated_answer_shows_its_mark_at_once(server, build, db_path):
    app = build(
        make_catalog(server.base_url, {"echo": "fake/echo", "n": "fake/tokens?n=5"}, PROMPTS)
    )
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        panes = main_screen(app).panes()
        await pilot.press("u")
        await wait_for(pilot, lambda: "👍" in panes[0].badge)
        screen = main_screen(app)
        rated = screen.current_pane_slot(0)
        await pilot.press("R")
        await wait_for(pilot, lambda: screen.current_pane_slot(0) is not rated)
        await wait_for(pilot, lambda: finished(app))
        assert screen.current_pane_slot(0).record.id != rated.record.id
        # The same output as the rated one (same content hash): its 👍, without leaving the prompt.
        await wait_for(pilot, lambda: "👍" in panes[0].badge, timeout=10)


async def test_a_stored_length_answer_says_cut_at_max_tokens(server, build, db_path):
    cat = make_catalog(server.base_url, {"cut": "fake/length?n=5", "echo": "fake/echo"}, PROMPTS)
    first = build(cat, prefetch=0)
    async with first.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(first))
    again = build(cat, prefetch=0)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(again))
        await pilot.pause(0.8)
        screen = main_screen(again)
        pane = screen.panes()[0]
        assert pane.cached and pane.status_text().startswith("cut at max_tokens · stored")
        assert screen.query_one(MetricsMatrix).rows()["state"][0] == "cut at max_tokens · stored"


async def test_answered_marks_come_from_the_store(server, build, db_path):
    cat = make_catalog(server.base_url, {"echo": "fake/echo", "n": "fake/tokens?n=5"}, PROMPTS)
    first = build(cat, prefetch=0)
    async with first.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: finished(first, 2))
    again = build(cat, prefetch=0)
    async with again.run_test(size=SIZE) as pilot:
        rows = main_screen(again).query_one(PromptList).rows
        # Prompt 2 is not visited in this session: its ✓ comes from the database.
        await wait_for(pilot, lambda: rows[2].state == "✓")
        assert rows[1].state in ("✓", "")  # answered before too, unless its marks are still loading


async def test_next_on_the_last_prompt_says_so(server, build, db_path):
    app = build(make_catalog(server.base_url, {"echo": "fake/echo"}, PROMPTS[:2]), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        seen = spy_notifications(app)
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("n")
        await wait_for(pilot, lambda: main_screen(app).prompt_index == 1)
        await pilot.press("n")
        await wait_for(pilot, lambda: any("last prompt" in s for s in seen))
        assert main_screen(app).prompt_index == 1


async def test_a_pair_vote_on_identical_answers_says_dpo_skips_it(server, build, db_path):
    same = {"one": "fake/echo?v=1", "two": "fake/echo?v=2"}  # two models, one text
    app = build(make_catalog(server.base_url, same, PROMPTS), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        seen = spy_notifications(app)
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("b")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await wait_for(pilot, lambda: any("identical" in s and "DPO" in s for s in seen))
        await pilot.press("t")  # a tie is not a DPO pair: nothing to say
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        await pilot.pause(0.3)
        assert sum("identical" in s for s in seen) == 1


async def test_an_answer_that_ended_in_error_is_not_offered_for_rating(server, build, db_path):
    cat = make_catalog(server.base_url, {"broken": "fault/400", "fine": "fake/echo"}, PROMPTS)
    app = build(cat, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        seen = spy_notifications(app)
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: any("ended in error" in s for s in seen))
        await pilot.press("b")  # a pair with the failed answer: refused too
        await pilot.pause(0.5)
        assert ratings(db_path) == []
        assert not any("Error:" in s for s in seen), seen  # no raw exception


async def test_rating_an_answer_deleted_by_forget_says_so(server, build, db_path):
    from genaicompare.store.forget import forget

    app = build(make_catalog(server.base_url, {"echo": "fake/echo"}, PROMPTS), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        seen = spy_notifications(app)
        await wait_for(pilot, lambda: finished(app))
        with Store(db_path) as other:  # `genaicompare forget --prompt p0` from another terminal
            forget(other, prompt="p0")
        await pilot.press("u")
        await wait_for(pilot, lambda: any(GONE_HINT in s for s in seen))
        assert not any("IntegrityError" in s or "FOREIGN KEY" in s for s in seen), seen
        assert ratings(db_path) == []
        panes = list(app.screen.query(ResponsePane))
        assert panes[0].badge == ""
