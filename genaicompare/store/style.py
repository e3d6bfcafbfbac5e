"""``answer_style``: each stored answer's Markdown style counts, one row per content hash.

Written in the transaction that stores the answer (the first answer with a content hash wins, as
``min(id)`` would pick it), dropped with the last answer carrying the hash (``forget``), and read
by style control (:func:`genaicompare.scoring.style.read_style_battles`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from genaicompare.core.markdown_style import STYLE_COLUMNS, style_counts

_INSERT = (
    f"INSERT OR IGNORE INTO answer_style (content_hash, model_alias, {', '.join(STYLE_COLUMNS)}) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)

StyleRow = tuple[str, str, int, int, int, int]


def style_row(content_hash: str, model_alias: str, text: str | None) -> StyleRow:
    """The ``answer_style`` row of one answer."""
    return (content_hash, model_alias, *style_counts(text or ""))


def record_styles(conn: sqlite3.Connection, rows: Iterable[StyleRow]) -> None:
    """Store the style rows of answers just saved, in the caller's transaction (a content hash
    already there keeps its first answer's row)."""
    conn.executemany(_INSERT, rows)


def refresh_styles(conn: sqlite3.Connection, hashes: Iterable[str]) -> None:
    """After answers were deleted: the rows of ``hashes`` again, from the first answer that still
    carries each (none when no answer does), in the caller's transaction."""
    todo = sorted(set(hashes))
    conn.execute(
        "DELETE FROM answer_style WHERE content_hash IN (SELECT value FROM json_each(?))",
        [json.dumps(todo)],
    )
    record_styles(conn, first_answer_styles(conn, todo))


def first_answer_styles(conn: sqlite3.Connection, hashes: Iterable[str]) -> list[StyleRow]:
    """The style row of the first stored answer (smallest id) with each of ``hashes``, counted
    from its text; hashes no answer carries have none."""
    rows = conn.execute(
        "SELECT r.content_hash, r.model_alias, r.text FROM responses r WHERE r.id IN ("
        "SELECT min(x.id) FROM json_each(?) j JOIN responses x ON x.content_hash = j.value "
        "GROUP BY x.content_hash)",
        [json.dumps(sorted(set(hashes)))],
    ).fetchall()
    return [style_row(h, alias, text) for h, alias, text in rows]
