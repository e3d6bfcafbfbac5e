"""Exports read the database in batches (issue 17: a million stored answers in constant memory).

The lines a user gets must not depend on where a batch ends: an A/B vote, a best-of-N pick, a
rubric score or a correction whose answers fall in different batches is found from each side,
duplicates of one output (a re-run) stay one line, and the export's record names the same
answers. Every format is written with batches of 1, 2 and 3 answers and compared, byte for byte,
with one batch holding everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import ExportFilters, answers, export
from genaicompare.ratings import Ratings
from genaicompare.ratings.model import Rating
from genaicompare.store import Store
from tests.unit.exports.test_training_pairs import CATALOG, _lines, db  # noqa: F401

FORMATS = [("rated", False), ("sft", False), ("kto", False), ("dpo", False), ("dpo", True)]


@pytest.fixture
def busy(db: Store) -> Store:  # noqa: F811
    """The training fixture, plus a second run replaying every answer (same outputs), a
    best-of-N pick, rubric scores, a correction and more thumbs, from two raters."""
    recs = db.recs  # type: ignore[attr-defined]
    cat = Catalog.model_validate(CATALOG)
    cid = db.query("SELECT id FROM catalogs")[0]["id"]
    run = db.start_run(cid, cat, "headless")
    for rec in list(recs.values()):
        again = ResponseRecord(
            prompt_id=rec.prompt_id,
            model_alias=rec.model_alias,
            model=rec.model,
            params=rec.params,
            messages=rec.messages,
            template_hash=rec.template_hash,
            text=rec.text,
            state=FinishState.complete,
        )
        db.save_response(again, run_id=run, catalog_id=cid)
    bob = Ratings(db, rater="bob")
    bob.best(recs[("hot", "capital")], [recs[("terse", "capital")], recs[("friendly", "capital")]])
    bob.thumb(recs[("terse", "capital")], "up")
    bob.thumb(recs[("hot", "capital")], "down")
    bob.rubric(recs[("friendly", "apples")], "accuracy", "4", ["1", "2", "3", "4", "5"])
    bob.correct(recs[("hot", "capital")], "Canberra (not Sydney)")
    Ratings(db, rater="ann").thumb(recs[("terse", "capital")], "up")
    return db


def _export(store: Store, tmp_path: Path, fmt: str, openai: bool, name: str) -> tuple:
    out = tmp_path / f"{name}.jsonl"
    result = export(store, "quickstart", fmt, out, openai=openai)
    row = store.query(
        "SELECT response_ids, prompt_ids, raters, lines FROM exports WHERE id = ?",
        [result.export_id],
    )[0]
    return out.read_bytes(), result.lines, dict(result.skipped), row


@pytest.mark.parametrize(("fmt", "openai"), FORMATS)
def test_the_lines_do_not_depend_on_where_a_batch_ends(
    busy: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, openai: bool
) -> None:
    whole = _export(busy, tmp_path, fmt, openai, "whole")
    assert whole[1] > 0, "nothing exported: the comparison would be empty"
    for size in (1, 2, 3):
        monkeypatch.setattr(answers, "_BATCH", size)
        assert _export(busy, tmp_path, fmt, openai, f"b{size}") == whole, f"batch of {size}"


def test_the_rated_lines_carry_every_rating_once_across_batches(
    busy: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(answers, "_BATCH", 1)
    out = tmp_path / "rated.jsonl"
    export(busy, "quickstart", "rated", out)
    header, *lines = _lines(out)
    # Six distinct outputs, twelve stored answers: one line each.
    assert len(lines) == 6
    assert [m["id"] for m in header["models"]] == ["terse", "hot", "friendly"]
    # Each rating in force appears on the lines of the answers it concerns, and only there.
    in_force = Ratings(busy, rater="-").current("r.catalog_name = 'quickstart'")
    by_uid: dict[str, Rating] = {r.uid: r for r in in_force}
    seen: dict[str, int] = {}
    for line in lines:
        for uid in _uids(line):
            seen[uid] = seen.get(uid, 0) + 1
    expected = {}
    for r in by_uid.values():
        sides = 1 + (r.other_content_hash is not None) + len(r.others or [])
        expected[r.uid] = sides
    assert seen == expected


def _uids(line: dict) -> list[str]:
    rated = line["rated"]
    keys = ("ratings", "preferences", "rubric_ratings", "corrections")
    return [e["uid"] for key in keys for e in rated.get(key) or []]


def test_filters_choose_in_the_database(busy: Store, tmp_path: Path) -> None:
    out = tmp_path / "f.jsonl"
    result = export(busy, "quickstart", "rated", out, filters=ExportFilters(models=["hot"]))
    _, *lines = _lines(out)
    assert result.lines == len(lines) == 2
    assert {line["rated"]["model_alias"] for line in lines} == {"hot"}
