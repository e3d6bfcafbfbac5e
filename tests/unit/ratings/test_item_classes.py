"""``agg_item_classes`` (agreement between people's item classes) stays equal to grouping the
ratings in force, through thumbs, A/B votes, re-ratings, undos, two catalogs and forget."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from genaicompare.scoring.agreement import SCALES
from genaicompare.store.migrations import ITEM_CATEGORIES


def _grouped(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """What the table must hold: the old per-item grouping of ratings_current (n > 0 rows)."""
    out: dict[tuple[str, str, str], int] = {}
    for kind, cats in ITEM_CATEGORIES.items():
        per_item = ", ".join(f"sum(canon_value = '{c}')" for c in cats)
        for row in conn.execute(
            f"SELECT catalog, {per_item} FROM ratings_current WHERE kind = ? AND canon_value "
            f"IN ({', '.join('?' * len(cats))}) GROUP BY catalog, prompt_id, item",
            [kind, *cats],
        ):
            key = (row[0], kind, ",".join(str(x) for x in row[1:]))
            out[key] = out.get(key, 0) + 1
    return out


def _table(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    return {
        (c, k, counts): n
        for c, k, counts, n in conn.execute("SELECT * FROM agg_item_classes WHERE n != 0")
    }


def test_the_categories_are_agreements_scales() -> None:
    assert {"thumb": SCALES["thumbs"], "pair": SCALES["preferences"]} == ITEM_CATEGORIES


def test_item_classes_follow_every_rating(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings
    from genaicompare.store.forget import forget
    from tests.integration.test_scores_cli import _answer, _store

    store, cid, run = _store(tmp_path / "c.db", ("m1", "m2", "m3"), 4)
    answers = {
        (p, m): _answer(store, cid, run, f"p{p}", m) for p in range(4) for m in ("m1", "m2", "m3")
    }
    ratings = Ratings(store)
    rng = random.Random(3)
    raters = ["ann", "bob", "cy", "dee"]
    seen = set()
    with sqlite3.connect(store.path) as conn:
        for step in range(400):
            rater = rng.choice(raters)
            p = rng.randrange(4)
            catalog = rng.choice(["quick", "quick", "other"])
            roll = rng.random()
            if roll < 0.45:
                m = rng.choice(["m1", "m2", "m3"])
                ratings.thumb(
                    answers[(p, m)], rng.choice(["up", "down"]), rater=rater, catalog_name=catalog
                )
            elif roll < 0.85:
                a, b = rng.sample(["m1", "m2", "m3"], 2)
                ratings.prefer(
                    answers[(p, a)],
                    answers[(p, b)],
                    rng.choice(["a", "b", "tie", "both_bad"]),
                    rater=rater,
                    catalog_name=catalog,
                )
            else:
                ratings.undo(rater)
            table = _table(conn)
            assert table == _grouped(conn), step
            seen |= set(table)
        # Re-ratings and undos moved items between classes: items with 1 to 4 raters.
        assert {counts for _c, _k, counts in seen} >= {"1,0", "0,1", "2,0", "1,1"}
        assert any(sum(map(int, counts.split(","))) >= 3 for _c, _k, counts in seen)
        forget(store, rater="bob")
        assert _table(conn) == _grouped(conn)
        forget(store, model="m2")
        assert _table(conn) == _grouped(conn) != {}
