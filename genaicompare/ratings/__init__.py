"""Human judgements: thumbs on one answer, preferences between two answers to the same prompt.

The ``ratings`` table is append-only. What a rater currently thinks of an *item* (one answer's
content hash for a thumb; the unordered pair of content hashes for a preference) is their newest
rating of it that has not been retracted; ``undo`` appends a retraction rather than deleting.
Ratings are keyed on the answer's content hash (model + params + messages + output text), so the
same output reappearing from a re-run or the cache shows its rating and counts without re-rating.

Every method that records something returns only after the write transaction has committed: a
:class:`Rating` handed to the UI is on disk.
"""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from genaicompare.core.records import ResponseRecord
from genaicompare.store import Store, now_iso
from genaicompare.store.migrations import RATINGS_CURRENT_SELECT, rebuild_rating_aggregates

Thumb = Literal["up", "down"]
Preference = Literal["a", "b", "tie", "both_bad"]
THUMBS: tuple[str, ...] = ("up", "down")
PREFERENCES: tuple[str, ...] = ("a", "b", "tie", "both_bad")
RATER_ENV = "GENAICOMPARE_RATER"


_RC_COLUMNS = (
    "rater",
    "item",
    "rating_id",
    "kind",
    "catalog_name",
    "prompt_id",
    "model_alias",
    "other_model_alias",
    "value",
    "canon_value",
    "content_hash",
    "day",
)
_RC_SELECT = f"SELECT {', '.join(_RC_COLUMNS)} FROM ratings_current WHERE rater = ? AND item = ?"


def refresh_current(conn: sqlite3.Connection, rater: str, item: str) -> None:
    """Bring ``ratings_current`` and the ``agg_*`` totals in step with the log for one
    (rater, item), inside the caller's write transaction."""
    old = conn.execute(_RC_SELECT, [rater, item]).fetchone()
    conn.execute("DELETE FROM ratings_current WHERE rater = ? AND item = ?", [rater, item])
    conn.execute(
        f"INSERT INTO ratings_current {RATINGS_CURRENT_SELECT} WHERE r.id = ("
        "SELECT max(id) FROM ratings WHERE rater = ? AND item = ? AND kind != 'retract' "
        "AND id NOT IN (SELECT t.id FROM ratings x JOIN ratings t ON t.uid = x.value "
        "WHERE x.rater = ? AND x.item = ? AND x.kind = 'retract'))",
        [rater, item, rater, item],
    )
    new = conn.execute(_RC_SELECT, [rater, item]).fetchone()
    if old == new:
        return
    if old is not None:
        _apply(conn, dict(zip(_RC_COLUMNS, old, strict=True)), -1)
    if new is not None:
        _apply(conn, dict(zip(_RC_COLUMNS, new, strict=True)), +1)


def _apply(conn: sqlite3.Connection, row: dict[str, Any], sign: int) -> None:
    """Add (``sign`` = 1) or remove (−1) one rating in force from the running totals. The other
    ratings it pairs with are read without it (its own item is excluded)."""
    cat = row["catalog_name"] or ""
    if row["kind"] == "pair" and row["model_alias"] and row["other_model_alias"]:
        conn.execute(
            "INSERT INTO agg_pairs VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET n = n + excluded.n",
            [cat, row["model_alias"], row["other_model_alias"], row["value"], sign],
        )
    if row["kind"] == "thumb":
        up = sign if row["value"] == "up" else 0
        model = row["model_alias"]
        conn.execute(
            "INSERT INTO agg_thumb_days VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET ups = ups + excluded.ups, n = n + excluded.n",
            [cat, row["day"], up, sign],
        )
        if model is not None:
            conn.execute(
                "INSERT INTO agg_thumb_cells VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET ups = ups + excluded.ups, n = n + excluded.n",
                [cat, model, row["prompt_id"], up, sign],
            )
        conn.execute(
            "INSERT INTO agg_thumb_items VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET ups = ups + excluded.ups, n = n + excluded.n",
            [cat, row["content_hash"], up, sign],
        )
        others = conn.execute(
            "SELECT model_alias, value FROM ratings_current WHERE catalog_name IS ? "
            "AND kind = 'thumb' AND rater = ? AND prompt_id = ? AND item != ?",
            [row["catalog_name"], row["rater"], row["prompt_id"], row["item"]],
        ).fetchall()
        for other_model, other_value in others:
            if model is None or other_model is None or other_model == model:
                continue
            if model < other_model:
                a, b, va, vb = model, other_model, row["value"], other_value
            else:
                a, b, va, vb = other_model, model, other_value, row["value"]
            conn.execute(
                "INSERT INTO agg_thumb_battles VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                "SET a_wins = a_wins + excluded.a_wins, b_wins = b_wins + excluded.b_wins, "
                "ties = ties + excluded.ties, both_bad = both_bad + excluded.both_bad",
                [
                    cat,
                    a,
                    b,
                    sign * (va == "up" and vb == "down"),
                    sign * (va == "down" and vb == "up"),
                    sign * (va == vb == "up"),
                    sign * (va == vb == "down"),
                ],
            )
    for other_rater, other_cat in conn.execute(
        "SELECT rater, canon_value FROM ratings_current WHERE catalog_name IS ? AND kind = ? "
        "AND item = ? AND rater != ?",
        [row["catalog_name"], row["kind"], row["item"], row["rater"]],
    ).fetchall():
        if row["rater"] < other_rater:
            key = [row["rater"], other_rater, row["canon_value"], other_cat]
        else:
            key = [other_rater, row["rater"], other_cat, row["canon_value"]]
        conn.execute(
            "INSERT INTO agg_rater_pairs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET n = n + excluded.n",
            [cat, *key, sign],
        )


