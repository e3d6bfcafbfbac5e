"""The export chooser (E): each format written by keyboard alone, checked on disk; nothing
qualifying says why and leaves no file; Esc writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from genaicompare.app.screens.export import ExportScreen
from genaicompare.core.paths import data_dir
from tests.app.conftest import SIZE, finished, make_catalog, wait_for
from tests.app.test_flows import ratings

PROMPTS = [{"id": "p0", "prompt": "say hello [@click=app.simulate_key('u')]"}]


def catalog(server, name: str):
    return make_catalog(
        server.base_url, {"echo": "fake/echo", "counter": "fake/tokens?n=12"}, PROMPTS, name=name
    )


def exports() -> list[Path]:
    folder = data_dir() / "exports"
    return sorted(folder.glob("*.jsonl")) if folder.exists() else []


async def choose(pilot, app, position: int) -> ExportScreen:
    """Open the chooser, move to the ``position``-th format by key and press Enter."""
    await pilot.press("E")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
    screen = app.screen
    done = len(screen.results)
    await pilot.press(*["down"] * position, "enter")
    await wait_for(pilot, lambda: len(screen.results) > done)
    return screen


def result_text(screen: ExportScreen) -> str:
    return str(screen.query_one("#export-result").render())


async def test_every_format_is_written_by_keyboard(server, build, db_path):
    app = build(catalog(server, "exp-all"), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        # 👍 on pane 1, 👎 on pane 2, and "A better": every format has something to write.
        await pilot.press("u")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("l", "d")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        await pilot.press("a")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 3)

        written: dict[str, tuple[Path, int, str]] = {}
        for position, fmt in enumerate(["rated", "sft", "dpo", "kto"]):
            screen = await choose(pilot, app, position)
            got_fmt, path, lines = screen.results[-1]
            assert got_fmt == fmt and path is not None
            written[fmt] = (Path(path), lines, result_text(screen))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen))

    assert len(exports()) == 4
    for fmt, (path, lines, shown) in written.items():
        assert path.parent == data_dir() / "exports" and f"-{fmt}-" in path.name
        assert f"Wrote {lines}" in shown and path.name in shown
        records = [json.loads(line) for line in path.read_text().splitlines()]
        if fmt == "rated":
            header, *records = records
            assert header["name"] == "exp-all"
        assert len(records) == lines
        written[fmt] = (path, lines, json.dumps(records))
    by_text = {fmt: json.loads(text) for fmt, (_, _, text) in written.items()}
    echo = "say hello [@click=app.simulate_key('u')]"  # the echo model repeats the prompt
    # rated: both answers with their ratings.
    assert len(by_text["rated"]) == 2
    # sft: the 👍 answer only, as a chat ending with the answer.
    (sft,) = by_text["sft"]
    assert sft["messages"][-1] == {"role": "assistant", "content": echo}
    # dpo: chosen = the 👍/"A better" answer, rejected = the other.
    (dpo,) = by_text["dpo"]
    assert dpo["chosen"][-1]["content"] == echo and dpo["rejected"][-1]["content"] != echo
    # kto: one line per thumb, labelled.
    assert sorted(k["label"] for k in by_text["kto"]) == [False, True]


async def test_nothing_qualifying_says_why_and_writes_nothing(server, build, db_path):
    app = build(catalog(server, "exp-none"), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("u")  # a 👍 alone: SFT and KTO have lines, DPO has no pair
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        screen = await choose(pilot, app, 2)
        assert screen.results[-1] == ("dpo", None, 0)
        shown = result_text(screen)
        assert "Nothing to export as DPO" in shown and "preference" in shown
        assert exports() == []
        # The chooser stays open: another format right away.
        await pilot.press("up", "enter")
        await wait_for(pilot, lambda: len(screen.results) == 2)
        fmt, path, lines = screen.results[-1]
        assert fmt == "sft" and lines == 1 and path is not None
        assert [p.name for p in exports()] == [Path(path).name]


async def test_escape_closes_the_chooser_without_writing(server, build, db_path):
    app = build(catalog(server, "exp-esc"), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.press("down", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportScreen))
        await pilot.pause(0.2)
    assert exports() == []


async def test_a_pair_left_out_is_counted_with_its_reason(server, build, db_path):
    """Two identical answers and an "A better" vote: no DPO line, and the chooser says the pair
    was skipped and why (it said "it takes an A/B preference", though one was cast)."""
    twins = make_catalog(
        server.base_url,
        {"one": "fake/echo", "two": "fake/echo?delay=0.001"},
        PROMPTS,
        name="exp-twins",
    )
    app = build(twins, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("a")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        screen = await choose(pilot, app, 2)
        assert screen.results[-1] == ("dpo", None, 0)
        shown = result_text(screen)
        assert "Nothing to export as DPO: skipped 1: chosen and rejected texts are identical" in (
            " ".join(shown.split())
        ), shown
        assert exports() == []
