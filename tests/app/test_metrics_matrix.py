"""Pilot: the metrics matrix — metrics as rows grouped by family, models as columns, the best
value marked, a reason for every absent value, values formatted per metric, the picker (saved to
the config file), blind headers — and the numbers equal to those stored in SQLite."""

from __future__ import annotations

from pathlib import Path

from genaicompare.app.app import make_app
from genaicompare.app.widgets.metrics_matrix import MetricsMatrix, column
from genaicompare.catalog import Prompt
from genaicompare.config import Settings, load_settings
from genaicompare.core.paths import config_path
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.metrics import display
from genaicompare.session.slots import Slot
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, make_catalog, wait_for

ASSERTED = {
    "id": "capital",
    "prompt": "The capital of France is Paris",
    "reference": "Paris is the capital of France",
    "assert": {"rougeL": ">= 0.3", "contains": "Paris", "latency_ms": "< 60000"},
}
NO_REFERENCE = {"id": "open", "prompt": "say something"}
MODELS = {"echo": "fake/echo", "count": "fake/tokens?n=6", "broken": "fault/400"}


def matrix(app) -> MetricsMatrix:
    return app.screen.query_one(MetricsMatrix)


def stored(db: Path, prompt_id: str) -> dict[tuple[str, str], float | None]:
    with Store(db) as store:
        rows = store.query(
            "SELECT r.model_alias, m.name, m.value FROM metrics m "
            "JOIN responses r ON r.id = m.response_id WHERE r.prompt_id = ?",
            [prompt_id],
        )
    return {(r["model_alias"], r["name"]): r["value"] for r in rows}


async def settled(pilot, app, prompt_index: int = 0) -> dict[str, list[str]]:
    await wait_for(pilot, lambda: finished(app, prompt_index))

    def drawn() -> bool:
        rows = matrix(app).rows()
        busy = ("computing…", "streaming", "waiting")
        return "state" in rows and not any(v in busy for cells in rows.values() for v in cells)

    await wait_for(pilot, drawn)
    return matrix(app).rows()


