"""The main screen fits the terminal (issue #13): pane grids per count and size, tabs when panes
would be too small, zoom, the prompt list and metrics making room, the header, the footer, ``?``.

Answers come from the database (stored beforehand), so layouts and snapshots are deterministic.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.app.app import make_app
from genaicompare.app.screens.help import HelpScreen
from genaicompare.app.screens.main import MainScreen
from genaicompare.app.widgets.footer import KeyFooter
from genaicompare.app.widgets.header import ContextHeader
from genaicompare.app.widgets.pane_grid import MIN_HEIGHT, MIN_WIDTH, PaneGrid, grid_shape
from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.catalog import Catalog
from genaicompare.config import Settings
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.session.comparison import build_request
from genaicompare.store import Store
from tests.app.conftest import wait_for

LETTERS = "abcdef"
WORDS = 150
SMALL, LARGE = (80, 24), (120, 40)


def _catalog(panes: int) -> Catalog:
    return Catalog.model_validate(
        {
            "name": "layout",
            "version": "3",
            "models": [
                {
                    "id": f"model-{c}",
                    "model": "openai/fake/tokens",
                    "api_base": "http://127.0.0.1:9/v1",
                }
                for c in LETTERS[:panes]
            ],
            "prompts": [
                {"id": f"q{i}", "prompt": f"Question {i}?", "reference": "a0 a1"} for i in range(3)
            ],
        }
    )


def _app(tmp_path: Path, panes: int, **settings):
    catalog = _catalog(panes)
    db = tmp_path / f"layout{panes}.db"
    with Store(db) as store:
        for prompt in catalog.prompts:
            for i, model in enumerate(catalog.models):
                request, rendered = build_request(catalog, prompt, model)
                letter = LETTERS[i]
                store.save_response(
                    ResponseRecord(
                        prompt_id=prompt.id,
                        model_alias=model.id,
                        model=model.model,
                        params=request.params,
                        messages=request.messages,
                        api_base=model.api_base,
                        template_hash=rendered.template_hash,
                        text=" ".join(f"{letter}{k}" for k in range(WORDS)),
                        state=FinishState.complete,
                        finish_reason="stop",
                        ttft_ms=100.0,
                        latency_ms=900.0,
                        tokens_in=10,
                        tokens_out=WORDS,
                        tokens_per_s=50.0,
                        created_at="2026-01-01T00:00:00.000+00:00",
                    )
                )
    values = {"rater": "lay", "theme": "genaicompare-dark", "metrics": ["ops"], "prefetch": 0}
    values.update(settings)
    return make_app(Settings(**values), catalog, Store(db), in_process=True, save_config=False)


def _main(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def _shown(screen: MainScreen) -> bool:
    slots = [s for (p, _), s in screen.slots.items() if p == screen.prompt_index]
    panes = screen.panes()
    return bool(slots) and all(s.finished for s in slots) and all(p.idle for p in panes)


async def _settled(pilot) -> None:
    await wait_for(pilot, lambda: any(isinstance(s, MainScreen) for s in pilot.app.screen_stack))
    screen = _main(pilot.app)
    await wait_for(pilot, lambda: _shown(screen))
    await wait_for(pilot, lambda: all(s.metrics for (p, _), s in screen.slots.items() if p == 0))
    await pilot.pause(0.3)
    screen._draw_metrics()
    await pilot.pause(0.3)


def _visible_panes(screen: MainScreen) -> list[ResponsePane]:
    return [p for p in screen.panes() if p.display and p.region.width and p.region.height]


def _body_rows(pane: ResponsePane) -> int:
    """Rows of answer text the pane shows (the Markdown view's height)."""
    body = pane.query_one("VerticalScroll")
    return body.region.height


# -- the shape chosen for a count and a size --------------------------------------------------
@pytest.mark.parametrize(
    ("panes", "width", "height", "shape"),
    [
        (2, 62, 13, (2, 1)),
        (2, 58, 16, (1, 2)),  # too narrow side by side, tall enough stacked
        (2, 58, 12, None),
        (3, 96, 20, (3, 1)),
        (4, 96, 20, (2, 2)),
        (4, 60, 13, None),
        (5, 96, 20, (3, 2)),
        (6, 96, 20, (3, 2)),
        (6, 88, 24, (2, 3)),
        (6, 62, 13, None),
    ],
)
def test_grid_shape(panes, width, height, shape):
    assert grid_shape(panes, width, height) == shape


# -- every layout at both sizes: which shape, and every shown pane readable --------------------
EXPECTED = {
    (2, SMALL): ("grid", (2, 1)),
    (3, SMALL): ("tabs", (1, 1)),
    (4, SMALL): ("tabs", (1, 1)),
    (6, SMALL): ("tabs", (1, 1)),
    (2, LARGE): ("grid", (2, 1)),
    (3, LARGE): ("grid", (3, 1)),
    (4, LARGE): ("grid", (2, 2)),
    (6, LARGE): ("grid", (3, 2)),
}


@pytest.mark.parametrize(("panes", "size"), list(EXPECTED))
async def test_layout_per_count_and_size(tmp_path, panes, size):
    app = _app(tmp_path, panes)
    async with app.run_test(size=size) as pilot:
        await _settled(pilot)
        screen = _main(app)
        grid = screen.query_one(PaneGrid)
        assert (grid.mode, grid.shape) == EXPECTED[(panes, size)]
        shown = _visible_panes(screen)
        assert len(shown) == (panes if grid.mode == "grid" else 1)
        for pane in shown:
            assert pane.region.width >= MIN_WIDTH and pane.region.height >= MIN_HEIGHT
            assert _body_rows(pane) >= 3, f"{pane.id}: {_body_rows(pane)} rows of answer"
        tabs = grid.query_one(".pane-tabs")
        assert tabs.display == (grid.mode == "tabs")
        # The header says how the panes are shown when it is not the plain grid.
        header = screen.query_one(ContextHeader).context
        assert header is not None and header.view == ("tabs (←/→)" if grid.mode == "tabs" else "")


async def test_tabs_switch_with_the_pane_keys(tmp_path):
    app = _app(tmp_path, 6)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        screen = _main(app)
        assert [p.display for p in screen.panes()] == [True] + [False] * 5
        await pilot.press("3")
        await pilot.pause()
        assert [p.display for p in screen.panes()] == [False, False, True, False, False, False]
        assert screen.current_slot == 2
        await pilot.press("right")
        await pilot.pause()
        assert screen.current_slot == 3 and screen.panes()[3].display
        await pilot.press("h", "h", "h", "h")  # left wraps from the first to the last
        await pilot.pause()
        assert screen.current_slot == 5 and _visible_panes(screen) == [screen.panes()[5]]
        text = screen.query_one(PaneGrid).query_one(".pane-tabs")._text.plain
        assert "6 model-f" in text and "1" in text


async def test_zoom_shows_the_focused_pane_alone_and_back(tmp_path):
    app = _app(tmp_path, 4)
    async with app.run_test(size=LARGE) as pilot:
        await _settled(pilot)
        screen = _main(app)
        before = screen.panes()[1].region
        await pilot.press("2", "f")
        await pilot.pause()
        grid = screen.query_one(PaneGrid)
        assert grid.mode == "zoom"
        assert _visible_panes(screen) == [screen.panes()[1]]
        for box in ("#prompts-box", "#prompt-box", "#metrics-box"):
            assert not screen.query_one(box).display
        zoomed = screen.panes()[1].region
        assert zoomed.width > 2 * before.width and zoomed.height > 2 * before.height
        assert screen.query_one(ContextHeader).context.view == "zoomed (f)"
        await pilot.press("3")  # the pane keys switch the zoomed pane
        await pilot.pause()
        assert _visible_panes(screen) == [screen.panes()[2]]
        await pilot.press("f")
        await pilot.pause()
        assert grid.mode == "grid" and len(_visible_panes(screen)) == 4
        assert screen.query_one("#prompts-box").display


async def test_ctrl_b_collapses_the_prompt_list_and_m_the_metrics(tmp_path):
    app = _app(tmp_path, 4)
    async with app.run_test(size=LARGE) as pilot:
        await _settled(pilot)
        screen = _main(app)
        width = screen.query_one(PaneGrid).region.width
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert not screen.query_one("#prompts-box").display
        assert screen.query_one(PaneGrid).region.width > width + 20
        await pilot.press("n")  # prompt keys still work without the list
        await wait_for(pilot, lambda: screen.prompt_index == 1)
        height = screen.query_one(PaneGrid).region.height
        await pilot.press("v")
        await pilot.pause()
        assert not screen.query_one("#metrics-box").display
        assert screen.query_one(PaneGrid).region.height > height
        await pilot.press("ctrl+b", "v")
        await pilot.pause()
        assert screen.query_one("#prompts-box").display and screen.query_one("#metrics-box").display


async def test_re_lays_out_on_resize(tmp_path):
    app = _app(tmp_path, 6)
    async with app.run_test(size=LARGE) as pilot:
        await _settled(pilot)
        screen = _main(app)
        grid = screen.query_one(PaneGrid)
        assert (grid.mode, grid.shape) == ("grid", (3, 2))
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.3)
        assert grid.mode == "tabs" and len(_visible_panes(screen)) == 1
        assert screen.has_class("-short") and screen.has_class("-narrower")
        await pilot.resize_terminal(*LARGE)
        await pilot.pause(0.3)
        assert (grid.mode, grid.shape) == ("grid", (3, 2)) and len(_visible_panes(screen)) == 6


