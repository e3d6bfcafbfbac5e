"""The derived rating tables: ``ratings_current`` (what each rater thinks now) and the ``agg_*``
running totals that scores read, kept in step with the append-only log one (rater, item) at a time.

The full rebuild from the log lives with the schema (:func:`genaicompare.store.migrations.
rebuild_current`), because ``forget`` in the store needs it too.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from typing import Any

from genaicompare.store.migrations import (
    ITEM_CATEGORIES,
    RATINGS_CURRENT_SELECT,
    item_class,
    rebuild_current,
)

__all__ = ["losers_key", "rebuild_current", "refresh_current"]


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
    before = _derived(conn, rater, catalog_name or "", prompt_id)
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
    was = None if old is None else dict(zip(_RC_COLUMNS, old, strict=True))
    now = None if new is None else dict(zip(_RC_COLUMNS, new, strict=True))
    if was is not None:
        _apply(conn, was, -1)
    if now is not None:
        _apply(conn, now, +1)
    _item_classes(conn, key[1:], was, now)
    after = _derived(conn, rater, catalog_name or "", prompt_id)
    after.subtract(before)
    for battle, change in after.items():
        if change:
            _derived_battle(conn, catalog_name or "", battle, change)


def _item_classes(
    conn: sqlite3.Connection,
    item_key: list[str],
    was: dict[str, Any] | None,
    now: dict[str, Any] | None,
) -> None:
    """Move the (catalog, prompt, item) whose rating by one rater went from ``was`` to ``now``
    from its old class of per-category counts to its new one in ``agg_item_classes``."""
    catalog, prompt_id, item = item_key
    for kind in {r["kind"] for r in (was, now) if r is not None} & ITEM_CATEGORIES.keys():
        after: dict[str, int] = dict(
            conn.execute(
                "SELECT canon_value, count(*) FROM ratings_current WHERE kind = ? AND catalog = ? "
                "AND prompt_id = ? AND item = ? GROUP BY canon_value",
                [kind, catalog, prompt_id, item],
            ).fetchall()
        )
        before = dict(after)
        if now is not None and now["kind"] == kind:
            before[now["canon_value"]] = before.get(now["canon_value"], 0) - 1
        if was is not None and was["kind"] == kind:
            before[was["canon_value"]] = before.get(was["canon_value"], 0) + 1
        cats = ITEM_CATEGORIES[kind]
        old_class, new_class = item_class(before, kind), item_class(after, kind)
        if old_class == new_class:
            continue
        for counts, sign in ((before, -1), (after, +1)):
            if any(counts.get(c, 0) for c in cats):
                conn.execute(
                    "INSERT INTO agg_item_classes VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
                    "SET n = n + excluded.n",
                    [catalog, kind, item_class(counts, kind), sign],
                )


def losers_key(losers: list[str]) -> str:
    """A best-of-N pick's counted losers as ``agg_best_picks`` keys them (distinct, sorted,
    compact JSON — what the rebuild's ``json_group_array`` writes)."""
    return json.dumps(sorted(set(losers)), ensure_ascii=False, separators=(",", ":"))


def _derived(conn: sqlite3.Connection, rater: str, catalog: str, prompt_id: str) -> Counter[Any]:
    """The battles one rater's ratings in force on one prompt make beyond their pair votes:
    best-of-N picks, then same-prompt thumbs — one battle per (prompt, pair of models, rater).

    A pair vote between two models supersedes the battle a best-of-N pick or two thumbs made
    between them; a best-of-N pick supersedes the thumbs' battle (issue 12 §5, issue 13)."""
    rows = conn.execute(
        "SELECT c.kind, c.model_alias, c.other_model_alias, c.value, r.others "
        "FROM ratings_current c JOIN ratings r ON r.id = c.rating_id "
        "WHERE c.rater = ? AND c.catalog = ? AND c.prompt_id = ?",
        [rater, catalog, prompt_id],
    ).fetchall()
    voted = {frozenset((a, b)) for kind, a, b, _v, _o in rows if kind == "pair" and a and b}
    out: Counter[Any] = Counter()
    covered = set(voted)
    for kind, winner, _b, _v, others in rows:
        if kind != "best" or not winner:
            continue
        beaten = {o.get("model_alias") for o in json.loads(others or "[]")}
        losers = [m for m in beaten if m and m != winner and frozenset((winner, m)) not in voted]
        covered |= {frozenset((winner, m)) for m in beaten if m}
        if losers:
            out[("best", winner, losers_key(losers))] += 1
    thumbs = [(m, v) for kind, m, _b, v, _o in rows if kind == "thumb" and m]
    for ma, va in thumbs:
        for mb, vb in thumbs:
            if ma < mb and frozenset((ma, mb)) not in covered:
                out[("thumb", ma, mb, va, vb)] += 1
    return out


def _derived_battle(conn: sqlite3.Connection, cat: str, battle: tuple[Any, ...], n: int) -> None:
    if battle[0] == "thumb":
        _thumb_battle(conn, cat, *battle[1:], sign=n)
    else:
        conn.execute(
            "INSERT INTO agg_best_picks VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET n = n + excluded.n",
            [cat, battle[1], battle[2], n],
        )


def _apply(conn: sqlite3.Connection, row: dict[str, Any], sign: int) -> None:
    """Add (``sign`` = 1) or remove (−1) one rating in force from the running totals (the
    battles that thumbs and best-of-N picks make are :func:`_derived`'s)."""
    cat = row["catalog_name"] or ""
    if row["kind"] == "pair" and row["model_alias"] and row["other_model_alias"]:
        conn.execute(
            "INSERT INTO agg_pairs VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
            "SET n = n + excluded.n",
            [cat, row["model_alias"], row["other_model_alias"], row["value"], sign],
        )
        strength = conn.execute(
            "SELECT strength FROM ratings WHERE id = ?", [row["rating_id"]]
        ).fetchone()
        if strength and strength[0] == 2:
            conn.execute(
                "INSERT INTO agg_strong_pairs VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
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
    if row["kind"] in ("best", "rubric", "correction"):
        # Raters' agreement on picks, rubric scores and corrections is not in κ's table (it has
        # no category for them).
        return
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


def _thumb_battle(
    conn: sqlite3.Connection, cat: str, a: str, b: str, va: str, vb: str, *, sign: int
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
