"""Human judgements: thumbs on one answer, preferences between two answers to the same prompt.

The ``ratings`` table is append-only. What a rater currently thinks of an *item* (one answer's
content hash for a thumb; the unordered pair of content hashes for a preference) in a catalog's
prompt is their newest rating of it there that has not been retracted; ``undo`` appends a
retraction rather than deleting. A rating belongs to the catalog, prompt, answer and rater it was
given in: rating the same output in another catalog adds a rating there and never takes this one
away. Ratings are keyed on the answer's content hash (model + params + messages + output text), so
the same output reappearing from a re-run or the cache shows its rating and counts without
re-rating.

Every method that records something returns only after the write transaction has committed: a
:class:`Rating` handed to the UI is on disk.

* :mod:`.model` — the thumb/preference vocabulary, :class:`Rating`, :class:`RatingContext`
* :mod:`.aggregates` — ``ratings_current`` and the ``agg_*`` totals kept in step with the log
* :mod:`.blind` — the blind shuffle of the panes
* :mod:`.transfer` — ratings in and out of JSON lines
"""

from __future__ import annotations

import getpass
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.ratings.aggregates import rebuild_current, refresh_current
from genaicompare.ratings.blind import blind_order
from genaicompare.ratings.model import (
    _COLUMNS,
    _INSERT,
    BEST,
    BEST_ITEM,
    CORRECTION,
    PREFERENCES,
    RUBRIC,
    STRENGTHS,
    THUMBS,
    Preference,
    Rating,
    RatingContext,
    RatingError,
    Thumb,
    correction_item,
    pair_item,
    rubric_item,
    thumb_item,
)
from genaicompare.ratings.pending import PendingRatings, RatingPending
from genaicompare.ratings.transfer import ImportResult, export_lines, import_file

if TYPE_CHECKING:
    from genaicompare.store import Store

__all__ = [
    "BEST",
    "CORRECTION",
    "PREFERENCES",
    "RATER_ENV",
    "RUBRIC",
    "STRENGTHS",
    "THUMBS",
    "UNRATABLE",
    "ImportResult",
    "Preference",
    "Rating",
    "RatingContext",
    "RatingError",
    "RatingPending",
    "Ratings",
    "Thumb",
    "blind_order",
    "pair_item",
    "rebuild_current",
    "refresh_current",
    "resolve_rater",
    "thumb_item",
]

RATER_ENV = "GENAICOMPARE_RATER"


def resolve_rater(explicit: str | None = None) -> str:
    """``--rater`` / config value, else ``$GENAICOMPARE_RATER``, else config.toml, else the OS user."""
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ.get(RATER_ENV, "").strip()
    if env:
        return env
    configured = _configured_rater()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        # No passwd entry (some containers): still attribute the rating to someone stable.
        return "unknown"