async def test_small_screen_gives_the_panes_the_room(tmp_path):
    """At 80×24 the prompt and the metrics yield: the panes get more than half the rows."""
    app = _app(tmp_path, 2)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        screen = _main(app)
        assert screen.query_one("#metrics-box").region.height <= 5
        assert screen.query_one("#prompt-box").region.height <= 6
        assert screen.query_one(PaneGrid).region.height >= 12


async def test_header_line_names_catalog_progress_blind_and_rater(tmp_path):
    app = _app(tmp_path, 2)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        header = _main(app).query_one(ContextHeader)
        await wait_for(pilot, lambda: header.context is not None)
        plain = header._text.plain
        assert plain.startswith("layout v3") and "0/3 rated" in plain and "blind off" in plain
        assert "rater lay" in plain
        await pilot.press("u")
        await wait_for(pilot, lambda: "1/3 rated" in header._text.plain)
        await pilot.press("z")
        await wait_for(pilot, lambda: "0/3 rated" in header._text.plain)
        await pilot.press("B")
        await wait_for(pilot, lambda: "blind on" in header._text.plain)


async def test_footer_keeps_q_and_help_at_80_columns(tmp_path):
    app = _app(tmp_path, 6)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        footer = _main(app).query_one(KeyFooter)
        keys = [(k.key_display, k.description) for k in footer.query("FooterKey")]
        assert keys[-2:] == [("?", "Keys"), ("q", "Quit")]
        assert ("J/K", "Scroll") in keys and ("f", "Zoom") in keys
        # Everything shown fits: the last key ends inside the 80 columns.
        last = list(footer.query("FooterKey"))[-1]
        assert last.region.right <= SMALL[0]


