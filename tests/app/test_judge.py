"""Pilot: the catalog's LLM judge in the TUI — verdicts from the fake server's deterministic judge
over real HTTP, shown in the metrics table and stored in the real SQLite file."""

from __future__ import annotations

from pathlib import Path

from genaicompare.app.widgets.metrics_matrix import MetricsMatrix
from genaicompare.catalog import Catalog
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, wait_for


def judged_catalog(base_url: str, prompts: list[dict[str, str]]) -> Catalog:
    return Catalog.model_validate(
        {
            "name": "apptest-judge",
            "models": [
                {"id": "echo", "model": "openai/fake/echo", "api_base": base_url},
                {"id": "counter", "model": "openai/fake/tokens?n=6", "api_base": base_url},
            ],
            "judge": {"model": "openai/fake/judge", "api_base": base_url, "mode": "both"},
            "prompts": prompts,
        }
    )


def metrics_cells(app) -> dict[str, dict[str, str]]:
    """Column (model) → row name → the cell's text."""
    matrix = app.screen.query_one(MetricsMatrix)
    rows = matrix.rows()
    return {h: {n: cells[i] for n, cells in rows.items()} for i, h in enumerate(matrix.headers())}


def judge_rows(db: Path) -> dict[tuple[str, str], float | None]:
    with Store(db) as store:
        rows = store.query(
            "SELECT r.model_alias, m.name, m.value FROM metrics m "
            "JOIN responses r ON r.id = m.response_id WHERE m.name LIKE 'judge%'"
        )
    return {(r["model_alias"], r["name"]): r["value"] for r in rows}


async def test_metrics_table_shows_judge_score_and_pairwise(server, build, db_path):
    app = build(judged_catalog(server.base_url, [{"id": "c", "prompt": "The capital is Paris"}]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))

        def shown() -> bool:
            cells = metrics_cells(app)
            pairwise = [cells.get(m, {}).get("judge_pairwise", "") for m in ("echo", "counter")]
            return all(p and p[-1].isalpha() and "…" not in p for p in pairwise)

        await wait_for(pilot, shown)
        await pilot.pause(0.6)  # the table redraws at most twice a second
        cells = metrics_cells(app)
        # The judge's rows come right after the assertions: what a judged catalog is read for.
        assert cells["echo"]["judge_pairwise"] == "★ +1 won", cells
        assert cells["echo"]["judge_score"] == "★ 8.5", cells
        assert cells["counter"]["judge_pairwise"] == "−1 lost", cells
        assert cells["counter"]["judge_score"] == "2.5", cells
        assert next(iter(app.screen.query_one(MetricsMatrix).rows())).startswith("judge_")
    stored = judge_rows(db_path)
    assert stored[("echo", "judge_score")] == 8.5
    assert stored[("counter", "judge_pairwise:echo")] == -1.0


async def test_a_malformed_verdict_shows_judge_error(server, build, db_path):
    app = build(judged_catalog(server.base_url, [{"id": "b", "prompt": "say BREAK-JUDGE"}]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await wait_for(
            pilot, lambda: metrics_cells(app).get("echo", {}).get("judge_error") == "error"
        )
    stored = judge_rows(db_path)
    assert ("echo", "judge_score") not in stored and stored[("echo", "judge_error")] is None
    assert stored[("counter", "judge_score")] == 2.5
