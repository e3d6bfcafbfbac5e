"""Ratings in and out of JSON lines: ``ratings export`` files, and the ratings in a ``rated``
export (read through :mod:`genaicompare.catalog.rated`). Importing is idempotent (rows keep their
uid) and re-resolves response ids against the receiving database by content hash.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaicompare.catalog.rated import is_rated_header, ratings_in
from genaicompare.core.files import escape_line
from genaicompare.ratings.aggregates import refresh_current
from genaicompare.ratings.model import (
    _COLUMNS,
    _INSERT_OR_IGNORE,
    BEST,
    BEST_ITEM,
    PREFERENCES,
    STRENGTHS,
    THUMBS,
    Rating,
    pair_item,
    thumb_item,
)

if TYPE_CHECKING:
    from genaicompare.store import Store


@dataclass(frozen=True)
class ImportResult:
    read: int
    added: int
    skipped: int
    """Already present (same uid): importing the same file twice adds nothing the second time."""


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
            if is_rated_header(obj):
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
    if kind not in ("thumb", "pair", "best", "rubric", "correction", "retract"):
        raise ValueError(f"unknown kind {kind!r}")
    value = str(obj["value"])
    if (
        (kind == "thumb" and value not in THUMBS)
        or (kind == "pair" and value not in PREFERENCES)
        or (kind == "best" and value != BEST)
    ):
        raise ValueError(f"bad value {value!r} for a {kind}")
    strength = obj.get("strength")
    if strength is not None and (kind != "pair" or strength not in STRENGTHS):
        raise ValueError(f"bad strength {strength!r} for a {kind}")
    others = obj.get("others")
    if kind == "best" and not (
        isinstance(others, list) and others and all(isinstance(o, dict) for o in others)
    ):
        raise ValueError("a best-of-N pick needs the answers it beat (others)")
    item = obj.get("item")
    if not item:
        if kind == "thumb":
            item = thumb_item(str(obj["content_hash"]))
        elif kind == "best":
            item = BEST_ITEM
        elif kind == "pair":
            item = pair_item(str(obj["content_hash"]), str(obj["other_content_hash"]))
        else:
            raise ValueError(f"a {'retraction' if kind == 'retract' else kind} needs its item")
    pane = obj.get("pane_order")
    return Rating.from_row(
        {
            **obj,
            "id": None,
            "response_id": None,
            "other_response_id": None,
            "uid": str(obj["uid"]),
            "rater": str(obj["rater"]),
            "prompt_id": str(obj["prompt_id"]),
            "value": value,
            "item": str(item),
            "created_at": str(obj["created_at"]),
            "pane_order": list(pane) if isinstance(pane, list) else None,
        }
    )


def _ratings_from_rated_line(obj: dict[str, Any]) -> Iterator[Rating]:
    """Ratings embedded in an ``export --format rated`` line (each carries its full row)."""
    for entry in ratings_in(obj):
        yield _rating_from_json(entry)


def export_lines(ratings: Iterable[Rating]) -> Iterator[str]:
    """Rating rows as JSON lines, for another rater to import."""
    for r in ratings:
        yield escape_line(json.dumps(r.to_json(), ensure_ascii=False, sort_keys=True))


def import_file(store: Store, path: str | Path) -> ImportResult:
    """Merge ratings from a ``ratings export`` file or a ``rated`` export, idempotently."""
    ratings = list(_read_ratings(Path(path)))

    def do(conn: sqlite3.Connection) -> int:
        added = 0
        touched: set[tuple[str, str, str | None, str]] = set()
        for rating in ratings:
            row = rating.to_row()
            row["response_id"] = _response_id(conn, rating.content_hash)
            row["other_response_id"] = _response_id(conn, rating.other_content_hash)
            if rating.others is not None:
                row["others"] = json.dumps(
                    [
                        {**o, "response_id": _response_id(conn, o.get("content_hash"))}
                        for o in rating.others
                    ]
                )
            cur = conn.execute(_INSERT_OR_IGNORE, [row[c] for c in _COLUMNS])
            if cur.rowcount:
                added += 1
                touched.add((rating.rater, rating.item, rating.catalog_name, rating.prompt_id))
        for rater, item, catalog_name, prompt_id in touched:
            refresh_current(conn, rater, item, catalog_name=catalog_name, prompt_id=prompt_id)
        return added

    added = store.write(do)
    return ImportResult(read=len(ratings), added=added, skipped=len(ratings) - added)
