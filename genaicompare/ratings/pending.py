"""Ratings that could not be written yet: queued, kept on disk, written as soon as they can be.

When another process holds the database's write lock longer than the store waits (≈86 s: a long
transaction elsewhere), a rating is not lost and not falsely confirmed. It is *pending*: kept in
order in memory and in a spool file next to the database (``<db>.pending-ratings.jsonl``, written
atomically and fsynced, so a pending rating survives the app being killed), and retried in the
background; every later rating waits behind it, so the log keeps the order the rater gave. The
next :class:`~genaicompare.ratings.Ratings` on the same database (the next start) replays the spool.
Replaying is idempotent: a rating whose ``uid`` is already stored is not written twice.

:class:`RatingPending` is what the write raises meanwhile: a user-facing message that says the
rating is kept and will be saved; ``on_saved`` callbacks hear when pending ratings reach the disk.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from genaicompare.core.errors import KnownError, StoreBusy
from genaicompare.core.files import dumps_line, write_atomic
from genaicompare.ratings.model import Rating

if TYPE_CHECKING:
    from genaicompare.store import Store

RETRY_SECONDS = 2.0
"""Pause between background attempts (each attempt itself waits for the lock, as every write)."""


class RatingPending(KnownError):
    """The rating is queued, not yet stored: say so (it is not lost, it is not saved yet)."""

    def __init__(self, rating: Rating, waiting: int, cause: str, spool: Path) -> None:
        self.rating = rating
        self.waiting = waiting
        super().__init__(
            f"rating pending ({waiting} waiting): {cause}. It is kept ({spool.name}) and will be "
            "saved as soon as the lock is released"
        )


def spool_path(store: Store) -> Path:
    return store.path.with_name(store.path.name + ".pending-ratings.jsonl")


class PendingRatings:
    """The queue of one :class:`~genaicompare.ratings.Ratings`; thread-safe."""

    def __init__(self, store: Store, write: Callable[[Rating], Rating]) -> None:
        self.store = store
        self._write = write
        self._lock = threading.RLock()
        self._queue: list[Rating] = []
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self.on_saved: list[Callable[[list[Rating]], None]] = []
        """Called (from the retry thread) with the ratings that just reached the disk."""
        self.last_error: str | None = None
        self._loaded = False
        """The spool is read on first use, not at construction: a :class:`Ratings` that only
        reads (exports, the gate, ``genaicompare ratings``) never replays or writes it."""

    # -- state ----------------------------------------------------------------------------------
    @property
    def ratings(self) -> list[Rating]:
        with self._lock:
            self.replay()
            return list(self._queue)

    def __len__(self) -> int:
        with self._lock:
            self.replay()
            return len(self._queue)

    def replay(self) -> None:
        """Queue what an earlier process left in the spool and start writing it (once)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            self._load()

    def _load(self) -> None:
        path = spool_path(self.store)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            self.last_error = f"cannot read pending ratings {path}: {exc}"
            return
        for line in lines:
            if line.strip():
                try:
                    self._queue.append(Rating.from_row(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn line cannot happen (atomic writes); skip garbage anyway
        if self._queue:
            self._start()

    def _save_spool(self) -> None:
        path = spool_path(self.store)
        if self._queue:
            write_atomic(path, (dumps_line(r.to_row()) for r in self._queue))
        else:
            path.unlink(missing_ok=True)

    # -- writing --------------------------------------------------------------------------------
    def write(self, rating: Rating) -> Rating:
        """Write ``rating`` after everything queued before it; queue it if the lock persists."""
        with self._lock:
            self.replay()
            if self._queue:
                try:
                    self.flush()
                except StoreBusy as exc:
                    return self._enqueue(rating, str(exc))
            try:
                return self._write(rating)
            except StoreBusy as exc:
                return self._enqueue(rating, str(exc))

    def _enqueue(self, rating: Rating, cause: str) -> Rating:
        self._queue.append(rating)
        self._save_spool()  # on disk before the user hears "pending"
        self.last_error = cause
        self._start()
        raise RatingPending(rating, len(self._queue), cause, spool_path(self.store))

    def flush(self) -> list[Rating]:
        """Write every queued rating, in order; raises :class:`StoreBusy` if still locked."""
        saved: list[Rating] = []
        with self._lock:
            self.replay()
            try:
                while self._queue:
                    saved.append(self._write(self._queue[0]))
                    self._queue.pop(0)
            finally:
                if saved:
                    self._save_spool()
        if saved:
            self.last_error = None
            for callback in list(self.on_saved):
                callback(saved)
        return saved

    def drop(self, rater: str) -> Rating | None:
        """Remove the rater's newest pending rating (``undo`` before it ever reached the disk)."""
        with self._lock:
            self.replay()
            for i in range(len(self._queue) - 1, -1, -1):
                if self._queue[i].rater == rater:
                    rating = self._queue.pop(i)
                    self._save_spool()
                    return rating
        return None

    # -- the background retry -------------------------------------------------------------------
    def _start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._retry_loop, name="pending-ratings", daemon=True
            )
            self._thread.start()

    def _retry_loop(self) -> None:
        while len(self) and not self._closed.wait(RETRY_SECONDS):
            try:
                self.flush()
            except StoreBusy as exc:
                self.last_error = str(exc)
            except Exception as exc:  # the store closed, the disk went away: the spool keeps them
                self.last_error = f"{type(exc).__name__}: {exc}"
                return

    def close(self) -> None:
        self._closed.set()
