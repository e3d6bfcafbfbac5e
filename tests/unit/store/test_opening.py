"""store.opening: what a database must be before the code uses it (a real SQLite file each)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from genaicompare import __version__
from genaicompare.core.errors import StoreError
from genaicompare.store import Store
from genaicompare.store.opening import SCHEMA_VERSION, expected_schema, probe


def _sql(db: Path, *statements: str) -> None:
    conn = sqlite3.connect(db)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def test_a_newer_schema_is_refused_naming_both_versions(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    Store(db).close()
    _sql(db, "INSERT INTO _migrations VALUES ('m099_later', datetime('now'))")
    for opener in (Store, probe):
        with pytest.raises(StoreError) as err:
            opener(db)
        text = str(err.value)
        assert f"database {db} is from a newer genaicompare (schema version 99" in text
        assert (
            f"genaicompare {__version__}, which knows schema versions up to {SCHEMA_VERSION}"
            in (text)
        )


def test_a_missing_column_or_table_is_named(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    Store(db).close()
    _sql(db, "ALTER TABLE ratings RENAME COLUMN rater TO who", "DROP TABLE agg_pairs")
    with pytest.raises(StoreError, match=r"lacks what .*: table agg_pairs, ratings\.rater"):
        Store(db)


def test_extra_tables_and_columns_are_fine(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    Store(db).close()
    _sql(db, "CREATE TABLE mine (x)", "ALTER TABLE responses ADD COLUMN note TEXT")
    Store(db).close()
    probe(db)


def test_expected_schema_is_what_the_migrations_build(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert set(expected_schema()) == tables - {"_migrations"}
    assert "text" in expected_schema()["responses"]
