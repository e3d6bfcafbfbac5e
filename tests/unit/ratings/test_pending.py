"""Issue 18 §8: a write lock held by another process longer than the store waits.

Before: the rating failed with "database is locked" (nothing falsely confirmed, but the rating
was gone). Now it is *pending*: ``RatingPending`` says so, it is spooled next to the database, it
is retried in the background and written — in order, exactly once — when the lock goes away; a
restart replays the spool. The lock is real (a second process in ``BEGIN IMMEDIATE``); only the
store's waiting is shortened (2 attempts × 0.1 s instead of 8 × 10 s) so the test takes seconds.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from genaicompare.core.errors import StoreBusy
from genaicompare.ratings import RatingPending, Ratings
from genaicompare.ratings import pending as pending_mod
from genaicompare.store import Store, database
from tests.unit.ratings.test_ratings import _responses
from tests.unit.ratings.test_ratings import store as store

HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS _holder (x)")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch, store: Store) -> Store:
    monkeypatch.setattr(database, "WRITE_ATTEMPTS", 2)
    monkeypatch.setattr(pending_mod, "RETRY_SECONDS", 0.1)
    store.conn.execute("PRAGMA busy_timeout = 100")
    return store


@pytest.fixture
def lock(impatient: Store) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(impatient.path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    yield holder
    if holder.poll() is None:
        holder.kill()
        holder.wait(5)


def _release(holder: subprocess.Popen[str]) -> None:
    assert holder.stdin is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    holder.wait(10)


def _stored(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return [(u, v) for u, v in conn.execute("SELECT uid, value FROM ratings ORDER BY id")]
    finally:
        conn.close()


def _until(condition, seconds: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_locked_database_keeps_the_rating_pending_and_saves_it(
    impatient: Store, lock: subprocess.Popen[str]
) -> None:
    a, b, _ = _responses(impatient)
    ratings = Ratings(impatient, rater="ann")
    heard: list[list[str]] = []
    ratings.pending.on_saved.append(lambda saved: heard.append([r.value for r in saved]))
    with pytest.raises(RatingPending) as first:
        ratings.thumb(a, "up")
    assert "rating pending (1 waiting)" in str(first.value)
    assert "locked by another process" in str(first.value)
    # Later ratings queue behind it (the log keeps the rater's order).
    with pytest.raises(RatingPending, match=r"\(2 waiting\)"):
        ratings.thumb(b, "down")
    assert _stored(impatient.path) == []  # nothing falsely confirmed
    spool = pending_mod.spool_path(impatient)
    assert spool.exists() and len(spool.read_text().splitlines()) == 2  # on disk, not only RAM
    _release(lock)
    _until(lambda: len(ratings.pending) == 0)
    assert [v for _, v in _stored(impatient.path)] == ["up", "down"]
    assert heard == [["up", "down"]]
    assert not spool.exists()
    assert ratings.thumb_for(a) is not None and ratings.thumb_for(a).value == "up"  # type: ignore[union-attr]


def test_a_pending_rating_survives_a_restart_and_is_written_once(
    impatient: Store, lock: subprocess.Popen[str]
) -> None:
    a, _, _ = _responses(impatient)
    first = Ratings(impatient, rater="ann")
    with pytest.raises(RatingPending) as pending:
        first.thumb(a, "up")
    first.pending.close()  # the app is gone (its retry thread with it)
    uid = pending.value.rating.uid
    _release(lock)
    again = Ratings(impatient, rater="ann")  # the next start replays the spool
    _until(lambda: len(again.pending) == 0)
    assert _stored(impatient.path) == [(uid, "up")]
    # Replaying a spool whose rating did reach the disk writes nothing twice.
    spool = pending_mod.spool_path(impatient)
    spool.write_text(
        (Path(spool).read_text() if spool.exists() else "")
        + __import__("json").dumps(pending.value.rating.to_row())
        + "\n"
    )
    third = Ratings(impatient, rater="ann")
    _until(lambda: len(third.pending) == 0)
    assert _stored(impatient.path) == [(uid, "up")]


def test_undo_of_a_pending_rating_forgets_it(impatient: Store, lock: subprocess.Popen[str]) -> None:
    a, _, _ = _responses(impatient)
    ratings = Ratings(impatient, rater="ann")
    with pytest.raises(RatingPending):
        ratings.thumb(a, "up")
    undone = ratings.undo()
    assert undone is not None and undone.value == "up"
    assert len(ratings.pending) == 0 and not pending_mod.spool_path(impatient).exists()
    _release(lock)
    assert _stored(impatient.path) == []


def test_other_writes_say_the_database_is_busy(
    impatient: Store, lock: subprocess.Popen[str]
) -> None:
    with pytest.raises(StoreBusy, match="locked by another process"):
        impatient.write(lambda conn: conn.execute("SELECT 1"))


def test_a_reader_never_replays_the_spool_a_writer_does(
    impatient: Store, lock: subprocess.Popen[str]
) -> None:
    """Exports, the gate and ``genaicompare ratings`` read ratings: they must not write the
    spool an app left behind (or start a retry thread); the next rater's Ratings does."""
    import threading

    a, _, _ = _responses(impatient)
    first = Ratings(impatient, rater="ann")
    with pytest.raises(RatingPending) as pending:
        first.thumb(a, "up")
    first.pending.close()
    _release(lock)
    spool = pending_mod.spool_path(impatient)
    assert spool.exists()

    reader = Ratings(impatient, rater="-")
    assert reader.current("r.kind = 'thumb'") == []
    time.sleep(0.3)  # a retry thread would have written it by now (RETRY_SECONDS = 0.1)
    assert _stored(impatient.path) == [] and spool.exists()
    assert not any(t.name == "pending-ratings" and t.is_alive() for t in threading.enumerate())

    writer = Ratings(impatient, rater="ann")
    writer.pending.replay()
    _until(lambda: len(writer.pending) == 0)
    assert _stored(impatient.path) == [(pending.value.rating.uid, "up")]
