"""The :class:`Store`: one SQLite file via sqlite-utils. Knows nothing of the UI.

One :class:`Store` per process. The connection is shared between threads behind a lock (the TUI
writes from workers); WAL lets a headless run and a rating session use one file at once. Every
write is one short ``BEGIN IMMEDIATE`` transaction with a busy timeout, retried with jitter, so
"database is locked" never reaches a user. A write method returns only after COMMIT returned.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from genaicompare import __version__
from genaicompare.core.errors import StoreError, UserError
from genaicompare.core.records import ResponseRecord, content_hash
from genaicompare.store._sqlite_utils import sqlite_utils
from genaicompare.store.migrations import migrate
from genaicompare.store.opening import (
    BUSY_TIMEOUT_MS,
    WRITE_ATTEMPTS,
    check_schema,
    connect,
    explain,
    retry,
    upgrade_notice,
)
from genaicompare.store.style import record_styles, style_row

if TYPE_CHECKING:  # pydantic: the store opens without it (the TUI opens it after first paint)
    from genaicompare.catalog import Catalog

T = TypeVar("T")
EXTEND_EVERY = 1024
"""Answers saved by one :class:`Store` between two checks for columnar blocks that are due."""
__all__ = ["BUSY_TIMEOUT_MS", "WRITE_ATTEMPTS", "Store", "catalog_name", "now_iso"]


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")


class Store:
    def __init__(self, path: str | Path, notice: Callable[[str], None] | None = None) -> None:
        """Open (create, upgrade) the database at ``path``. ``notice`` is told, before an
        upgrade that reads many stored answers, what is happening (a CLI prints it)."""
        self.path = Path(path)
        # Every failure to open — a folder, not a database, damaged, read-only, disk full, from a
        # newer genaicompare — is one StoreError naming the file (store.opening).
        conn = connect(self.path)
        self._lock = threading.RLock()
        self.conn = conn
        self._unextended = 0
        try:
            self.db = sqlite_utils.Database(conn)
            with self._lock:
                if notice is not None and (message := upgrade_notice(conn, self.path)):
                    notice(message)
                self._retry(lambda: migrate(self.db))
            check_schema(conn, self.path)
        except BaseException as exc:
            conn.close()
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.IntegrityError
            ):
                raise StoreError(explain(self.path, exc)) from None
            raise

    # -- plumbing -------------------------------------------------------------------------------
    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _retry(self, fn: Callable[[], T]) -> T:
        return retry(self.path, fn, attempts=WRITE_ATTEMPTS)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; returns after COMMIT returned."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                # SQLite rolls back by itself on SQLITE_FULL/IOERR: a second ROLLBACK would fail
                # and hide the real error ("cannot rollback - no transaction is active").
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            try:
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # a failed COMMIT (disk full) leaves it open
                    self.conn.execute("ROLLBACK")
                raise

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in one immediate transaction, retrying on lock contention."""

        def attempt() -> T:
            with self._tx() as conn:
                return fn(conn)

        return self._retry(attempt)

    def temp(self, sql: str, params: Any = ()) -> None:
        """A statement on this connection's temporary tables (``CREATE TEMP TABLE``, its
        inserts and drops): the main database is read, never written, so no write lock."""
        with self._lock:
            self.conn.execute(sql, params)

    def temp_many(self, sql: str, rows: Any) -> None:
        with self._lock:
            self.conn.executemany(sql, rows)

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]

    # -- catalogs -------------------------------------------------------------------------------
    def record_catalog(self, catalog: Catalog, path: str | Path | None = None) -> int:
        """Store the catalog and its prompts (idempotent per content hash); return its id."""
        body = catalog.model_dump(mode="json", by_alias=True, exclude_none=True)
        chash = content_hash(body)

        def do(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT id FROM catalogs WHERE name=? AND version=? AND content_hash=?",
                [catalog.name, catalog.version, chash],
            ).fetchone()
            if row:
                return int(row[0])
            cur = conn.execute(
                "INSERT INTO catalogs (name, version, content_hash, path, loaded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [catalog.name, catalog.version, chash, str(path) if path else None, now_iso()],
            )
            cid = int(cur.lastrowid or 0)
            conn.executemany(
                "INSERT INTO prompts (catalog_id, prompt_id, position, body, reference, tags, "
                "task, segment) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        cid,
                        p.id,
                        i,
                        json.dumps(_prompt_body(catalog, p), ensure_ascii=False),
                        p.reference,
                        json.dumps(p.tags),
                        p.task.value if p.task else None,
                        p.segment,
                    )
                    for i, p in enumerate(catalog.prompts)
                ],
            )
            return cid

        return self.write(do)

    # -- runs -----------------------------------------------------------------------------------
    def start_run(
        self,
        catalog_id: int | None,
        catalog: Catalog | None,
        mode: str,
        concurrency: int | None = None,
        options: dict[str, Any] | None = None,
    ) -> int:
        litellm_version = _litellm_version()

        def do(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                "INSERT INTO runs (catalog_id, catalog_name, catalog_version, mode, started_at, "
                "genaicompare_version, litellm_version, concurrency, options) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    catalog_id,
                    catalog.name if catalog else None,
                    catalog.version if catalog else None,
                    mode,
                    now_iso(),
                    __version__,
                    litellm_version,
                    concurrency,
                    json.dumps(options or {}, sort_keys=True),
                ],
            )
            return int(cur.lastrowid or 0)

        return self.write(do)

    def finish_run(self, run_id: int, status: str = "finished") -> None:
        self.write(
            lambda c: c.execute(
                "UPDATE runs SET ended_at=?, status=? WHERE id=?", [now_iso(), status, run_id]
            )
        )

    def reopen_run(self, run_id: int) -> None:
        """Mark an interrupted run as running again (``genaicompare run --resume``)."""
        self.write(
            lambda c: c.execute(
                "UPDATE runs SET status='running', ended_at=NULL WHERE id=?", [run_id]
            )
        )

    def run(self, run_id: int) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM runs WHERE id=?", [run_id])
        return rows[0] if rows else None

    # -- responses ------------------------------------------------------------------------------
    def save_response(
        self, record: ResponseRecord, run_id: int | None = None, catalog_id: int | None = None
    ) -> int:
        row = _response_row(record, run_id, catalog_id)
        style = style_row(row["content_hash"], row["model_alias"], row["text"])
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)

        def do(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                f"INSERT INTO responses ({cols}) VALUES ({marks})", list(row.values())
            )
            record_styles(conn, [style])
            return int(cur.lastrowid or 0)

        rid = self.write(do)
        record.id = rid
        record.run_id = row["run_id"]
        record.created_at = row["created_at"]
        self._saved(1)
        return rid

    def save_responses(
        self,
        records: list[ResponseRecord],
        run_id: int | None = None,
        catalog_id: int | None = None,
    ) -> list[int]:
        """Insert many responses in ONE transaction (one fsync): the headless batch writer."""
        rows = []
        for record in records:
            rows.append(_response_row(record, run_id, catalog_id))
        styles = [style_row(r["content_hash"], r["model_alias"], r["text"]) for r in rows]

        def do(conn: sqlite3.Connection) -> list[int]:
            ids = []
            for row in rows:
                cols = ", ".join(row)
                marks = ", ".join("?" for _ in row)
                cur = conn.execute(
                    f"INSERT INTO responses ({cols}) VALUES ({marks})", list(row.values())
                )
                ids.append(int(cur.lastrowid or 0))
            record_styles(conn, styles)
            return ids

        ids = self.write(do) if rows else []
        for record, row, rid in zip(records, rows, ids, strict=True):
            record.id, record.run_id, record.created_at = rid, row["run_id"], row["created_at"]
        self._saved(len(ids))
        return ids

    def _saved(self, answers: int) -> None:
        """Every :data:`EXTEND_EVERY` answers saved, write the columnar blocks that are due
        (:func:`.columns.extend`: usually none, at most a few of 8,192 answers, ≈ 0.1 s each)."""
        self._unextended += answers
        if self._unextended < EXTEND_EVERY:
            return
        self._unextended = 0
        from genaicompare.store import columns  # lazy: numpy, only once answers pile up

        # The answers are saved whatever happens here: what no block covers is read through SQL.
        with self._lock, suppress(sqlite3.Error):
            columns.extend(self.conn)

    def cached_response(self, req_hash: str) -> ResponseRecord | None:
        """The newest complete (or length-capped) response for this exact request, if any."""
        rows = self.query(
            "SELECT * FROM responses WHERE request_hash=? AND state IN ('complete', 'length') "
            "ORDER BY id DESC LIMIT 1",
            [req_hash],
        )
        return ResponseRecord.from_row(rows[0]) if rows else None

    def response(self, response_id: int) -> ResponseRecord | None:
        rows = self.query("SELECT * FROM responses WHERE id=?", [response_id])
        return ResponseRecord.from_row(rows[0]) if rows else None

    def run_responses(self, run_id: int) -> list[ResponseRecord]:
        rows = self.query("SELECT * FROM responses WHERE run_id=? ORDER BY id", [run_id])
        return [ResponseRecord.from_row(r) for r in rows]

    # -- metrics --------------------------------------------------------------------------------
    def save_metrics(
        self, response_id: int, values: dict[str, tuple[float | None, Any, str]]
    ) -> None:
        """``values``: name → (numeric value or None, JSON-able detail or None, metric version)."""
        created = now_iso()
        rows = [
            (
                response_id,
                name,
                value,
                None if detail is None else json.dumps(detail),
                version,
                created,
            )
            for name, (value, detail, version) in values.items()
        ]
        self.write(
            lambda c: c.executemany(
                "INSERT OR REPLACE INTO metrics (response_id, name, value, detail, version, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
        )

    def save_metrics_many(
        self, items: list[tuple[int, dict[str, tuple[float | None, Any, str]]]]
    ) -> None:
        """:meth:`save_metrics` for many responses in one transaction."""
        created = now_iso()
        rows = [
            (rid, name, value, None if detail is None else json.dumps(detail), version, created)
            for rid, values in items
            for name, (value, detail, version) in values.items()
        ]
        if rows:
            self.write(
                lambda c: c.executemany(
                    "INSERT OR REPLACE INTO metrics (response_id, name, value, detail, version, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
            )

    def metrics_for(self, response_id: int) -> dict[str, dict[str, Any]]:
        rows = self.query("SELECT * FROM metrics WHERE response_id=?", [response_id])
        return {r["name"]: _metric(r) for r in rows}

    def metrics_of_run(self, run_id: int) -> dict[int, dict[str, dict[str, Any]]]:
        """:meth:`metrics_for` of every answer of a run, in one query: response id → its
        metrics (answers without metrics are absent)."""
        return self.metrics_in("SELECT id FROM responses WHERE run_id = ?", [run_id])

    def metrics_in(self, ids: str, params: Any = ()) -> dict[int, dict[str, dict[str, Any]]]:
        """:meth:`metrics_for` of every answer whose id the query ``ids`` (``SELECT id …``)
        gives, in one query: response id → its metrics (answers without metrics are absent)."""
        out: dict[int, dict[str, dict[str, Any]]] = {}
        for r in self.query(
            "SELECT m.response_id, m.name, m.value, m.detail, m.version FROM metrics m "
            f"WHERE m.response_id IN ({ids})",
            params,
        ):
            out.setdefault(r["response_id"], {})[r["name"]] = _metric(r)
        return out

    def metrics_for_content(
        self, content_hash: str, names: list[str], version: str, exclude_id: int | None = None
    ) -> dict[int, dict[str, dict[str, Any]]]:
        """The ``names`` metrics at ``version`` of every other stored copy of an answer (same
        ``content_hash``): response id → :meth:`metrics_for`'s shape, newest response first."""
        marks = ", ".join("?" for _ in names)
        rows = self.query(
            "SELECT m.response_id, m.name, m.value, m.detail, m.version FROM metrics m "
            "JOIN responses r ON r.id = m.response_id "
            f"WHERE r.content_hash = ? AND r.id IS NOT ? AND m.version = ? AND m.name IN ({marks}) "
            "ORDER BY m.response_id DESC",
            [content_hash, exclude_id, version, *names],
        )
        out: dict[int, dict[str, dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(r["response_id"], {})[r["name"]] = _metric(r)
        return out


def _response_row(
    record: ResponseRecord, run_id: int | None, catalog_id: int | None
) -> dict[str, Any]:
    """The ``responses`` row of a record about to be stored."""
    row = record.to_row()
    row["run_id"] = run_id if run_id is not None else record.run_id
    row["catalog_id"] = catalog_id
    row["created_at"] = record.created_at or now_iso()
    return row


def _metric(row: dict[str, Any]) -> dict[str, Any]:
    """One stored metric as :meth:`Store.metrics_for` gives it: value, parsed detail, version."""
    return {
        "value": row["value"],
        "detail": json.loads(row["detail"]) if row["detail"] else None,
        "version": row["version"],
    }


def catalog_name(arg: str, store: Store) -> str:
    """A catalog file's name, or a name already in the database."""
    path = Path(arg)
    if path.is_file():
        from genaicompare.catalog import load_catalog  # lazy: pydantic, only for a file argument

        return load_catalog(path).name
    if store.query("SELECT 1 FROM catalogs WHERE name = ? LIMIT 1", [arg]):
        return arg
    if store.query("SELECT 1 FROM ratings WHERE catalog_name = ? LIMIT 1", [arg]):
        return arg
    raise UserError(f"{arg}: no such catalog file, and no catalog of that name in {store.path}")


def _litellm_version() -> str | None:
    """litellm's version from package metadata — without importing litellm."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litellm")
    except PackageNotFoundError:
        return None


def _prompt_body(catalog: Catalog, prompt: Any) -> dict[str, Any]:
    """A prompt as stored: its catalog fields, and a template prompt's template text under
    ``template_text`` (the catalog's ``templates`` are not stored elsewhere), so a rated export
    can write the prompt as the template it was, not only as its rendered messages."""
    body: dict[str, Any] = prompt.model_dump(mode="json", by_alias=True, exclude_none=True)
    if prompt.template is not None and prompt.template in catalog.templates:
        body["template_text"] = catalog.templates[prompt.template]
    return body