def _configured_rater() -> str | None:
    import tomllib

    from genaicompare.core.paths import config_path

    try:
        with open(config_path(), "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return None
    value = data.get("rater")
    return value.strip() if isinstance(value, str) and value.strip() else None


UNRATABLE = (FinishState.error, FinishState.timeout)
"""Answers that ended in these states are refused a rating: there is no answer to judge, and a
vote on a failure would count in the scores as if the model had answered."""


def _ratable(rec: ResponseRecord) -> ResponseRecord:
    if rec.state in UNRATABLE:
        why = f": {rec.error_type}" if rec.state is FinishState.error and rec.error_type else ""
        raise RatingError(
            f"{rec.model_alias}'s answer to {rec.prompt_id} ended in {rec.state.value}{why}; "
            "only answers can be rated (retry it first)"
        )
    return rec


class Ratings:
    """Record and read ratings through a :class:`~genaicompare.store.Store`."""

    def __init__(self, store: Store, rater: str | None = None) -> None:
        self.store = store
        self.default_rater = resolve_rater(rater)
        # Ratings another process's long lock kept out: queued, spooled, retried (.pending).
        self.pending = PendingRatings(store, self._write_now)

    # -- recording ------------------------------------------------------------------------------
    def thumb(
        self,
        response: ResponseRecord | int,
        value: Thumb,
        rater: str | None = None,
        comment: str | None = None,
        blind: bool = False,
        pane_order: list[str] | None = None,
        shuffle_seed: int | None = None,
        time_to_rate_ms: float | None = None,
        catalog_name: str | None = None,
    ) -> Rating:
        """Thumb up/down on one answer; supersedes this rater's earlier thumb on the same output."""
        if value not in THUMBS:
            raise RatingError(f"thumb must be one of {', '.join(THUMBS)}, not {value!r}")
        rec = _ratable(self._record(response))
        ctx = RatingContext(rater, catalog_name, blind, pane_order, shuffle_seed, time_to_rate_ms)
        return self._insert(
            self._new_rating("thumb", rec, value, thumb_item(rec.content_hash), ctx, comment)
        )

    def prefer(
        self,
        response_a: ResponseRecord | int,
        response_b: ResponseRecord | int,
        value: Preference,
        rater: str | None = None,
        comment: str | None = None,
        blind: bool = False,
        pane_order: list[str] | None = None,
        shuffle_seed: int | None = None,
        time_to_rate_ms: float | None = None,
        catalog_name: str | None = None,
        strength: int = 1,
    ) -> Rating:
        """A/B preference between two answers to the same prompt (``a``, ``b``, ``tie``,
        ``both_bad``); ``strength`` 2 makes a win strong (A≫B), stored with the vote."""
        if value not in PREFERENCES:
            raise RatingError(f"preference must be one of {', '.join(PREFERENCES)}, not {value!r}")
        if strength not in STRENGTHS:
            raise RatingError(f"strength must be 1 or 2, not {strength!r}")
        if strength == 2 and value not in ("a", "b"):
            raise RatingError("only a win can be strong (A≫B or B≫A), not a tie or both bad")
        a, b = _ratable(self._record(response_a)), _ratable(self._record(response_b))
        if a.prompt_id != b.prompt_id:
            raise RatingError(
                f"a preference compares answers to one prompt, not {a.prompt_id!r} and {b.prompt_id!r}"
            )
        if a.content_hash == b.content_hash:
            raise RatingError(
                "both sides are one answer (the same request got the same text, e.g. two "
                "aliases of one model and parameters): there is nothing to prefer between an "
                "answer and itself"
            )
        ctx = RatingContext(rater, catalog_name, blind, pane_order, shuffle_seed, time_to_rate_ms)
        item = pair_item(a.content_hash, b.content_hash)
        rating = self._new_rating("pair", a, value, item, ctx, comment, other=b)
        return self._insert(replace(rating, strength=strength))

    def best(
        self,
        winner: ResponseRecord | int,
        others: Sequence[ResponseRecord | int],
        rater: str | None = None,
        comment: str | None = None,
        blind: bool = False,
        pane_order: list[str] | None = None,
        shuffle_seed: int | None = None,
        time_to_rate_ms: float | None = None,
        catalog_name: str | None = None,
    ) -> Rating:
        """Best of N: ``winner`` is better than each of ``others`` (answers to the same prompt).

        One judgement, stored as one row: N−1 battles in the scores, resampled together, each
        superseded by the rater's own pair vote between the same two models. A rater has one
        pick per prompt: a later pick replaces it, ``undo`` retracts it whole."""
        win = _ratable(self._record(winner))
        rest = [_ratable(self._record(o)) for o in others]
        if not rest:
            raise RatingError("best of N needs at least one other answer")
        for o in rest:
            if o.prompt_id != win.prompt_id:
                raise RatingError(
                    f"best of N compares answers to one prompt, not {win.prompt_id!r} and "
                    f"{o.prompt_id!r}"
                )
            if o.content_hash == win.content_hash:
                raise RatingError("the best answer is also among the others")
        ctx = RatingContext(rater, catalog_name, blind, pane_order, shuffle_seed, time_to_rate_ms)
        rating = self._new_rating("best", win, BEST, BEST_ITEM, ctx, comment)
        beaten = [
            {"response_id": o.id, "content_hash": o.content_hash, "model_alias": o.model_alias}
            for o in rest
        ]
        return self._insert(replace(rating, others=beaten))

    def rubric(
        self,
        response: ResponseRecord | int,
        criterion: str,
        value: str,
        allowed: Sequence[str],
        rater: str | None = None,
        blind: bool = False,
        pane_order: list[str] | None = None,
        catalog_name: str | None = None,
    ) -> Rating:
        """Score one answer on one rubric criterion; ``allowed`` is the criterion's scale
        (:attr:`genaicompare.catalog.model.RubricCriterion.values`). A later score of the same
        criterion on the same output by the same rater replaces it; ``undo`` retracts it."""
        if not criterion or ":" in criterion:
            raise RatingError(f"bad rubric criterion {criterion!r}")
        if value not in allowed:
            raise RatingError(f"{criterion} must be one of {', '.join(allowed)}, not {value!r}")
        rec = _ratable(self._record(response))
        ctx = RatingContext(rater, catalog_name, blind, pane_order)
        item = rubric_item(rec.content_hash, criterion)
        return self._insert(self._new_rating(RUBRIC, rec, value, item, ctx, None))

    def correct(
        self,
        response: ResponseRecord | int,
        text: str,
        rater: str | None = None,
        catalog_name: str | None = None,
    ) -> Rating:
        """Store the rater's corrected text of one answer (it replaces their earlier correction
        of the same output). Exports use it as an SFT example and as DPO ``chosen`` against the
        original."""
        rec = _ratable(self._record(response))
        if not text.strip():
            raise RatingError("an empty correction is not a correction")
        if text == rec.text:
            raise RatingError("the corrected text is the answer unchanged")
        ctx = RatingContext(rater, catalog_name)
        item = correction_item(rec.content_hash)
        return self._insert(self._new_rating(CORRECTION, rec, text, item, ctx, None))

    def _new_rating(
        self,
        kind: Literal["thumb", "pair", "best", "rubric", "correction"],
        rec: ResponseRecord,
        value: str,
        item: str,
        ctx: RatingContext,
        comment: str | None,
        other: ResponseRecord | None = None,
    ) -> Rating:
        return Rating(
            uid=uuid.uuid4().hex,
            kind=kind,
            rater=resolve_rater(ctx.rater or self.default_rater),
            prompt_id=rec.prompt_id,
            value=value,
            item=item,
            created_at=_now_iso(),
            response_id=rec.id,
            content_hash=rec.content_hash,
            model_alias=rec.model_alias,
            other_response_id=other.id if other else None,
            other_content_hash=other.content_hash if other else None,
            other_model_alias=other.model_alias if other else None,
            comment=comment,
            blind=ctx.blind,
            pane_order=ctx.pane_order,
            shuffle_seed=ctx.shuffle_seed,
            time_to_rate_ms=ctx.time_to_rate_ms,
            catalog_name=ctx.catalog_name,
        )

    def comment(self, rating_uid: str, text: str) -> Rating:
        """Attach (or replace) the free-text note on a rating. The judgement itself never changes."""

        def do(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE ratings SET comment = ? WHERE uid = ? AND kind != 'retract'",
                [text, rating_uid],
            )
            if cur.rowcount != 1:
                raise RatingError(f"no rating {rating_uid!r}")

        self.store.write(do)
        got = self.get(rating_uid)
        assert got is not None
        return got

    def undo(self, rater: str | None = None) -> Rating | None:
        """Retract the rater's newest rating that is still in force; return it (None if none).

        The rater's previous rating of the same item, if any, is in force again — as after an
        editor's undo.
        """
        who = resolve_rater(rater or self.default_rater)
        dropped = self.pending.drop(who)
        if dropped is not None:  # never reached the disk: undoing it is forgetting it
            return dropped

        def do(conn: sqlite3.Connection) -> Rating | None:
            conn.row_factory = sqlite3.Row
            try:
                # The newest rating in force is the newest row of ratings_current for the rater:
                # a superseded rating cannot be newer than the one that superseded it.
                row = conn.execute(
                    "SELECT r.* FROM ratings_current c JOIN ratings r ON r.id = c.rating_id "
                    "WHERE c.rater = ? ORDER BY c.rating_id DESC LIMIT 1",
                    [who],
                ).fetchone()
            finally:
                conn.row_factory = None
            if row is None:
                return None
            target = Rating.from_row(dict(row))
            retraction = Rating(
                uid=uuid.uuid4().hex,
                kind="retract",
                rater=who,
                prompt_id=target.prompt_id,
                value=target.uid,
                item=target.item,
                created_at=_now_iso(),
                catalog_name=target.catalog_name,
                content_hash=target.content_hash,
                model_alias=target.model_alias,
            )
            conn.execute(_INSERT, [retraction.to_row()[c] for c in _COLUMNS])
            refresh_current(
                conn,
                who,
                target.item,
                catalog_name=target.catalog_name,
                prompt_id=target.prompt_id,
            )
            return target

        return self.store.write(do)

    def _insert(self, rating: Rating) -> Rating:
        """Write ``rating`` now, or raise :class:`~.pending.RatingPending` (queued, not lost)."""
        return self.pending.write(rating)

    def _write_now(self, rating: Rating) -> Rating:
        row = rating.to_row()

        def do(conn: sqlite3.Connection) -> int:
            stored = conn.execute("SELECT id FROM ratings WHERE uid = ?", [row["uid"]]).fetchone()
            if stored:  # a pending rating replayed after it did reach the disk
                return int(stored[0])
            if row["catalog_name"] is None and row["response_id"] is not None:
                found = conn.execute(
                    "SELECT coalesce(c.name, ru.catalog_name) FROM responses r "
                    "LEFT JOIN catalogs c ON c.id = r.catalog_id "
                    "LEFT JOIN runs ru ON ru.id = r.run_id WHERE r.id = ?",
                    [row["response_id"]],
                ).fetchone()
                row["catalog_name"] = found[0] if found else None
            cur = conn.execute(_INSERT, [row[c] for c in _COLUMNS])
            refresh_current(
                conn,
                row["rater"],
                row["item"],
                catalog_name=row["catalog_name"],
                prompt_id=row["prompt_id"],
            )
            return int(cur.lastrowid or 0)

        rid = self.store.write(do)
        return Rating.from_row({**row, "id": rid})

    def _record(self, response: ResponseRecord | int) -> ResponseRecord:
        if isinstance(response, ResponseRecord):
            return response
        rec = self.store.response(int(response))
        if rec is None:
            raise RatingError(f"no response with id {response}")
        return rec

    # -- reading --------------------------------------------------------------------------------
    def get(self, uid: str) -> Rating | None:
        rows = self.store.query("SELECT * FROM ratings WHERE uid = ?", [uid])
        return Rating.from_row(rows[0]) if rows else None

    def current(self, where: str = "1", params: Iterable[Any] = ()) -> list[Rating]:
        """Ratings in force (newest per rater and item, retractions applied), oldest first.

        ``where`` is a condition on ``r`` (the ratings row); it may use ``?`` parameters.
        """
        rows = self.store.query(
            "SELECT r.* FROM ratings_current c JOIN ratings r ON r.id = c.rating_id "
            f"WHERE {where} ORDER BY r.id",
            list(params),
        )
        return [Rating.from_row(r) for r in rows]

    def for_prompt(
        self, catalog_name: str | None, prompt_id: str, rater: str | None = None
    ) -> list[Rating]:
        """Ratings in force on one prompt of a catalog (every rater unless ``rater``)."""
        where, params = "r.prompt_id = ?", [prompt_id]
        if catalog_name is not None:
            where += " AND r.catalog_name IS ?"
            params.append(catalog_name)
        if rater is not None:
            where += " AND r.rater = ?"
            params.append(rater)
        return self.current(where, params)

    def for_content_hash(self, content_hash: str, rater: str | None = None) -> list[Rating]:
        """Ratings in force on this exact output, wherever it came from (carry-over)."""
        where = "(r.content_hash = ? OR r.other_content_hash = ?)"
        params: list[Any] = [content_hash, content_hash]
        if rater is not None:
            where += " AND r.rater = ?"
            params.append(rater)
        return self.current(where, params)

    def thumb_for(
        self,
        response: ResponseRecord,
        rater: str | None = None,
        catalog_name: str | None = None,
    ) -> Rating | None:
        """This rater's thumb in force on the answer's output, if any (what a pane shows).

        The thumb given in ``catalog_name`` (and on the answer's prompt) when there is one; else
        the newest one given to the same output elsewhere (carried over)."""
        who = resolve_rater(rater or self.default_rater)
        thumbs = [r for r in self.for_content_hash(response.content_hash, who) if r.kind == "thumb"]
        for r in thumbs:
            if r.catalog_name == catalog_name and r.prompt_id == response.prompt_id:
                return r
        return thumbs[-1] if thumbs else None

    def history(self, rater: str | None = None) -> list[Rating]:
        """Every row, retractions and superseded ratings included, oldest first."""
        if rater is None:
            rows = self.store.query("SELECT * FROM ratings ORDER BY id")
        else:
            rows = self.store.query("SELECT * FROM ratings WHERE rater = ? ORDER BY id", [rater])
        return [Rating.from_row(r) for r in rows]

    # -- exchange -------------------------------------------------------------------------------
    def export_jsonl(self, rater: str | None = None) -> Iterator[str]:
        """Every rating row (retractions too) as JSON lines, for another rater to import."""
        return export_lines(self.history(rater))

    def import_jsonl(self, path: str | Path) -> ImportResult:
        """Merge ratings from a ``ratings export`` file or a ``rated`` export, idempotently.

        Rows keep their uid, so a rating already present is skipped; response ids are re-resolved
        against this database by content hash (answers not stored here still count by hash).
        """
        return import_file(self.store, path)


def _now_iso() -> str:
    # lazy: genaicompare.store.database imports sqlite-utils (≈0.15 s); the main screen imports
    # this package before the store is open
    from genaicompare.store import now_iso

    return now_iso()