async def test_j_and_k_scroll_the_focused_answer(tmp_path):
    app = _app(tmp_path, 2)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        screen = _main(app)
        await pilot.press("2")
        body = screen.panes()[1].query_one("VerticalScroll")
        assert body.max_scroll_y > 0
        # A long finished answer opens at its top.
        assert body.scroll_y == 0 and screen.panes()[0].query_one("VerticalScroll").scroll_y == 0
        await pilot.press("J")
        await pilot.pause()
        assert body.scroll_y > 0
        assert screen.panes()[0].query_one("VerticalScroll").scroll_y == 0  # only the focused
        await pilot.press("G")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y
        await pilot.press("K")
        await pilot.pause()
        assert 0 < body.scroll_y < body.max_scroll_y
        await pilot.press("g")
        await pilot.pause()
        assert body.scroll_y == 0


async def test_streamed_answer_follows_the_tail_then_opens_at_its_top(server, build):
    from tests.app.conftest import finished, make_catalog

    catalog = make_catalog(
        server.base_url,
        {"long": "fake/tokens?n=300&delay=0.01"},
        [{"id": "p0", "prompt": "long please"}],
        name="tail",
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: any(isinstance(s, MainScreen) for s in app.screen_stack))
        (pane,) = _main(app).panes()
        view = pane.stream_view
        await wait_for(pilot, lambda: view.scroll_offset.y > 0 or finished(app))
        assert view.scroll_offset.y > 0, "the stream did not follow its tail"
        await wait_for(pilot, lambda: finished(app) and pane.idle and pane.showing_markdown)
        await pilot.pause(0.3)
        body = pane.query_one("VerticalScroll")
        assert body.max_scroll_y > 0 and body.scroll_y == 0


