"""Ratings on a real SQLite file: append-only supersede/undo, carry-over, rater id, import."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.ratings import RatingError, Ratings, resolve_rater
from genaicompare.store import Store

MSG = [{"role": "user", "content": "What is 2+2?"}]


def _resp(alias: str, text: str, prompt: str = "p1") -> ResponseRecord:
    return ResponseRecord(
        prompt_id=prompt,
        model_alias=alias,
        model=f"openai/{alias}",
        params={"temperature": 0},
        messages=MSG,
        text=text,
        state=FinishState.complete,
        latency_ms=100.0,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "r.db")
    cat = Catalog.model_validate(
        {
            "name": "cat",
            "models": [{"id": "a", "model": "openai/a"}],
            "prompts": [{"id": "p1", "prompt": "What is 2+2?"}, {"id": "p2", "prompt": "x"}],
        }
    )
    cid = s.record_catalog(cat)
    run = s.start_run(cid, cat, "headless")
    for rec in (_resp("a", "4"), _resp("b", "four"), _resp("a", "x", "p2")):
        s.save_response(rec, run_id=run, catalog_id=cid)
    yield s
    s.close()


def _responses(store: Store) -> list[ResponseRecord]:
    return [store.response(i) for i in (1, 2, 3)]  # type: ignore[misc]


def test_thumb_is_committed_and_attached_to_catalog_and_content_hash(store: Store) -> None:
    a, _b, _c = _responses(store)
    r = Ratings(store, rater="ann").thumb(
        a, "up", time_to_rate_ms=850.0, blind=True, pane_order=["b", "a"], shuffle_seed=7
    )
    # Another connection (another process) sees it at once: it was acknowledged after COMMIT.
    other = sqlite3.connect(store.path)
    row = other.execute(
        "SELECT rater, value, content_hash, catalog_name, blind, pane_order, "
        "shuffle_seed, time_to_rate_ms FROM ratings WHERE uid=?",
        [r.uid],
    ).fetchone()
    assert row == ("ann", "up", a.content_hash, "cat", 1, '["b", "a"]', 7, 850.0)


def test_later_rating_supersedes_and_undo_appends_a_retraction(store: Store) -> None:
    a, _b, _c = _responses(store)
    ratings = Ratings(store, rater="ann")
    first = ratings.thumb(a, "up")
    ratings.thumb(a, "down")
    assert [r.value for r in ratings.for_prompt("cat", "p1")] == ["down"]
    undone = ratings.undo()
    assert undone is not None and undone.value == "down"
    # The earlier judgement is in force again, and nothing was deleted.
    assert [r.uid for r in ratings.for_prompt("cat", "p1")] == [first.uid]
    kinds = [r.kind for r in ratings.history()]
    assert kinds == ["thumb", "thumb", "retract"]
    assert ratings.undo() is not None
    assert ratings.for_prompt("cat", "p1") == []
    assert ratings.undo() is None


def test_one_raters_undo_leaves_other_raters_alone(store: Store) -> None:
    a, _b, _c = _responses(store)
    Ratings(store, rater="ann").thumb(a, "up")
    Ratings(store, rater="bob").thumb(a, "down")
    Ratings(store, rater="ann").undo()
    assert [(r.rater, r.value) for r in Ratings(store).for_prompt("cat", "p1")] == [("bob", "down")]


def test_rating_carries_over_to_the_same_output_from_a_rerun(store: Store) -> None:
    a, _b, _c = _responses(store)
    Ratings(store, rater="ann").thumb(a, "up")
    rerun = _resp("a", "4")  # same model, params, messages and text: same content hash
    store.save_response(rerun)
    assert rerun.id != a.id and rerun.content_hash == a.content_hash
    shown = Ratings(store, rater="ann").thumb_for(rerun)
    assert shown is not None and shown.value == "up"
    # A different output from the same model does not inherit it.
    assert Ratings(store, rater="ann").thumb_for(_resp("a", "5")) is None


def test_preference_validation_and_supersede_across_side_order(store: Store) -> None:
    a, b, c = _responses(store)
    ratings = Ratings(store, rater="ann")
    with pytest.raises(RatingError):
        ratings.prefer(a, c, "a")  # different prompts
    with pytest.raises(RatingError, match=r"one answer .* nothing to prefer between an answer"):
        ratings.prefer(a, a, "a")  # a person reads why in the TUI's "not rated" notice
    with pytest.raises(RatingError):
        ratings.prefer(a, b, "maybe")  # type: ignore[arg-type]
    with pytest.raises(RatingError):
        ratings.thumb(a, "sideways")  # type: ignore[arg-type]
    ratings.prefer(a, b, "a")
    ratings.prefer(b, a, "tie")  # same pair shown the other way round supersedes
    cur = ratings.for_prompt("cat", "p1")
    assert [(r.kind, r.value, r.model_alias) for r in cur] == [("pair", "tie", "b")]
    row = store.query("SELECT canon_value FROM ratings_current")[0]
    assert row["canon_value"] == "tie"


def test_comment_attaches_without_changing_the_judgement(store: Store) -> None:
    a, _b, _c = _responses(store)
    ratings = Ratings(store, rater="ann")
    r = ratings.thumb(a, "down")
    got = ratings.comment(r.uid, "wrong: says 5 ☃\u2028")
    assert got.comment == "wrong: says 5 ☃\u2028" and got.value == "down"
    with pytest.raises(RatingError):
        ratings.comment("nope", "x")


def test_rater_resolution_order(monkeypatch: pytest.MonkeyPatch, isolated_home: Path) -> None:
    import getpass

    monkeypatch.setattr(getpass, "getuser", lambda: "osuser")
    assert resolve_rater() == "osuser"
    cfg = isolated_home / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text('rater = "from-config"\n')
    assert resolve_rater() == "from-config"
    monkeypatch.setenv("GENAICOMPARE_RATER", "from-env")
    assert resolve_rater() == "from-env"
    assert resolve_rater("explicit") == "explicit"


def test_import_is_idempotent_and_keeps_retractions(store: Store, tmp_path: Path) -> None:
    a, b, _c = _responses(store)
    src = Ratings(store, rater="ann")
    src.thumb(a, "up")
    src.thumb(b, "down")
    src.prefer(a, b, "b")
    src.undo()  # retracts the preference
    dump = tmp_path / "ann.jsonl"
    dump.write_text("\n".join(src.export_jsonl()) + "\n", encoding="utf-8")

    with Store(tmp_path / "other.db") as other:
        rec = _resp("a", "4")
        other.save_response(rec)  # only one of the answers exists here
        dst = Ratings(other, rater="bob")
        first = dst.import_jsonl(dump)
        assert (first.read, first.added, first.skipped) == (4, 4, 0)
        before = other.query("SELECT * FROM ratings ORDER BY uid")
        second = dst.import_jsonl(dump)
        assert (second.added, second.skipped) == (0, 4)
        assert other.query("SELECT * FROM ratings ORDER BY uid") == before
        cur = dst.current()
        assert sorted((r.rater, r.kind, r.value) for r in cur) == [
            ("ann", "thumb", "down"),
            ("ann", "thumb", "up"),
        ]
        # Re-linked to the local copy of the answer by content hash; the other counts by hash.
        linked = {r.content_hash: r.response_id for r in cur}
        assert linked[a.content_hash] == rec.id and linked[b.content_hash] is None
        assert dst.thumb_for(rec, rater="ann").value == "up"  # type: ignore[union-attr]


def test_import_rejects_garbage_with_a_position(store: Store, tmp_path: Path) -> None:
    from genaicompare.core.errors import UserError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "thumb"}\nnot json\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"bad.jsonl:1:1"):
        Ratings(store).import_jsonl(bad)
    bad.write_text(
        json.dumps(
            {
                "uid": "u",
                "kind": "thumb",
                "rater": "x",
                "prompt_id": "p",
                "value": "meh",
                "content_hash": "h",
                "created_at": "t",
            }
        )
    )
    with pytest.raises(UserError, match="bad value"):
        Ratings(store).import_jsonl(bad)
    assert store.query("SELECT count(*) AS n FROM ratings")[0]["n"] == 0


AGG_TABLES = (
    "ratings_current",
    "agg_thumb_cells",
    "agg_thumb_items",
    "agg_thumb_battles",
    "agg_rater_pairs",
)


def derived_state(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every derived table, without all-zero totals (a removed rating leaves a zero row)."""
    out = {}
    for t in AGG_TABLES:
        rows = conn.execute(f"SELECT * FROM {t}").fetchall()
        if t != "ratings_current":
            rows = [r for r in rows if any(isinstance(v, int) and v for v in r)]
        out[t] = sorted(rows, key=repr)
    return out


