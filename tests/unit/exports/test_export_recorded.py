"""An export is recorded or not written (issue #18 §3): when the ``exports`` table cannot take the
record (disk full, read-only database — here a trigger that fails the insert), no file is left,
an older file of that name is kept as it was, and the user gets one clear error. A rename that
fails after the record takes the record back."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.errors import KnownError
from genaicompare.core.paths import data_dir
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import ExportError, export, export_file
from genaicompare.ratings import Ratings
from genaicompare.store import Store, forget


@pytest.fixture
def db(tmp_path: Path) -> Store:
    store = Store(tmp_path / "x.db")
    cat = Catalog.model_validate({"name": "cat", "prompts": [{"id": "p1", "prompt": "2+2?"}]})
    cid = store.record_catalog(cat)
    rec = ResponseRecord(
        prompt_id="p1",
        model_alias="a",
        model="openai/a",
        params={},
        messages=[{"role": "user", "content": "2+2?"}],
        text="4",
        state=FinishState.complete,
    )
    store.save_response(rec, catalog_id=cid)
    Ratings(store, rater="ann").thumb(rec, "up")
    yield store
    store.close()


def _fail_exports_inserts(store: Store) -> None:
    # Another connection, as the failing disk is no business of the code under test.
    conn = sqlite3.connect(store.path)
    conn.execute(
        "CREATE TRIGGER full BEFORE INSERT ON exports "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    conn.commit()
    conn.close()


def test_a_failed_record_leaves_no_file_and_says_so(db: Store, tmp_path: Path) -> None:
    _fail_exports_inserts(db)
    out = tmp_path / "out" / "rated.jsonl"
    out.parent.mkdir()
    with pytest.raises(ExportError) as err:
        export(db, "cat", "rated", out)
    message = str(err.value)
    assert isinstance(err.value, KnownError)  # printed as one line, exit 2; shown by the TUI
    assert f"{out.resolve()}: not written" in message
    assert "could not be recorded" in message and "disk is full" in message
    assert list(out.parent.iterdir()) == []  # no file, no temp file
    assert db.query("SELECT count(*) AS n FROM exports")[0]["n"] == 0


def test_a_failed_record_keeps_an_older_file_of_that_name(db: Store, tmp_path: Path) -> None:
    out = tmp_path / "kto.jsonl"
    first = export(db, "cat", "kto", out)
    before = out.read_bytes()
    _fail_exports_inserts(db)
    with pytest.raises(ExportError):
        export(db, "cat", "kto", out)
    assert out.read_bytes() == before
    assert [r["id"] for r in db.query("SELECT id FROM exports")] == [first.export_id]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "kto.jsonl",
        "x.db",
        "x.db-shm",
        "x.db-wal",
    ]


def test_the_tui_export_file_is_recorded_or_not_written(db: Store) -> None:
    path, lines, skipped = export_file(db, "cat", "rated")
    assert path is not None and lines == 1 and skipped == {}
    # forget can list it: every written file is in the exports table.
    assert [r["path"] for r in db.query("SELECT path FROM exports")] == [path]
    _fail_exports_inserts(db)
    with pytest.raises(ExportError, match="not written"):
        export_file(db, "cat", "rated")
    assert [str(p) for p in (data_dir() / "exports").iterdir()] == [path]
    # forget names every file that holds the text: the one written, no orphan it cannot list.
    assert [e["path"] for e in forget(db, prompt="p1").exports] == [path]


def test_a_failed_rename_takes_the_record_back(
    db: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "sft.jsonl"
    with pytest.raises(OSError, match="No space"):
        export(db, "cat", "sft", out)
    assert not out.exists()
    assert db.query("SELECT count(*) AS n FROM exports")[0]["n"] == 0
