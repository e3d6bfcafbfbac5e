"""Pilot: full metrics for every stored answer — prefetched prompts included — in the real SQLite
file and in the metrics table when the user moves to them."""

from __future__ import annotations

from pathlib import Path

from genaicompare.app.widgets.metrics_matrix import MetricsMatrix
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, make_catalog, wait_for

PROMPTS = [
    {"id": f"q{i}", "prompt": f"The capital of France is Paris {i}", "reference": "Paris"}
    for i in range(3)
]


def metric_counts(db: Path) -> dict[tuple[str, str], int]:
    with Store(db) as store:
        rows = store.query(
            "SELECT r.prompt_id, r.model_alias, count(m.name) AS n FROM responses r "
            "LEFT JOIN metrics m ON m.response_id = r.id GROUP BY r.id"
        )
    return {(r["prompt_id"], r["model_alias"]): r["n"] for r in rows}


async def test_prefetched_answers_get_full_metrics(server, build, db_path):
    catalog = make_catalog(
        server.base_url, {"echo": "fake/echo", "tok": "fake/tokens?n=6"}, PROMPTS
    )
    app = build(catalog, prefetch=2)
    async with app.run_test(size=SIZE) as pilot:
        # Only the first prompt is ever shown; the other two stream in the background.
        expected = {(p["id"], m) for p in PROMPTS for m in ("echo", "tok")}

        def all_scored() -> bool:
            counts = metric_counts(db_path)
            return set(counts) == expected and all(n > 0 for n in counts.values())

        await wait_for(pilot, all_scored)
        await pilot.press("n", "n")
        await wait_for(pilot, lambda: finished(app, 2))
        matrix = app.screen.query_one(MetricsMatrix)

        def shown() -> bool:  # the table redraws at most twice a second; a loaded CI is slower
            return "computing…" not in matrix.rows().get("rougeL", ["computing…"])

        await wait_for(pilot, shown)
        rows = matrix.rows()
        # The finished answers' own metrics, not "computing…" (nor nothing).
        assert all(v[0].isdigit() or v.startswith("★") for v in rows["rougeL"]), rows