def rebuilt_state(path: Path) -> dict[str, list[tuple]]:
    from genaicompare.ratings import rebuild_current

    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    rebuild_current(conn)
    state = derived_state(conn)
    conn.execute("ROLLBACK")
    conn.close()
    return state


def test_running_totals_equal_a_rebuild_after_random_operations(tmp_path: Path) -> None:
    import random

    rng = random.Random(5)
    with Store(tmp_path / "agg.db") as store:
        cat = Catalog.model_validate(
            {"name": "c", "prompts": [{"id": "p1", "prompt": "x"}, {"id": "p2", "prompt": "y"}]}
        )
        cid = store.record_catalog(cat)
        recs = []
        for p in ("p1", "p2"):
            for alias in ("a", "b", "c"):
                for text in ("one", "two"):  # two outputs per model: several thumbs per model
                    rec = _resp(alias, f"{alias}-{p}-{text}", p)
                    store.save_response(rec, catalog_id=cid)
                    recs.append(rec)
        raters = [Ratings(store, rater=n) for n in ("ann", "bob", "cy")]
        checks = 0
        for step in range(300):
            r = rng.choice(raters)
            roll = rng.random()
            if roll < 0.5:
                r.thumb(rng.choice(recs), rng.choice(["up", "down"]))
            elif roll < 0.8:
                p = rng.choice(["p1", "p2"])
                a, b = rng.sample([x for x in recs if x.prompt_id == p], 2)
                if a.content_hash != b.content_hash:
                    r.prefer(a, b, rng.choice(["a", "b", "tie", "both_bad"]))
            else:
                r.undo()
            if step % 50 == 49:
                assert derived_state(store.conn) == rebuilt_state(store.path)
                checks += 1
        assert checks == 6
        assert store.query("SELECT sum(n) AS n FROM agg_rater_pairs")[0]["n"] > 0
        assert store.query("SELECT sum(ties + a_wins) AS n FROM agg_thumb_battles")[0]["n"] > 0
