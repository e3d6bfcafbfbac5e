"""Pilot tests for the keys the flow tests do not press: tie / both bad, pane left (wrapping),
previous prompt with p, Esc as cancel, quitting from the main screen; and the streaming pane
following the tail of a long answer."""

from __future__ import annotations

from genaicompare.app.widgets.response_pane import ResponsePane
from tests.app.conftest import SIZE, finished, make_catalog, wait_for
from tests.app.test_flows import PROMPTS, main_screen, ratings, two_models


async def test_tie_and_both_bad_preferences(server, build, db_path):
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("t")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("x")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        rows = ratings(db_path)
        assert [(r["kind"], r["value"]) for r in rows] == [("pair", "tie"), ("pair", "both_bad")]
        assert all((r["model_alias"], r["other_model_alias"]) == ("echo", "counter") for r in rows)
        panes = list(app.screen.query(ResponsePane))
        await wait_for(pilot, lambda: "both bad" in panes[0].badge and "both bad" in panes[1].badge)


async def test_pane_left_wraps_and_p_goes_back(server, build, db_path):
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_for(pilot, lambda: finished(app))
        assert screen.current_slot == 0
        await pilot.press("h")  # from the first pane, left wraps to the last
        assert screen.current_slot == 1
        assert [p.has_class("-current") for p in screen.query(ResponsePane)] == [False, True]
        await pilot.press("left")
        assert screen.current_slot == 0
        await pilot.press("right")
        assert screen.current_slot == 1
        await pilot.press("n", "n")
        assert screen.prompt_index == 2
        await pilot.press("p")
        assert screen.prompt_index == 1
        # The focused pane stays where it was; rating goes to it.
        await wait_for(pilot, lambda: finished(app, 1))
        await pilot.press("d")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        row = ratings(db_path)[0]
        assert (row["prompt_id"], row["model_alias"], row["value"]) == ("p1", "counter", "down")


async def test_q_quits_from_the_main_screen(server, build, db_path):
    app = build(two_models(server), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.return_code in (0, None)


async def test_streaming_pane_follows_the_tail_and_keeps_every_word(server, build, db_path):
    # 300 words at 10 ms in a small terminal: many batches, far more rows than the pane shows.
    catalog = make_catalog(
        server.base_url, {"long": "fake/tokens?n=300&delay=0.01"}, PROMPTS[:1], name="tail"
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = main_screen(app)
        (pane,) = app.screen.query(ResponsePane)
        view = pane.stream_view
        seen_scrolled = False
        while not finished(app):
            await pilot.pause(0.05)
            if pane.showing_markdown or not view.row_count:
                continue
            # Following: the last row is always on screen, whatever the batching.
            top = view.scroll_offset.y
            assert top <= view.row_count - 1 < top + view.scrollable_content_region.height
            seen_scrolled = seen_scrolled or top > 0
        assert seen_scrolled
        slot = screen.slots[(0, "long")]
        await wait_for(pilot, lambda: pane.showing_markdown)
        assert pane.markdown.source == slot.record.text == "".join(slot.parts)