def rebuild_current(conn: sqlite3.Connection) -> None:
    """Recompute ``ratings_current`` and the totals from the whole log (after deletions), in the
    caller's transaction."""
    conn.execute("DELETE FROM ratings_current")
    conn.execute(
        f"INSERT INTO ratings_current {RATINGS_CURRENT_SELECT} WHERE r.id IN ("
        "SELECT max(id) FROM ratings WHERE kind != 'retract' AND id NOT IN ("
        "SELECT t.id FROM ratings x JOIN ratings t ON t.uid = x.value WHERE x.kind = 'retract') "
        "GROUP BY rater, item)"
    )
    rebuild_rating_aggregates(conn)


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


def thumb_item(content_hash: str) -> str:
    return f"thumb:{content_hash}"


def pair_item(hash_a: str, hash_b: str) -> str:
    lo, hi = sorted((hash_a, hash_b))
    return f"pair:{lo}|{hi}"


@dataclass(frozen=True)
class Rating:
    """One stored rating row (a thumb, a preference, or a retraction)."""

    uid: str
    kind: Literal["thumb", "pair", "retract"]
    rater: str
    prompt_id: str
    value: str
    """``up``/``down`` (thumb); ``a``/``b``/``tie``/``both_bad`` (pair); the retracted uid."""
    item: str
    created_at: str
    catalog_name: str | None = None
    response_id: int | None = None
    content_hash: str | None = None
    model_alias: str | None = None
    other_response_id: int | None = None
    other_content_hash: str | None = None
    other_model_alias: str | None = None
    comment: str | None = None
    blind: bool = False
    pane_order: list[str] | None = None
    shuffle_seed: int | None = None
    time_to_rate_ms: float | None = None
    id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rating:
        pane = row.get("pane_order")
        return cls(
            id=row.get("id"),
            uid=row["uid"],
            kind=row["kind"],
            rater=row["rater"],
            prompt_id=row["prompt_id"],
            value=row["value"],
            item=row.get("item") or "",
            created_at=row["created_at"],
            catalog_name=row.get("catalog_name"),
            response_id=row.get("response_id"),
            content_hash=row.get("content_hash"),
            model_alias=row.get("model_alias"),
            other_response_id=row.get("other_response_id"),
            other_content_hash=row.get("other_content_hash"),
            other_model_alias=row.get("other_model_alias"),
            comment=row.get("comment"),
            blind=bool(row.get("blind")),
            pane_order=json.loads(pane) if isinstance(pane, str) and pane else None,
            shuffle_seed=row.get("shuffle_seed"),
            time_to_rate_ms=row.get("time_to_rate_ms"),
        )

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row.pop("extra")
        row.pop("id")
        row["blind"] = int(self.blind)
        row["pane_order"] = None if self.pane_order is None else json.dumps(self.pane_order)
        return row

    def to_json(self) -> dict[str, Any]:
        """Portable form (no database ids): what ``ratings export`` writes and ``import`` reads."""
        row = self.to_row()
        row.pop("response_id")
        row.pop("other_response_id")
        row["pane_order"] = self.pane_order
        row["blind"] = self.blind
        return row


