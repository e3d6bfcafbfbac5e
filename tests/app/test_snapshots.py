"""Snapshots of the main screens at 140 × 40 in the genaicompare-dark theme.

Answers come from the database (stored beforehand with fixed timings), so every frame is
deterministic: no network, no clock in the picture.
"""

from __future__ import annotations

from pathlib import Path

from genaicompare.app.app import make_app
from genaicompare.app.screens.main import MainScreen
from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.catalog import Catalog
from genaicompare.config import Settings
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.session.comparison import build_request
from genaicompare.store import Store

SIZE = (140, 40)
ANSWERS = {
    "terse": "Paris.",
    "friendly": "The capital of **France** is Paris.\n\n- a list item\n- `[@click=app.quit]` stays text",
}


def _catalog() -> Catalog:
    return Catalog.model_validate(
        {
            "name": "snapshots",
            "models": [
                {"id": "terse", "model": "openai/fake/echo", "api_base": "http://127.0.0.1:9/v1"},
                {
                    "id": "friendly",
                    "model": "openai/fake/tokens",
                    "api_base": "http://127.0.0.1:9/v1",
                },
            ],
            "prompts": [
                {
                    "id": "capital-france",
                    "prompt": "What is the capital of France?",
                    "reference": "Paris",
                    "tags": ["geography"],
                },
                {"id": "noun", "prompt": "What is a noun?", "tags": ["language"]},
            ],
        }
    )


def _seed(db: Path, catalog: Catalog) -> None:
    with Store(db) as store:
        for prompt in catalog.prompts:
            for i, model in enumerate(catalog.models):
                request, rendered = build_request(catalog, prompt, model)
                store.save_response(
                    ResponseRecord(
                        prompt_id=prompt.id,
                        model_alias=model.id,
                        model=model.model,
                        params=request.params,
                        messages=request.messages,
                        api_base=model.api_base,
                        template_hash=rendered.template_hash,
                        text=ANSWERS[model.id],
                        state=FinishState.complete,
                        finish_reason="stop",
                        ttft_ms=120.0 + i,
                        latency_ms=800.0 + i,
                        tokens_in=12,
                        tokens_out=8 + i,
                        tokens_per_s=40.0,
                        cost_usd=None,
                        created_at="2026-01-01T00:00:00.000+00:00",
                    )
                )


def _app(tmp_path: Path, **settings):
    catalog = _catalog()
    db = tmp_path / "snap.db"
    _seed(db, catalog)
    values = {"rater": "snap", "theme": "genaicompare-dark", "metrics": ["ops"], "prefetch": 0}
    values.update(settings)
    return make_app(Settings(**values), catalog, Store(db), in_process=True, save_config=False)


async def _settled(pilot) -> None:
    app = pilot.app
    for _ in range(400):
        screens = [s for s in app.screen_stack if isinstance(s, MainScreen)]
        if screens:
            screen = screens[0]
            slots = [s for (p, _), s in screen.slots.items() if p == screen.prompt_index]
            panes = list(screen.query(ResponsePane))
            if (
                slots
                and all(s.finished for s in slots)
                and all(p.idle for p in panes)
                and (all(s.metrics for s in slots))
            ):
                await pilot.pause(0.2)
                screen._draw_metrics()  # from the final values, whatever order threads ended
                break
        await pilot.pause(0.05)
    await pilot.pause(0.3)


def test_main_screen(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=_settled)


def test_main_screen_blind(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(_app(tmp_path, blind=True), terminal_size=SIZE, run_before=_settled)


def test_keys_panel(snap_compare, tmp_path: Path) -> None:
    async def open_keys(pilot) -> None:
        await _settled(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.3)

    assert snap_compare(_app(tmp_path), terminal_size=SIZE, run_before=open_keys)


def test_light_and_high_contrast_themes(snap_compare, tmp_path: Path) -> None:
    assert snap_compare(
        _app(tmp_path, theme="genaicompare-high-contrast"),
        terminal_size=SIZE,
        run_before=_settled,
    )
