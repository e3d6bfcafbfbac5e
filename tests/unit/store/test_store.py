"""store: a real SQLite file — migrations, responses and metrics round-trip, catalog names."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.errors import UserError
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.store import Store, catalog_name
from genaicompare.store.migrations import MIGRATIONS

CATALOG = Catalog.model_validate(
    {
        "name": "cap",
        "version": "2",
        "models": [{"id": "m", "model": "openai/m"}],
        "prompts": [{"id": "p1", "prompt": "Capital of France?", "reference": "Paris"}],
    }
)


def _record(text: str = "Paris") -> ResponseRecord:
    rendered = CATALOG.render(CATALOG.prompt("p1"), CATALOG.model_spec("m"))
    return ResponseRecord(
        prompt_id="p1",
        model_alias="m",
        model="openai/m",
        params={"temperature": 0.0},
        messages=rendered.messages,
        template_hash=rendered.template_hash,
        text=text,
        state=FinishState.complete,
        latency_ms=12.5,
    )


def test_a_new_file_is_migrated_once_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "g.db"
    with Store(path):
        pass
    conn = sqlite3.connect(path)
    applied = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert applied == [m.__name__ for m in MIGRATIONS]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    with Store(path) as again:  # reopening applies nothing twice
        assert len(again.query("SELECT * FROM _migrations")) == len(MIGRATIONS)


def test_a_saved_response_comes_back_the_same(tmp_path: Path) -> None:
    with Store(tmp_path / "g.db") as store:
        cid = store.record_catalog(CATALOG)
        assert store.record_catalog(CATALOG) == cid  # idempotent per content
        run = store.start_run(cid, CATALOG, "headless")
        rec = _record()
        rid = store.save_response(rec, run_id=run, catalog_id=cid)
        assert rec.id == rid and rec.run_id == run and rec.created_at
        got = store.response(rid)
        assert got is not None
        assert (got.text, got.state, got.messages, got.params) == (
            "Paris",
            FinishState.complete,
            rec.messages,
            {"temperature": 0.0},
        )
        assert got.content_hash == rec.content_hash
        assert [r.id for r in store.run_responses(run)] == [rid]
        assert store.cached_response(rec.request_hash).id == rid  # type: ignore[union-attr]
        store.finish_run(run)
        assert store.run(run)["status"] == "finished"  # type: ignore[index]


def test_a_read_answer_carries_its_stored_hashes_until_its_text_changes(tmp_path: Path) -> None:
    """The hashes ratings refer to are the stored ones (read, not recomputed); a record whose
    text is then replaced hashes the new text."""
    with Store(tmp_path / "g.db") as store:
        rid = store.save_response(_record())
        store.conn.execute(
            "UPDATE responses SET content_hash = 'stored-c', request_hash = 'stored-r' WHERE id = ?",
            [rid],
        )
        got = store.response(rid)
        assert got is not None
        assert (got.request_hash, got.content_hash) == ("stored-r", "stored-c")
        other = dataclasses.replace(got, params={"temperature": 1.0})
        assert (
            other.request_hash == dataclasses.replace(_record(), params=other.params).request_hash
        )
        got.text = "Lyon"
        assert got.content_hash == _record("Lyon").content_hash
        assert got.request_hash == _record("Lyon").request_hash


def test_metrics_for_a_response(tmp_path: Path) -> None:
    with Store(tmp_path / "g.db") as store:
        rid = store.save_response(_record())
        store.save_metrics(rid, {"rougeL": (0.5, None, "1"), "judge": (None, {"why": "ok"}, "2")})
        store.save_metrics(rid, {"rougeL": (0.75, None, "1")})  # replaces, never duplicates
        assert store.metrics_for(rid) == {
            "rougeL": {"value": 0.75, "detail": None, "version": "1"},
            "judge": {"value": None, "detail": {"why": "ok"}, "version": "2"},
        }
        copy = store.save_response(_record())
        assert store.metrics_for_content(_record().content_hash, ["rougeL"], "1", copy) == {
            rid: {"rougeL": {"value": 0.75, "detail": None, "version": "1"}}
        }


def test_catalog_name_from_a_file_or_the_database(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: from-file\nprompts:\n  - id: a\n    prompt: hi\n", encoding="utf-8")
    with Store(tmp_path / "g.db") as store:
        assert catalog_name(str(path), store) == "from-file"
        store.record_catalog(CATALOG)
        assert catalog_name("cap", store) == "cap"
        with pytest.raises(UserError, match="no such catalog file"):
            catalog_name("nope", store)


def test_answer_style_rows_follow_the_answers_they_count(tmp_path: Path) -> None:
    """Stored answers get their style row (the first answer with a content hash wins, as
    ``min(id)`` picks it); ``forget`` drops a forgotten answer's row, or rewrites it from the next
    answer that carries the same hash."""
    from genaicompare.core.markdown_style import style_counts
    from genaicompare.store.forget import forget

    text = "## Title\n- **a**\n- b"
    with Store(tmp_path / "g.db") as store:
        first = dataclasses.replace(_record(text), model_alias="first")
        second = dataclasses.replace(_record(text), model_alias="second")
        other = _record("plain")
        store.save_response(first)
        store.save_responses([second, other])
        assert first.content_hash == second.content_hash != other.content_hash

        def rows() -> dict[str, tuple[object, ...]]:
            return {
                r["content_hash"]: (
                    r["model_alias"],
                    r["length"],
                    r["headers"],
                    r["lists"],
                    r["bold"],
                )
                for r in store.query("SELECT * FROM answer_style")
            }

        assert rows() == {
            first.content_hash: ("first", *style_counts(text)),
            other.content_hash: ("m", *style_counts("plain")),
        }
        assert style_counts(text) == (len(text), 1, 2, 1)
        forget(store, model="first")
        assert rows() == {
            first.content_hash: ("second", *style_counts(text)),
            other.content_hash: ("m", *style_counts("plain")),
        }
        forget(store, model="second")
        forget(store, prompt="p1")
        assert rows() == {}