# -- ? ----------------------------------------------------------------------------------------
def _help_rows(screen: HelpScreen) -> dict[str, list[str]]:
    return {s.title: [d for _, d in s.rows] for s in screen.sections}


async def test_help_is_grouped_own_keys_first_and_only_what_applies(tmp_path):
    app = _app(tmp_path, 2)
    async with app.run_test(size=SMALL) as pilot:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        titles = [s.title for s in help_screen.sections]
        assert titles[0] == "Prompts"
        assert titles.index("App") > titles.index("Other screens")
        assert titles.index("App") < min(
            [titles.index(t) for t in titles if t == "Textual" or t.endswith("(focused)")]
        )
        rows = _help_rows(help_screen)
        assert rows["Panes and answers"][:4] == ["Pane left", "Pane right", "Pane 1", "Pane 2"]
        assert "Pane 3" not in rows["Panes and answers"]
        assert "A better" in rows["Rating: two panes"]
        assert {"Scores", "Export", "Changes between the last two runs"} <= set(
            rows["Other screens"]
        )
        assert {"Quit", "Keys"} <= set(rows["App"])
        assert {"Zoom pane", "Show/hide prompt list", "Show/hide metrics"} <= set(rows["View"])
        # It fits 80×24 and scrolls by keyboard.
        box = help_screen.query_one("#help")
        assert box.region.right <= SMALL[0] and box.region.bottom <= SMALL[1]
        scroll = help_screen.query_one("#help-scroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert scroll.scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_help_lists_six_pane_keys_with_six_panes_and_no_pair_votes(tmp_path):
    app = _app(tmp_path, 6, keymap={"view.zoom": "w"})
    async with app.run_test(size=LARGE) as pilot:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        sections = app.screen.sections
        rows = _help_rows(app.screen)
        assert [r for r in rows["Panes and answers"] if r.startswith("Pane ")][2:] == [
            f"Pane {i}" for i in range(1, 7)
        ]
        assert "Rating: two panes" not in rows
        zoom = next(keys for s in sections for keys, d in s.rows if d == "Zoom pane")
        assert zoom == ["w"]  # the keymap's key, not the default
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


# -- snapshots --------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])
@pytest.mark.parametrize("panes", [2, 3, 4, 6])
def test_snapshot_layout(snap_compare, tmp_path, panes, size):
    assert snap_compare(_app(tmp_path, panes), terminal_size=size, run_before=_settled)


@pytest.mark.parametrize(
    ("name", "panes", "size", "keys"),
    [
        pytest.param("tabs-pane-4", 6, SMALL, ["4"], id="tabs-pane-4"),
        pytest.param("zoom", 4, LARGE, ["2", "f"], id="zoom"),
        pytest.param("collapsed-list", 4, SMALL, ["ctrl+b"], id="collapsed-list"),
        pytest.param("help", 6, SMALL, ["question_mark"], id="help"),
    ],
)
def test_snapshot_view(snap_compare, tmp_path, name, panes, size, keys):
    async def run_before(pilot) -> None:
        await _settled(pilot)
        await pilot.press(*keys)
        await pilot.pause(0.5)

    assert snap_compare(_app(tmp_path, panes), terminal_size=size, run_before=run_before)
