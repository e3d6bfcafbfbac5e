"""Best-of-N picks and graded (strong) pair votes: the rows stored, the battles they make, and
the running totals equal to a rebuild from the log."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.ratings import RatingError, Ratings
from genaicompare.store import Store

MSG = [{"role": "user", "content": "Q"}]


def _resp(alias: str, text: str, prompt: str = "p1") -> ResponseRecord:
    return ResponseRecord(
        prompt_id=prompt,
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=MSG,
        text=text,
        state=FinishState.complete,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "b.db")
    cat = Catalog.model_validate(
        {"name": "cat", "prompts": [{"id": "p1", "prompt": "Q"}, {"id": "p2", "prompt": "R"}]}
    )
    cid = s.record_catalog(cat)
    for p in ("p1", "p2"):
        for alias in ("a", "b", "c"):
            s.save_response(_resp(alias, f"{alias} on {p}", p), catalog_id=cid)
    yield s
    s.close()


def _recs(store: Store, prompt: str = "p1") -> list[ResponseRecord]:
    ids = [r["id"] for r in store.query("SELECT id FROM responses WHERE prompt_id = ?", [prompt])]
    return [store.response(i) for i in ids]  # type: ignore[misc]


def _battles(store: Store) -> dict[str, list[tuple]]:
    q = store.conn.execute
    return {
        "best": q("SELECT winner, losers, n FROM agg_best_picks WHERE n != 0").fetchall(),
        "thumb": q(
            "SELECT model_a, model_b, a_wins, b_wins, ties, both_bad FROM agg_thumb_battles "
            "WHERE a_wins OR b_wins OR ties OR both_bad"
        ).fetchall(),
        "strong": q("SELECT model_a, model_b, value, n FROM agg_strong_pairs WHERE n").fetchall(),
    }


def test_best_pick_is_one_row_with_the_losers_and_the_pane_order(store: Store) -> None:
    a, b, c = _recs(store)
    r = Ratings(store, rater="ann").best(b, [a, c], pane_order=["c", "b", "a"], catalog_name="cat")
    row = store.query("SELECT * FROM ratings")[0]
    assert (row["kind"], row["value"], row["model_alias"], row["item"]) == (
        "best",
        "best",
        "b",
        "best",
    )
    assert json.loads(row["pane_order"]) == ["c", "b", "a"]
    assert [o["model_alias"] for o in json.loads(row["others"])] == ["a", "c"]
    assert r.others is not None and r.others[0]["content_hash"] == a.content_hash
    assert _battles(store)["best"] == [("b", '["a","c"]', 1)]


def test_best_pick_supersedes_thumbs_and_a_pair_vote_supersedes_the_pick(store: Store) -> None:
    a, b, c = _recs(store)
    ann = Ratings(store, rater="ann")
    for rec, v in ((a, "up"), (b, "down"), (c, "down")):
        ann.thumb(rec, v, catalog_name="cat")  # type: ignore[arg-type]
    assert sorted(_battles(store)["thumb"]) == [
        ("a", "b", 1, 0, 0, 0),
        ("a", "c", 1, 0, 0, 0),
        ("b", "c", 0, 0, 0, 1),
    ]
    ann.best(b, [a, c], catalog_name="cat")
    # b beat a and c: the pick is those two battles; only b–c... is covered too, a–c stays thumbs.
    assert _battles(store)["thumb"] == [("a", "c", 1, 0, 0, 0)]
    assert _battles(store)["best"] == [("b", '["a","c"]', 1)]
    ann.prefer(a, b, "a", catalog_name="cat", strength=2)  # an explicit vote on a–b wins
    assert _battles(store)["best"] == [("b", '["c"]', 1)]
    assert _battles(store)["strong"] == [("a", "b", "a", 1)]
    assert ann.undo() is not None  # the strong vote
    assert _battles(store)["best"] == [("b", '["a","c"]', 1)]
    assert _battles(store)["strong"] == []
    assert ann.undo() is not None  # the whole pick, in one step
    assert _battles(store)["best"] == []
    assert len(_battles(store)["thumb"]) == 3


def test_a_later_pick_replaces_the_earlier_one(store: Store) -> None:
    a, b, c = _recs(store)
    ann = Ratings(store, rater="ann")
    ann.best(b, [a, c], catalog_name="cat")
    ann.best(c, [a, b], catalog_name="cat")
    assert _battles(store)["best"] == [("c", '["a","b"]', 1)]
    assert len(ann.for_prompt("cat", "p1")) == 1


def test_refused_values(store: Store) -> None:
    a, b, _c = _recs(store)
    (x,) = [r for r in _recs(store, "p2") if r.model_alias == "a"]
    ann = Ratings(store, rater="ann")
    with pytest.raises(RatingError, match="only a win can be strong"):
        ann.prefer(a, b, "tie", strength=2)
    with pytest.raises(RatingError, match="strength must be"):
        ann.prefer(a, b, "a", strength=3)
    with pytest.raises(RatingError, match="one prompt"):
        ann.best(a, [b, x])
    with pytest.raises(RatingError, match="at least one other"):
        ann.best(a, [])


def test_strength_is_stored_and_exported_and_imports_back(store: Store, tmp_path: Path) -> None:
    a, b, c = _recs(store)
    ann = Ratings(store, rater="ann")
    ann.prefer(a, b, "b", strength=2, catalog_name="cat")
    ann.prefer(a, c, "a", catalog_name="cat")
    ann.best(c, [a, b], catalog_name="cat")
    rows = store.query("SELECT kind, value, strength FROM ratings ORDER BY id")
    assert [(r["kind"], r["value"], r["strength"]) for r in rows] == [
        ("pair", "b", 2),
        ("pair", "a", 1),
        ("best", "best", None),
    ]
    out = tmp_path / "ratings.jsonl"
    out.write_text("\n".join(ann.export_jsonl()) + "\n")
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["strength"] == 2 and "response_id" not in lines[2]["others"][0]
    with Store(tmp_path / "other.db") as other:
        res = Ratings(other).import_jsonl(out)
        assert (res.added, res.skipped) == (3, 0)
        got = other.query("SELECT kind, strength, others FROM ratings ORDER BY id")
        assert got[0]["strength"] == 2
        assert json.loads(got[2]["others"])[0]["model_alias"] == "a"
        # Lines written before graded votes (no strength, no others) still import.
        old = dict(lines[1], uid="old-line")
        old.pop("strength")
        (tmp_path / "old.jsonl").write_text(json.dumps(old) + "\n")
        assert Ratings(other).import_jsonl(tmp_path / "old.jsonl").added == 1


AGG = (
    "ratings_current",
    "agg_thumb_battles",
    "agg_pairs",
    "agg_strong_pairs",
    "agg_best_picks",
    "agg_rater_pairs",
)


def _state(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    out = {}
    for t in AGG:
        rows = conn.execute(f"SELECT * FROM {t}").fetchall()
        if t != "ratings_current":
            rows = [r for r in rows if any(isinstance(v, int) and v for v in r)]
        out[t] = sorted(rows, key=repr)
    return out


def test_running_totals_equal_a_rebuild_with_picks_and_strong_votes(tmp_path: Path) -> None:
    from genaicompare.ratings import rebuild_current

    rng = random.Random(13)
    with Store(tmp_path / "agg.db") as store:
        cat = Catalog.model_validate({"name": "c", "prompts": [{"id": "p1", "prompt": "x"}]})
        cid = store.record_catalog(cat)
        recs = []
        for alias in ("a", "b", "c", "d"):
            rec = _resp(alias, f"{alias}-answer")
            store.save_response(rec, catalog_id=cid)
            recs.append(rec)
        raters = [Ratings(store, rater=n) for n in ("ann", "bob")]
        kinds: set[str] = set()
        picks = strong = 0
        for step in range(240):
            r = rng.choice(raters)
            roll = rng.random()
            if roll < 0.35:
                r.thumb(rng.choice(recs), rng.choice(["up", "down"]), catalog_name="c")
            elif roll < 0.6:
                a, b = rng.sample(recs, 2)
                value = rng.choice(["a", "b", "tie", "both_bad"])
                strength = 2 if value in ("a", "b") and rng.random() < 0.5 else 1
                r.prefer(a, b, value, catalog_name="c", strength=strength)  # type: ignore[arg-type]
            elif roll < 0.8:
                shown = rng.sample(recs, rng.randint(2, 4))
                r.best(shown[0], shown[1:], catalog_name="c")
            else:
                r.undo()
            kinds |= {k for (k,) in store.conn.execute("SELECT kind FROM ratings_current")}
            picks = max(picks, store.query("SELECT sum(n) AS n FROM agg_best_picks")[0]["n"] or 0)
            strong = max(
                strong, store.query("SELECT sum(n) AS n FROM agg_strong_pairs")[0]["n"] or 0
            )
            if step % 40 == 39:
                conn = sqlite3.connect(store.path, isolation_level=None)
                conn.execute("BEGIN IMMEDIATE")
                rebuild_current(conn)
                rebuilt = _state(conn)
                conn.execute("ROLLBACK")
                conn.close()
                assert _state(store.conn) == rebuilt, step
        assert kinds == {"thumb", "pair", "best"}
        assert picks > 0 and strong > 0