_COLUMNS = [
    "uid",
    "kind",
    "rater",
    "prompt_id",
    "value",
    "item",
    "created_at",
    "catalog_name",
    "response_id",
    "content_hash",
    "model_alias",
    "other_response_id",
    "other_content_hash",
    "other_model_alias",
    "comment",
    "blind",
    "pane_order",
    "shuffle_seed",
    "time_to_rate_ms",
]
_INSERT = f"INSERT INTO ratings ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"

_INSERT_OR_IGNORE = _INSERT.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)


@dataclass(frozen=True)
class ImportResult:
    read: int
    added: int
    skipped: int
    """Already present (same uid): importing the same file twice adds nothing the second time."""


class RatingError(ValueError):
    """A rating that cannot be recorded (bad value, unknown response); message is user-facing."""


class Ratings:
    """Record and read ratings through a :class:`~genaicompare.store.Store`."""

    def __init__(self, store: Store, rater: str | None = None) -> None:
        self.store = store
        self.default_rater = resolve_rater(rater)

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
        rec = self._record(response)
        return self._insert(
            self._new_rating(
                "thumb",
                rec,
                value,
                thumb_item(rec.content_hash),
                rater,
                comment=comment,
                blind=blind,
                pane_order=pane_order,
                shuffle_seed=shuffle_seed,
                time_to_rate_ms=time_to_rate_ms,
                catalog_name=catalog_name,
            )
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
    ) -> Rating:
        """A/B preference between two answers to the same prompt (``a``, ``b``, ``tie``, ``both_bad``)."""
        if value not in PREFERENCES:
            raise RatingError(f"preference must be one of {', '.join(PREFERENCES)}, not {value!r}")
        a, b = self._record(response_a), self._record(response_b)
        if a.prompt_id != b.prompt_id:
            raise RatingError(
                f"a preference compares answers to one prompt, not {a.prompt_id!r} and {b.prompt_id!r}"
            )
        if a.content_hash == b.content_hash:
            raise RatingError("both sides are the same answer")
        return self._insert(
            self._new_rating(
                "pair",
                a,
                value,
                pair_item(a.content_hash, b.content_hash),
                rater,
                other=b,
                comment=comment,
                blind=blind,
                pane_order=pane_order,
                shuffle_seed=shuffle_seed,
                time_to_rate_ms=time_to_rate_ms,
                catalog_name=catalog_name,
            )
        )

    def _new_rating(
        self,
        kind: Literal["thumb", "pair"],
        rec: ResponseRecord,
        value: str,
        item: str,
        rater: str | None,
        other: ResponseRecord | None = None,
        *,
        comment: str | None,
        blind: bool,
        pane_order: list[str] | None,
        shuffle_seed: int | None,
        time_to_rate_ms: float | None,
        catalog_name: str | None,
    ) -> Rating:
        return Rating(
            uid=uuid.uuid4().hex,
            kind=kind,
            rater=resolve_rater(rater or self.default_rater),
            prompt_id=rec.prompt_id,
            value=value,
            item=item,
            created_at=now_iso(),
            response_id=rec.id,
            content_hash=rec.content_hash,
            model_alias=rec.model_alias,
            other_response_id=other.id if other else None,
            other_content_hash=other.content_hash if other else None,
            other_model_alias=other.model_alias if other else None,
            comment=comment,
            blind=blind,
            pane_order=pane_order,
            shuffle_seed=shuffle_seed,
            time_to_rate_ms=time_to_rate_ms,
            catalog_name=catalog_name,
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
                created_at=now_iso(),
                catalog_name=target.catalog_name,
                content_hash=target.content_hash,
                model_alias=target.model_alias,
            )
            conn.execute(_INSERT, [retraction.to_row()[c] for c in _COLUMNS])
            refresh_current(conn, who, target.item)
            return target

        return self.store.write(do)

    def _insert(self, rating: Rating) -> Rating:
        row = rating.to_row()

        def do(conn: sqlite3.Connection) -> int:
            if row["catalog_name"] is None and row["response_id"] is not None:
                found = conn.execute(
                    "SELECT coalesce(c.name, ru.catalog_name) FROM responses r "
                    "LEFT JOIN catalogs c ON c.id = r.catalog_id "
                    "LEFT JOIN runs ru ON ru.id = r.run_id WHERE r.id = ?",
                    [row["response_id"]],
                ).fetchone()
                row["catalog_name"] = found[0] if found else None
            cur = conn.execute(_INSERT, [row[c] for c in _COLUMNS])
            refresh_current(conn, row["rater"], row["item"])
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

    def thumb_for(self, response: ResponseRecord, rater: str | None = None) -> Rating | None:
        """This rater's thumb in force on the answer's output, if any (what a pane shows)."""
        who = resolve_rater(rater or self.default_rater)
        for r in self.for_content_hash(response.content_hash, who):
            if r.kind == "thumb":
                return r
        return None

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
        for r in self.history(rater):
            yield json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True)

    def import_jsonl(self, path: str | Path) -> ImportResult:
        """Merge ratings from a ``ratings export`` file or a ``rated`` export, idempotently.

        Rows keep their uid, so a rating already present is skipped; response ids are re-resolved
        against this database by content hash (answers not stored here still count by hash).
        """
        ratings = list(_read_ratings(Path(path)))

        def do(conn: sqlite3.Connection) -> int:
            added = 0
            touched: set[tuple[str, str]] = set()
            for rating in ratings:
                row = rating.to_row()
                row["response_id"] = _response_id(conn, rating.content_hash)
                row["other_response_id"] = _response_id(conn, rating.other_content_hash)
                cur = conn.execute(_INSERT_OR_IGNORE, [row[c] for c in _COLUMNS])
                if cur.rowcount:
                    added += 1
                    touched.add((rating.rater, rating.item))
            for rater, item in touched:
                refresh_current(conn, rater, item)
            return added

        added = self.store.write(do)
        return ImportResult(read=len(ratings), added=added, skipped=len(ratings) - added)


