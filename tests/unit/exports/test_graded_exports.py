"""Graded votes and best-of-N picks in the exports a user gets: DPO lines carry the margin, the
pick becomes one DPO pair per answer it beat, and the rated export keeps strength and picks
(and its older lines, without them, still load and import)."""

from __future__ import annotations

import json
from pathlib import Path

from genaicompare.exports import ExportFilters, export
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.unit.exports.test_training_pairs import _lines, db  # noqa: F401  (the fixture)


def test_dpo_lines_carry_the_margin_of_a_graded_vote(db: Store, tmp_path: Path) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    Ratings(db, rater="bob").prefer(
        recs[("hot", "capital")], recs[("terse", "capital")], "b", strength=2
    )
    export(db, "quickstart", "dpo", tmp_path / "d.jsonl")
    lines = _lines(tmp_path / "d.jsonl")
    assert [
        (x["chosen"][0]["content"], x["rejected"][0]["content"], x.get("margin")) for x in lines
    ] == [
        ("Canberra", "Sydney", 1),  # ann's A>B comes first and makes the pair
    ]
    Ratings(db, rater="ann").prefer(
        recs[("terse", "capital")], recs[("hot", "capital")], "a", strength=2
    )
    export(db, "quickstart", "dpo", tmp_path / "e.jsonl")
    assert [x["margin"] for x in _lines(tmp_path / "e.jsonl")] == [2]
    export(db, "quickstart", "dpo", tmp_path / "o.jsonl", openai=True)
    assert "margin" not in _lines(tmp_path / "o.jsonl")[0]


def test_a_best_pick_is_a_dpo_pair_per_answer_it_beat(db: Store, tmp_path: Path) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    carol = Ratings(db, rater="carol")
    carol.best(
        recs[("hot", "capital")], [recs[("terse", "capital")], recs[("friendly", "capital")]]
    )
    result = export(
        db, "quickstart", "dpo", tmp_path / "d.jsonl", filters=ExportFilters(raters=["carol"])
    )
    lines = _lines(tmp_path / "d.jsonl")
    # hot vs terse share the conversation; hot vs friendly do not (other system prompt): skipped.
    assert [(x["chosen"][0]["content"], x["rejected"][0]["content"]) for x in lines] == [
        ("Sydney", "Canberra")
    ]
    assert "margin" not in lines[0] and result.lines == 1


def test_rated_export_keeps_strength_and_picks_and_imports_them(db: Store, tmp_path: Path) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    dan = Ratings(db, rater="dan")
    dan.prefer(recs[("hot", "capital")], recs[("terse", "capital")], "b", strength=2)
    dan.best(
        recs[("friendly", "apples")],
        [recs[("terse", "apples")], recs[("hot", "apples")]],
        pane_order=["hot", "friendly", "terse"],
    )
    export(db, "quickstart", "rated", tmp_path / "r.jsonl")
    lines = _lines(tmp_path / "r.jsonl")
    prefs = [p for x in lines[1:] for p in x["rated"]["preferences"] if p["rater"] == "dan"]
    strong = [p for p in prefs if p["kind"] == "pair"]
    assert strong and all(p["strength"] == 2 for p in strong)
    picks = [p for p in prefs if p["kind"] == "best"]
    assert len(picks) == 3  # on the pick and on both answers it beat
    assert picks[0]["pane_order"] == ["hot", "friendly", "terse"]
    assert sorted(o["model_alias"] for o in picks[0]["others"]) == ["hot", "terse"]
    # An older rated line: its preferences have no strength. It still imports (as strength 1).
    for x in lines[1:]:
        for p in x["rated"]["preferences"]:
            p.pop("strength", None)
    old = tmp_path / "old.jsonl"
    old.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    with Store(tmp_path / "fresh.db") as fresh:
        assert Ratings(fresh).import_jsonl(tmp_path / "r.jsonl").added > 0
        got = fresh.query("SELECT kind, strength FROM ratings WHERE rater = 'dan' ORDER BY kind")
        assert [(g["kind"], g["strength"]) for g in got] == [("best", None), ("pair", 2)]
    with Store(tmp_path / "older.db") as older:
        assert Ratings(older).import_jsonl(old).added > 0
        assert (
            older.query("SELECT count(*) AS n FROM ratings WHERE strength IS NOT NULL")[0]["n"] == 0
        )
