"""Inspect AI eval logs: samples become prompts, outputs answers of the log's model (stored)."""

from __future__ import annotations

from pathlib import Path

from genaicompare.interop.inspect_log import import_log
from genaicompare.interop.writing import store_imported
from genaicompare.store import Store

from ._support import DATA, dump, golden, lines, written

LOG = DATA / "inspect" / "log.json"


def test_import_matches_the_golden_catalog(tmp_path: Path) -> None:
    catalog = written(import_log(LOG).catalog, tmp_path)
    assert dump(catalog) == dump(golden("inspect/log.expected.yaml"))


def test_outputs_are_stored_as_answers_of_the_logs_model(tmp_path: Path) -> None:
    imported = import_log(LOG)
    catalog = written(imported.catalog, tmp_path)
    with Store(tmp_path / "db.sqlite") as store:
        assert store_imported(store, catalog, tmp_path / "out.yaml", imported, None) == (2, 0)
        rows = store.query(
            "SELECT prompt_id, model_alias, model, text, state, messages FROM responses ORDER BY id"
        )
        # Importing again adds nothing.
        assert store_imported(store, catalog, tmp_path / "out.yaml", imported, None) == (0, 0)
        assert store.query("SELECT count(*) AS n FROM responses")[0]["n"] == 2
    assert [
        (r["prompt_id"], r["model_alias"], r["model"], r["text"], r["state"]) for r in rows
    ] == [
        ("fr", "gpt-4o-mini", "openai/gpt-4o-mini", "Paris.", "complete"),
        ("de", "gpt-4o-mini", "openai/gpt-4o-mini", "Berlin", "length"),
    ]
    # The stored request is what genaicompare would send: a live run of the same model on the
    # same prompt hits the same request hash.
    assert '"Capital of Germany?"' in rows[1]["messages"]


def test_later_epochs_and_scores_are_listed() -> None:
    found = lines(import_log(LOG).report)
    assert found == [
        f"{LOG}:24:17: samples.0.scores: not imported: a sample field with no catalog place "
        "(listed once)",
        f"{LOG}:45:16: samples.2.epoch: not imported: epoch 2: only the first epoch is a prompt",
    ]