def _response_id(conn: sqlite3.Connection, content_hash: str | None) -> int | None:
    if not content_hash:
        return None
    row = conn.execute(
        "SELECT id FROM responses WHERE content_hash = ? ORDER BY id LIMIT 1", [content_hash]
    ).fetchone()
    return int(row[0]) if row else None


def _read_ratings(path: Path) -> Iterator[Rating]:
    from genaicompare.core.errors import UserError

    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None
    with fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}:{lineno}:{exc.colno}: not JSON: {exc.msg}") from None
            if not isinstance(obj, dict):
                raise UserError(f"{path}:{lineno}:1: expected a JSON object")
            if "kind" not in obj and "rated" not in obj and "id" not in obj and "name" in obj:
                continue  # the catalog header line of a rated export
            try:
                if isinstance(obj.get("rated"), dict):
                    yield from _ratings_from_rated_line(obj)
                else:
                    yield _rating_from_json(obj)
            except (KeyError, TypeError, ValueError) as exc:
                raise UserError(f"{path}:{lineno}:1: not a rating: {exc}") from None


def _rating_from_json(obj: dict[str, Any]) -> Rating:
    kind = obj["kind"]
    if kind not in ("thumb", "pair", "retract"):
        raise ValueError(f"unknown kind {kind!r}")
    value = str(obj["value"])
    if (kind == "thumb" and value not in THUMBS) or (kind == "pair" and value not in PREFERENCES):
        raise ValueError(f"bad value {value!r} for a {kind}")
    item = obj.get("item")
    if not item:
        if kind == "thumb":
            item = thumb_item(str(obj["content_hash"]))
        elif kind == "pair":
            item = pair_item(str(obj["content_hash"]), str(obj["other_content_hash"]))
        else:
            raise ValueError("a retraction needs its item")
    pane = obj.get("pane_order")
    return Rating(
        uid=str(obj["uid"]),
        kind=kind,
        rater=str(obj["rater"]),
        prompt_id=str(obj["prompt_id"]),
        value=value,
        item=str(item),
        created_at=str(obj["created_at"]),
        catalog_name=obj.get("catalog_name"),
        content_hash=obj.get("content_hash"),
        model_alias=obj.get("model_alias"),
        other_content_hash=obj.get("other_content_hash"),
        other_model_alias=obj.get("other_model_alias"),
        comment=obj.get("comment"),
        blind=bool(obj.get("blind")),
        pane_order=list(pane) if isinstance(pane, list) else None,
        shuffle_seed=obj.get("shuffle_seed"),
        time_to_rate_ms=obj.get("time_to_rate_ms"),
    )


def _ratings_from_rated_line(obj: dict[str, Any]) -> Iterator[Rating]:
    """Ratings embedded in an ``export --format rated`` line (each carries its full row)."""
    rated = obj["rated"]
    for entry in [*rated.get("ratings", []), *rated.get("preferences", [])]:
        yield _rating_from_json(entry)