async def test_rows_by_family_best_marked_values_as_stored(server, build, db_path):
    app = build(make_catalog(server.base_url, MODELS, [ASSERTED]), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        rows = await settled(pilot, app)
        assert matrix(app).headers() == ["echo", "count", "broken"]
        families = [display.family(n.removeprefix("family:")) for n in rows]
        firsts = list(dict.fromkeys(families))
        assert firsts == [f for f in display.FAMILY_ORDER if f in firsts], firsts
        assert firsts[0] == "assertions" and firsts[-1] == "operational"
        # Assertions: ✓/✗ per answer; a failed answer fails every one; the reason on focus.
        assert rows["assert:contains"] == ["✓", "✗", "✗"]
        assert rows["assert:rougeL"][0].startswith("✓ ") and rows["assert:rougeL"][1] == "✗ 0.00"
        # Direction-aware best: the echo's ROUGE-L is higher; a failed answer never competes.
        assert rows["rougeL"][0].startswith("★ ") and not rows["rougeL"][1].startswith("★")
        assert rows["rougeL"][2] == "error"
        assert not rows["latency_ms"][2].startswith("★")
        assert rows["state"] == ["complete", "complete", "error"]
        assert rows["cost_usd"] == ["unknown", "unknown", "unknown"]
        assert rows["tokens_out"][1] == "6"  # an integer, not 6.000
        # Not asked for (the TUI computes lexical metrics here): no row at all.
        assert "similarity" not in rows and "toxicity" not in rows and "judge_score" not in rows
        values = stored(db_path, "capital")
        for name in ("rougeL", "token_f1", "bleu", "chrf", "meteor"):
            for i, alias in enumerate(("echo", "count")):
                shown = rows[name][i].removeprefix("★ ")
                assert shown == display.format_value(name, values[(alias, name)]), (name, alias)

        # The reason of an assertion shows under the matrix when its cell has the focus.
        table = matrix(app).table
        table.focus()
        await pilot.pause()
        names = list(rows)
        table.move_cursor(row=names.index("assert:rougeL"), column=3)
        await pilot.pause()
        why = str(app.screen.query_one("#matrix-why").render())
        assert why.startswith("FAIL: rougeL = 0 not >= 0.3"), why


async def test_absent_metrics_say_why(server, build):
    app = build(make_catalog(server.base_url, MODELS, [NO_REFERENCE]), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        rows = await settled(pilot, app)
        # Every reference metric lacks a reference: one row for the family, saying so.
        assert rows["family:reference"] == ["no reference", "no reference", "error"]
        assert not any(v in ("", "0", "0.00") for cells in rows.values() for v in cells), rows


async def test_a_finished_answer_never_shows_its_stale_live_value():
    prompt = Prompt.model_validate({"id": "p", "prompt": "x", "reference": "y"})
    slot = Slot(0, "m", lambda s: None)
    slot.metrics = {"bleu": 10.682}  # live, while streaming
    slot.state = "streaming"
    live = column("m", slot, 3, prompt)
    assert live.live and live.values["bleu"] == 10.682
    record = ResponseRecord(
        prompt_id="p",
        model_alias="m",
        model="openai/x",
        params={},
        messages=[],
        text="y",
        state=FinishState.complete,
    )
    record.id = 1
    slot.record, slot.state, slot.full_metrics = record, "complete", True
    done = column("m", slot, 3, prompt)
    assert "bleu" not in done.values
    assert display.absent_reason("bleu", done.answer) == "computing…"
    slot.metrics = {"bleu": 5.522}  # its full metrics
    assert column("m", slot, 3, prompt).values["bleu"] == 5.522


async def test_the_picker_hides_and_reorders_rows_and_saves_them(server, db_path):
    catalog = make_catalog(
        server.base_url, {"echo": "fake/echo", "n": "fake/tokens?n=4"}, [ASSERTED]
    )
    store = Store(db_path)
    app = make_app(
        Settings(rater="t", metrics=["lexical"], prefetch=0),
        catalog,
        store,
        in_process=True,
        save_config=True,
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            rows = await settled(pilot, app)
            assert "assert:contains" in rows
            await pilot.press("M")
            await pilot.pause()
            picker = app.screen
            assert picker.order[0] == "assertions"
            await pilot.press("space")  # hide the assertions
            index = picker.order.index("latency_ms")
            picker.rows.highlighted = index
            await pilot.press(*["K"] * index)  # latency to the top
            await pilot.press("enter")
            await pilot.pause(0.6)
            rows = matrix(app).rows()
            assert not any(n.startswith("assert:") for n in rows)
            assert next(iter(rows)) == "latency_ms"
    finally:
        store.close()
    saved = load_settings(config_path())
    assert saved.matrix is not None and saved.matrix[0] == "latency_ms"
    assert "assertions" not in saved.matrix and "rougeL" in saved.matrix
    assert "matrix = [" in config_path().read_text(encoding="utf-8")


async def test_blind_headers_are_letters_and_there_is_no_cost_row(server, build):
    models = {"alpha": "fake/tokens?n=5&prefix=a", "bravo": "fake/tokens?n=5&prefix=b"}
    app = build(make_catalog(server.base_url, models, [ASSERTED]), blind=True, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        rows = await settled(pilot, app)
        assert matrix(app).headers() == ["A", "B"]
        assert "cost_usd" not in rows  # a price, or "free", would tell the models apart
        text = repr(rows)
        assert "alpha" not in text and "bravo" not in text and "stored" not in text


async def test_toasts_do_not_cover_the_matrix(server, build):
    app = build(make_catalog(server.base_url, MODELS, [ASSERTED]), prefetch=0)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settled(pilot, app)
        app.notify("a warning that used to sit on the metrics")
        await pilot.pause(0.3)
        toast = app.screen.query_one("Toast")
        box = matrix(app).region
        assert toast.region.bottom <= box.y, (toast.region, box)
        assert not toast.region.overlaps(box)


SIX = {f"m{i}": f"fake/tokens?n={4 + i}&prefix={chr(97 + i)}" for i in range(6)}


async def test_six_models_fit_120_columns_and_reasons_do_not_widen_columns(server, build):
    """With six models the family column goes before any model does, and a reason ("no
    checkpoint", "computing…") or a state ("cut at max_tokens · stored") is cut rather than
    pushing models off the screen. The second run reopens the stored answers."""
    prompt = {**ASSERTED, "assert": {"contains": "Paris"}}
    narrow = build(make_catalog(server.base_url, SIX, [prompt]), prefetch=0, metrics=None)
    async with narrow.run_test(size=(80, 24)) as pilot:
        await settled(pilot, narrow)
        labels = [c.label.plain for c in matrix(narrow).table.ordered_columns]
        assert labels[0] == "metric", labels  # no family column: it left room for models
    app = build(make_catalog(server.base_url, SIX, [prompt]), prefetch=0, metrics=None)
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await settled(pilot, app)
        assert rows["state"] == ["stored"] * 6, rows["state"]
        m = matrix(app)
        table = m.table
        shown = sum(c.get_render_width(table) for c in table.ordered_columns)
        assert shown <= m.size.width, (shown, m.size.width)
        assert [c.label.plain for c in table.ordered_columns][-6:] == list(SIX)
        # Every value is whole (the table keeps the texts it was given).
        for name, cells in rows.items():
            for i, text in enumerate(cells):
                if text[:1].isdigit() or text[:1] == "★":
                    assert table.ordered_columns[-6 + i].width >= len(text), (name, text)
        # similarity_to:B of A is similarity_to:A of B: no pair says "not computed".
        for j, other in enumerate(SIX):
            cells = rows.get(f"similarity_to:{other}")
            if cells is None:  # no embedding model installed
                continue
            assert "not computed" not in cells, (other, cells)
            for i, mine in enumerate(SIX):
                if i != j:
                    assert cells[i] == rows[f"similarity_to:{mine}"][j]
