"""Opening a database file: every way it can fail is one :class:`StoreError` that names the file
and says what to do — never an internal error, never a ``KeyError`` later on.

Checked on open: the path is a file (not a folder) whose folder can be written (WAL puts
``-wal`` and ``-shm`` files next to it); it is an SQLite database and not damaged; it is not from a
newer genaicompare (a ``_migrations`` row this code does not know); and, once migrated, it has
every table and column the code's migrations create (a renamed or dropped column is named).

Plain :mod:`sqlite3` only — no sqlite-utils — so the TUI can check its ``--db`` before the screen
opens (:func:`probe`) without putting sqlite-utils on the first-paint path.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from genaicompare import __version__
from genaicompare.core.errors import StoreBusy, StoreError
from genaicompare.store.migrations import MIGRATIONS

T = TypeVar("T")
BUSY_TIMEOUT_MS = 10_000
WRITE_ATTEMPTS = 8

_OTHER_DB = "pass another file with --db (or GENAICOMPARE_DB)"


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` with genaicompare's settings (WAL, FULL sync, foreign keys, busy timeout) and
    refuse a database from a newer genaicompare. Raises :class:`StoreError`."""
    if path.is_dir():
        raise StoreError(
            f"database {path} is a folder; --db takes a database file, e.g. "
            f"{path / 'genaicompare.db'}"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the folder for database {path} ({exc.strerror or exc}): {_OTHER_DB}"
        ) from None
    try:
        conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000
        )
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(explain(path, exc)) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The first statement that reads (and, for a new file, writes) the file: a folder that
        # cannot be written, a file that is not a database and a full disk all surface here.
        retry(path, lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
        # FULL: an acknowledged rating survives power loss, not just a killed process.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # reads the whole schema
        check_version(conn, path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise StoreError(explain(path, exc)) from None
        raise
    return conn


def probe(path: Path) -> str | None:
    """Everything :func:`connect` checks, plus the schema when the file is fully migrated; the file
    is closed again. For the TUI: a bad ``--db`` fails before the screen opens. Returns
    :func:`upgrade_notice`'s message when opening it will take a while."""
    conn = connect(path)
    try:
        if not _pending(conn):
            check_schema(conn, path)
            return None
        return upgrade_notice(conn, path)
    except sqlite3.Error as exc:
        raise StoreError(explain(path, exc)) from None
    finally:
        conn.close()


READS_ANSWERS = frozenset({"m011_answer_style"})
"""The migrations that read every stored answer; the others take milliseconds."""
UPGRADE_NOTICE_ANSWERS = 50_000
"""Stored answers from which an upgrade is announced: the slowest migration reads every answer
(m011: ≈15 s per million), so below this it takes under a second."""


def upgrade_notice(conn: sqlite3.Connection, path: Path) -> str | None:
    """What to tell the user before migrating a database that holds many answers (the upgrade
    runs once, in one transaction per migration), or None."""
    applied = _applied(conn)
    pending = [n for n in KNOWN if n not in set(applied or ()) and n in READS_ANSWERS]
    if applied is None or not pending:
        return None  # a new database, or nothing that takes long
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'responses'"
    ).fetchone():
        return None
    # max(id) first: it costs nothing, and a count is only worth its scan near the threshold.
    (top,) = conn.execute("SELECT coalesce(max(id), 0) FROM responses").fetchone()
    if top < UPGRADE_NOTICE_ANSWERS:
        return None
    (answers,) = conn.execute("SELECT count(*) FROM responses").fetchone()
    if answers < UPGRADE_NOTICE_ANSWERS:
        return None
    return (
        f"upgrading database {path} for this version of genaicompare "
        f"({', '.join(pending)}; once, reading its {answers:,} stored answers)…"
    )


def retry(path: Path, fn: Callable[[], T], attempts: int = WRITE_ATTEMPTS) -> T:
    """``fn()``, retried with jitter while the database is locked or busy. Still locked after the
    last attempt: :class:`StoreBusy` (nothing was written; callers may queue and retry); any other
    SQLite operational error: a :class:`StoreError` naming ``path``."""
    started = time.monotonic()
    for attempt in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            busy = "locked" in msg or "busy" in msg
            if busy and attempt == attempts - 1:
                raise StoreBusy(
                    f"database {path} is locked by another process "
                    f"(waited {time.monotonic() - started:.0f} s); nothing was written"
                ) from None
            if not busy:
                raise StoreError(explain(path, exc)) from None
            time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
    raise AssertionError("unreachable")


def explain(path: Path, exc: BaseException) -> str:
    """A user's message for an error opening or reading ``path``: what is wrong, what to do."""
    msg = str(exc) or type(exc).__name__
    low = msg.lower()
    if isinstance(exc, OSError):
        msg = exc.strerror or msg
    if "not a database" in low or "file is encrypted" in low:
        return (
            f"{path} is not a genaicompare database (not an SQLite file): {_OTHER_DB}, or move "
            "the file away to start a new database there"
        )
    if "malformed" in low or "corrupt" in low:
        return (
            f"database {path} is damaged ({msg}): restore it from a backup or recover what it "
            f"holds with `sqlite3 {path} .recover`; or {_OTHER_DB}"
        )
    if "readonly" in low or "read-only" in low or "unable to open" in low:
        return (
            f"cannot write database {path} ({msg}): the file and its folder must be writable "
            f"(SQLite keeps {path.name}-wal and {path.name}-shm next to it); or {_OTHER_DB}"
        )
    if "full" in low or "disk i/o" in low or "no space" in low:
        return (
            f"cannot write database {path} ({msg}): free some disk space (or check the disk) "
            f"and retry; or {_OTHER_DB}"
        )
    return f"database {path}: {msg}"


# -- schema version -------------------------------------------------------------------------------


def _number(name: str) -> int | None:
    match = re.match(r"m(\d+)_", name)
    return int(match.group(1)) if match else None


KNOWN = [fn.__name__ for fn in MIGRATIONS]
SCHEMA_VERSION = max(n for n in map(_number, KNOWN) if n is not None)
"""The newest schema this code knows (m005 → 5)."""


def _applied(conn: sqlite3.Connection) -> list[str] | None:
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone():
        return None
    return [str(r[0]) for r in conn.execute("SELECT name FROM _migrations")]


def _pending(conn: sqlite3.Connection) -> bool:
    applied = _applied(conn)
    return applied is None or bool(set(KNOWN) - set(applied))


def check_version(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse a database that a newer genaicompare has migrated: its ``_migrations`` holds a
    name this code does not know."""
    applied = _applied(conn)
    unknown = sorted(set(applied or ()) - set(KNOWN))
    if not unknown:
        return
    numbers = [n for n in map(_number, unknown) if n is not None]
    theirs = f"schema version {max(numbers)}" if numbers else "a newer schema"
    writer = _last_writer(conn)
    by = f", last written by genaicompare {writer}" if writer else ""
    raise StoreError(
        f"database {path} is from a newer genaicompare ({theirs}{by}: {', '.join(unknown)}); "
        f"this is genaicompare {__version__}, which knows schema versions up to "
        f"{SCHEMA_VERSION}: upgrade genaicompare to use it, or {_OTHER_DB}"
    )


def _last_writer(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute(
            "SELECT genaicompare_version FROM runs WHERE genaicompare_version IS NOT NULL "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row and row[0] != __version__ else None


# -- schema shape ---------------------------------------------------------------------------------


class _Plain:
    """What the migrations use of a sqlite-utils ``Database``: ``execute`` and ``conn``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


@lru_cache(maxsize=1)
def expected_schema() -> dict[str, frozenset[str]]:
    """Table → columns, as this code's migrations build them (on an in-memory database)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        db: Any = _Plain(conn)
        for fn in MIGRATIONS:
            try:
                fn(db)
            except AttributeError:  # a migration that needs more of sqlite-utils than _Plain
                from genaicompare.store._sqlite_utils import sqlite_utils  # lazy: rare

                db = sqlite_utils.Database(conn)
                fn(db)
        return _schema(conn)
    finally:
        conn.close()


def _schema(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    tables = [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        t: frozenset(str(r[1]) for r in conn.execute(f'PRAGMA table_info("{t}")')) for t in tables
    }


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Every table and column the code needs is there (extra ones are fine)."""
    have = _schema(conn)
    missing: list[str] = []
    for table, columns in sorted(expected_schema().items()):
        if table not in have:
            missing.append(f"table {table}")
        else:
            missing += [f"{table}.{c}" for c in sorted(columns - have[table])]
    if missing:
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise StoreError(
            f"database {path} lacks what genaicompare {__version__} needs: {shown} (was it "
            f"altered by hand, or by another genaicompare version?): {_OTHER_DB}"
        )
