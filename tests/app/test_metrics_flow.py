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


async def test_metrics_that_load_no_model_show_while_the_models_load(
    server, build, db_path, monkeypatch
):
    """A finished answer's lexical and operational rows fill at once; only the rows that wait
    for the embedding model say "computing…" (before: every row did, for seconds under load)."""
    import threading

    from genaicompare.session.evaluation import Scorer

    loaded = threading.Event()
    real_score = Scorer.score

    def slow_score(self, record, prompt, others=None):  # the embedding model loading
        loaded.wait(30)
        return real_score(self, record, prompt, others)

    monkeypatch.setattr(Scorer, "score", slow_score)
    asserted = [{**PROMPTS[0], "assert": {"contains": "Paris", "similarity": "> 0.1"}}]
    catalog = make_catalog(
        server.base_url, {"echo": "fake/echo", "tok": "fake/tokens?n=6"}, asserted
    )
    app = build(catalog, metrics=["rougeL", "similarity"])
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: finished(app))
            matrix = app.screen.query_one(MetricsMatrix)

            def first_shown() -> bool:
                # Rows all "computing…" merge into one family row: ``rougeL`` is absent then.
                cells = matrix.rows().get("rougeL", [""])
                return all(v[:1].isdigit() or v.startswith("★") for v in cells)

            await wait_for(pilot, first_shown)
            rows = matrix.rows()
            assert rows["similarity"] == ["computing…", "computing…"], rows
            # A check of the text is final at once; a check of a metric still computing waits.
            assert rows["assert:contains"] == ["✓", "✗"], rows
            assert rows["assert:similarity"] == ["computing…", "computing…"], rows
            assert not loaded.is_set()
            first = rows["rougeL"]
            loaded.set()

            def full_shown() -> bool:
                return "computing…" not in matrix.rows().get("similarity", ["computing…"])

            await wait_for(pilot, full_shown)
            # The stored (full) values are the ones shown first.
            assert matrix.rows()["rougeL"] == first
    finally:
        loaded.set()
    with Store(db_path) as store:
        names = {r["name"] for r in store.query("SELECT name FROM metrics")}
    assert {"rougeL", "similarity"} <= names
