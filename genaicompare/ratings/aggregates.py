"""The derived rating tables: ``ratings_current`` (what each rater thinks now) and the ``agg_*``
running totals that scores read, kept in step with the append-only log one (rater, item) at a time.

The full rebuild from the log lives with the schema (:func:`genaicompare.store.migrations.
rebuild_current`), because ``forget`` in the store needs it too.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from genaicompare.store.migrations import RATINGS_CURRENT_SELECT, rebuild_current

__all__ = ["rebuild_current", "refresh_current"]


_RC_COLUMNS = (
    "rater",
    "catalog",
    "prompt_id",
    "item",
    "rating_id",
    "kind",
    "catalog_name",
    "model_alias",
    "other_model_alias",
    "value",
    "canon_value",
    "content_hash",
    "day",
)
_KEY = "rater = ? AND catalog = ? AND prompt_id = ? AND item = ?"
_RC_SELECT = f"SELECT {', '.join(_RC_COLUMNS)} FROM ratings_current WHERE {_KEY}"


def refresh_current(
    conn: sqlite3.Connection,
    rater: str,
    item: str,
    *,
    catalog_name: str | None,
    prompt_id: str,
) -> None:
    """Bring ``ratings_current`` and the ``agg_*`` totals in step with the log for one
    (rater, catalog, prompt, item), inside the caller's write transaction.

    A rating belongs to the catalog and prompt it was given in: the same answer rated in another
    catalog is another rating in force, never a replacement of this one."""
    key = [rater, catalog_name or "", prompt_id, item]
    old = conn.execute(_RC_SELECT, key).fetchone()
    conn.execute(f"DELETE FROM ratings_current WHERE {_KEY}", key)
    conn.execute(
        f"INSERT INTO ratings_current {RATINGS_CURRENT_SELECT} WHERE r.id = ("
        "SELECT max(id) FROM ratings WHERE rater = ? AND item = ? AND kind != 'retract' "
        "AND coalesce(catalog_name, '') = ? AND prompt_id = ? "
        "AND id NOT IN (SELECT t.id FROM ratings x JOIN ratings t ON t.uid = x.value "
        "WHERE x.rater = ? AND x.item = ? AND x.kind = 'retract'))",
        [rater, item, catalog_name or "", prompt_id, rater, item],
    )
    new = conn.execute(_RC_SELECT, key).fetchone()
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
        # One battle per judgement: a pair vote supersedes the battles its rater's thumbs on
        # this prompt made between these two models (issue 12 §5) — while it is the only one.
        if not _pair_voted(conn, row, row["model_alias"], row["other_model_alias"]):
            thumbs = conn.execute(
                "SELECT model_alias, value FROM ratings_current WHERE catalog_name IS ? "
                "AND kind = 'thumb' AND rater = ? AND prompt_id = ? AND model_alias IN (?, ?)",
                [
                    row["catalog_name"],
                    row["rater"],
                    row["prompt_id"],
                    row["model_alias"],
                    row["other_model_alias"],
                ],
            ).fetchall()
            for ma, va in thumbs:
                for mb, vb in thumbs:
                    if ma < mb:
                        _thumb_battle(conn, cat, ma, mb, va, vb, -sign)
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
            if _pair_voted(conn, row, model, other_model):
                continue  # that rater's pair vote is the battle (issue 12 §5)
            if model < other_model:
                _thumb_battle(conn, cat, model, other_model, row["value"], other_value, sign)
            else:
                _thumb_battle(conn, cat, other_model, model, other_value, row["value"], sign)
    for other_rater, other_cat in conn.execute(
        "SELECT rater, canon_value FROM ratings_current WHERE catalog_name IS ? AND kind = ? "
        "AND prompt_id = ? AND item = ? AND rater != ?",
        [row["catalog_name"], row["kind"], row["prompt_id"], row["item"], row["rater"]],
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


def _pair_voted(conn: sqlite3.Connection, row: dict[str, Any], a: str, b: str) -> bool:
    """Whether ``row``'s rater has a pair vote in force on its prompt between models ``a`` and
    ``b`` (other than ``row`` itself)."""
    # One equality lookup per order (an OR of the two let SQLite scan every pair vote of the
    # catalog: the index seeks on both aliases and the prompt only without it).
    for first, second in ((a, b), (b, a)):
        found = conn.execute(
            "SELECT 1 FROM ratings_current WHERE catalog_name IS ? AND kind = 'pair' "
            "AND model_alias = ? AND other_model_alias = ? AND prompt_id = ? AND rater = ? "
            "AND item != ? LIMIT 1",
            [row["catalog_name"], first, second, row["prompt_id"], row["rater"], row["item"]],
        ).fetchone()
        if found is not None:
            return True
    return False


def _thumb_battle(
    conn: sqlite3.Connection, cat: str, a: str, b: str, va: str, vb: str, sign: int
) -> None:
    """Add (or remove) one same-prompt thumb battle between models ``a`` < ``b``."""
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
