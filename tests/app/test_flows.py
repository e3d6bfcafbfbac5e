"""Pilot tests: every key and flow of the comparison screen, against the fake server and a real
SQLite file. Ratings are checked in the database, not only on screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.app.screens.main import MainScreen
from genaicompare.app.widgets.prompt_list import PromptList
from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.core.paths import data_dir
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, make_catalog, wait_for

PROMPTS = [{"id": f"p{i}", "prompt": f"say number {i}", "tags": ["demo"]} for i in range(4)]


def main_screen(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def ratings(db: Path) -> list[dict]:
    with Store(db) as store:
        return store.query("SELECT * FROM ratings ORDER BY id")


def two_models(server, **extra):
    return make_catalog(
        server.base_url,
        {"echo": "fake/echo", "counter": "fake/tokens?n=12"},
        extra.pop("prompts", PROMPTS),
        **extra,
    )


async def test_thumb_up_and_down_are_committed(server, build, db_path):
    app = build(two_models(server))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("l", "d")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        rows = ratings(db_path)
        assert [(r["kind"], r["value"], r["model_alias"]) for r in rows] == [
            ("thumb", "up", "echo"),
            ("thumb", "down", "counter"),
        ]
        assert rows[0]["rater"] == "tester" and rows[0]["time_to_rate_ms"] > 0
        panes = list(app.screen.query(ResponsePane))
        await wait_for(pilot, lambda: "👍" in panes[0].badge and "👎" in panes[1].badge)


async def test_pairwise_preference_and_comment_and_undo(server, build, db_path):
    app = build(two_models(server))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("b")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        row = ratings(db_path)[0]
        assert (row["kind"], row["value"]) == ("pair", "b")
        assert (row["model_alias"], row["other_model_alias"]) == ("echo", "counter")
        await pilot.press("c")
        await pilot.press(*"too terse", "enter")
        await wait_for(pilot, lambda: ratings(db_path)[0]["comment"] == "too terse")
        await pilot.press("z")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        assert ratings(db_path)[1]["kind"] == "retract"
        screen = main_screen(app)
        await wait_for(pilot, lambda: not screen.ratings)
        assert not main_screen(app).query_one(PromptList).rows[0].rated


async def test_navigation_prefetch_and_reopen_from_database(server, build, db_path):
    server.reset()
    catalog = two_models(server, name="navtest")
    app = build(catalog, prefetch=1)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app, 0) and finished(app, 1))
        # prefetch: prompt 1 streamed while prompt 0 was shown, prompt 2 not yet
        assert "say number 1" in main_screen(app).slots[(1, "echo")].record.text
        assert (2, "echo") not in main_screen(app).slots
        await pilot.press("n")
        assert main_screen(app).prompt_index == 1
        await pilot.press("u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("k")
        assert main_screen(app).prompt_index == 0
        await pilot.press("j", "j")
        await wait_for(pilot, lambda: finished(app, 2))
    requests = server.total_requests

    # A new session on the same database: answers come from the store, ratings are shown.
    again = build(catalog, prefetch=0)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(again, 0))
        await pilot.press("n")
        await wait_for(pilot, lambda: finished(again, 1))
        screen = main_screen(again)
        assert all(s.cached for (p, _), s in screen.slots.items() if p == 1)
        await wait_for(pilot, lambda: bool(screen.ratings))
        panes = list(screen.query(ResponsePane))
        assert "👍" in panes[0].badge
        assert main_screen(again).query_one(PromptList).rows[1].rated
    assert server.total_requests == requests


async def test_regenerate_pane_and_prompt(server, build, db_path):
    server.reset()
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        assert server.total_requests == 2
        await pilot.press("2", "r")
        await wait_for(pilot, lambda: server.total_requests == 3 and finished(app))
        assert server.requests["fake/tokens?n=12"] == 2
        await pilot.press("R")
        await wait_for(pilot, lambda: server.total_requests == 5 and finished(app))


@pytest.mark.parametrize("key", ["s", "escape"])
async def test_cancel_streaming(server, build, db_path, key):
    catalog = make_catalog(
        server.base_url,
        {"slow": "fake/tokens?n=400&delay=0.05", "fast": "fake/tokens?n=5"},
        PROMPTS[:1],
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: getattr(screen.slots.get((0, "slow")), "chunks", 0) > 3)
        await pilot.press(key)
        await wait_for(pilot, lambda: finished(app))
        assert screen.slots[(0, "slow")].state == "cancelled"
        assert screen.slots[(0, "fast")].state == "complete"
    with Store(db_path) as store:
        states = {r["model_alias"]: r["state"] for r in store.query("SELECT * FROM responses")}
    assert states == {"slow": "cancelled", "fast": "complete"}


async def test_error_pane_while_others_finish(server, build, db_path):
    catalog = make_catalog(
        server.base_url, {"broken": "fault/400", "fine": "fake/tokens?n=8"}, PROMPTS[:1]
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        broken, fine = app.screen.query(ResponsePane)
        assert broken.state == "error" and broken.has_class("-error")
        # The status names the error; the whole reason is in the body (issue 12 §8).
        assert "BadRequestError" in broken.status_text()
        assert "Invalid parameter" in broken.stream_view.text
        assert fine.state == "complete"


async def test_ui_answers_keys_while_a_stream_hangs(server, build, db_path):
    catalog = make_catalog(
        server.base_url, {"hang": "fault/hang_first?hang=30", "fine": "fake/tokens?n=3"}, PROMPTS
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: getattr(screen.slots.get((0, "fine")), "finished", False))
        for expected in (1, 2, 3):
            await pilot.press("n")
            assert screen.prompt_index == expected
        await pilot.press("2", "u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)


async def test_filter_fuzzy(server, build, db_path):
    prompts = [
        {"id": "capital-france", "prompt": "What is the capital of France?", "tags": ["geo"]},
        {"id": "haiku", "prompt": "Write a haiku about rain", "tags": ["poetry"]},
        {"id": "capital-peru", "prompt": "Capital of Peru?", "tags": ["geo"]},
    ]
    app = build(two_models(server, prompts=prompts), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("slash", *"poetry")
        plist = main_screen(app).query_one(PromptList)
        assert [plist.rows[i].prompt_id for i in plist.shown] == ["haiku"]
        await pilot.press("enter")
        assert plist.has_focus
        await wait_for(pilot, lambda: main_screen(app).prompt_index == 1)
        await pilot.press("slash", "escape")
        assert len(plist.shown) == 3


async def test_blind_mode_hides_names_until_rated(server, build, db_path):
    app = build(two_models(server), blind=True, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        panes = list(app.screen.query(ResponsePane))
        assert [p.title for p in panes] == ["Model A", "Model B"]
        shown_aliases = [p.alias for p in panes]
        await pilot.press("a")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        row = ratings(db_path)[0]
        assert row["blind"] == 1
        assert json.loads(row["pane_order"]) == shown_aliases
        assert row["shuffle_seed"] is not None
        assert row["model_alias"] == shown_aliases[0]
        await wait_for(pilot, lambda: panes[0].title == f"Model A — {shown_aliases[0]}")
        await pilot.press("B")
        assert [p.title for p in app.screen.query(ResponsePane)] == ["echo", "counter"]


async def test_keymap_remaps_rating_key(server, build, db_path):
    app = build(two_models(server), prefetch=0, keymap={"rate.up": "y"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("u")
        await pilot.pause(0.3)
        assert ratings(db_path) == []
        await pilot.press("y")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)


async def test_help_and_diff_and_prompt_toggle(server, build, db_path):
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "MainScreen"
        await pilot.press("D")
        await pilot.pause()
        assert type(app.screen).__name__ == "DiffScreen"
        await pilot.press("escape")
        await pilot.press("P")
        assert app.screen.query_one("#prompt-box").collapsed


async def test_scores_and_export_screens(server, build, db_path):
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("S")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScoresScreen")
        table = app.screen.query_one("DataTable")
        assert table.row_count == 2
        charts = [str(c.render()) for c in app.screen.query(".chart")]
        assert charts and charts[0].startswith("thumbs-up rate")
        assert "├" in charts[0] and "n=1" in charts[0]  # the rated model's bar and interval
        await pilot.press("escape")
        await pilot.press("E", "enter")  # the chooser opens on "rated"
        await wait_for(pilot, lambda: bool(getattr(app.screen, "results", None)))
        _, path, _ = app.screen.results[0]
    out = Path(path)
    assert out.parent == data_dir() / "exports"
    rated = [json.loads(line) for line in out.read_text().splitlines()]
    assert rated and all("[@click" not in json.dumps(r) for r in rated)


async def test_the_scores_screen_says_when_it_indexes_many_answers(
    server, build, db_path, monkeypatch
):
    """A toast while the columnar copy is written, gone once the scores are on the screen."""
    from textual.notifications import Notify

    from genaicompare.store import columns

    monkeypatch.setattr(columns, "BLOCK_ROWS", 1)
    monkeypatch.setattr(columns, "NOTICE_ROWS", 1)
    app = build(two_models(server), prefetch=0)
    posted: list[str] = []
    post = app.post_message

    def spy(message):  # type: ignore[no-untyped-def]
        if isinstance(message, Notify):
            posted.append(message.notification.message)
        return post(message)

    app.post_message = spy  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: finished(app, 2))
        await pilot.press("S")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScoresScreen")
        # Every answer stored but the newest, counted.
        stored = len(_stored(db_path))
        assert [m for m in posted if "indexing" in m] == [
            f"indexing {stored - 1} stored answers for scores (once; later runs read only what "
            "is new)…"
        ]
        await wait_for(pilot, lambda: not any("indexing" in n.message for n in app._notifications))
        await pilot.press("escape")
        await pilot.press("S")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "ScoresScreen")
        await pilot.pause(0.2)
        assert len([m for m in posted if "indexing" in m]) == 1  # nothing new to index


def _stored(db_path):
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT id FROM responses").fetchall()


async def test_rated_marks_shown_on_reopen(server, build, db_path):
    catalog = two_models(server, name="marks")
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: finished(app, 2))
        await pilot.press("u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
    again = build(catalog, prefetch=0)
    async with again.run_test(size=SIZE) as pilot:
        plist = main_screen(again).query_one(PromptList)
        # Prompt 2 is never opened in this session: its mark comes from the database.
        await wait_for(pilot, lambda: plist.rows[2].rated)
        assert not plist.rows[0].rated and not plist.rows[1].rated


async def test_gc_threshold_is_raised_while_running_and_restored_after(server, build):
    import gc

    before = gc.get_threshold()
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert gc.get_threshold() == (20_000, 20, 100)
    assert gc.get_threshold() == before


async def test_far_finished_answers_are_forgotten_and_reopen_from_the_store(
    server, build, db_path, monkeypatch
):
    """A long session does not keep every visited prompt's text (issue 17): only the last
    KEPT_PROMPTS visited prompts keep their slots; an older one re-opens from the store as it
    was, without a new request."""
    import genaicompare.app.screens.main as main_module

    monkeypatch.setattr(main_module, "KEPT_PROMPTS", 2)
    prompts = [{"id": f"p{i}", "prompt": f"say number {i}"} for i in range(6)]
    app = build(two_models(server, name="forget-far", prompts=prompts), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: finished(app, 0))
        first_text = screen.slots[(0, "echo")].record.text
        for i in range(1, 6):
            await pilot.press("n")
            await wait_for(pilot, lambda i=i: finished(app, i))
        kept = {p for p, _ in screen.slots}
        assert kept == {4, 5}, kept
        requests = server.total_requests
        await pilot.press(*"kkkkk")
        assert screen.prompt_index == 0
        await wait_for(pilot, lambda: finished(app, 0))
        slot = screen.slots[(0, "echo")]
        assert slot.cached and slot.record.text == first_text
        assert server.total_requests == requests
        pane = next(iter(screen.query(ResponsePane)))
        await wait_for(pilot, lambda: "say number 0" in pane.text)


async def test_a_pending_rating_is_said_and_its_save_is_said_later(
    server, build, db_path, monkeypatch
):
    """Issue 18 §8 in the TUI: while another process holds the write lock the thumb is pending
    (said, not confirmed); when the lock goes the retry thread writes it and the screen says so
    and shows its mark."""
    import subprocess
    import sys

    from genaicompare.ratings import pending as pending_mod
    from genaicompare.store import database
    from tests.unit.ratings.test_pending import HOLD

    monkeypatch.setattr(database, "WRITE_ATTEMPTS", 2)
    monkeypatch.setattr(pending_mod, "RETRY_SECONDS", 0.1)
    app = build(two_models(server, name="pending-tui"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        app.session.store.conn.execute("PRAGMA busy_timeout = 100")
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(db_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "locked"
            await pilot.press("u")

            def said(text: str) -> bool:
                return any(text in str(n.message) for n in app._notifications)

            await wait_for(pilot, lambda: said("rating pending"))
            assert ratings(db_path) == []
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(10)
        finally:
            if holder.poll() is None:
                holder.kill()
        await wait_for(pilot, lambda: said("1 pending rating reached the database"))
        assert [(r["kind"], r["value"]) for r in ratings(db_path)] == [("thumb", "up")]
        pane = next(iter(main_screen(app).query(ResponsePane)))
        await wait_for(pilot, lambda: "👍" in pane.badge)
