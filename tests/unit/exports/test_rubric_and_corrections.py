"""Rubric scores and corrections (issue 16) as a user gets them: the rows in SQLite, the rated,
SFT and DPO lines, and ``scores --json``'s ``rubric`` key against statsmodels' Wilson interval
and a numpy percentile bootstrap."""

from __future__ import annotations

import argparse
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from genaicompare.catalog.loader import load_catalog
from genaicompare.catalog.model import CatalogError, RubricCriterion
from genaicompare.exports import export
from genaicompare.ratings import RatingError, Ratings
from genaicompare.store import Store
from tests.unit.exports.test_training_pairs import _lines, db  # noqa: F401  (the fixture)

SCALE = RubricCriterion(name="accuracy", scale="1-5").values
PASS_FAIL = RubricCriterion(name="tone", scale="pass-fail").values


def test_catalog_rubric_and_positioned_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "name: rb\nrubric:\n  - {name: accuracy, scale: 1-5}\n  - {name: tone, scale: pass-fail}\n"
        "prompts:\n  - {id: p1, prompt: hi}\n"
    )
    cat = load_catalog(good)
    assert [(c.name, c.values) for c in cat.rubric] == [
        ("accuracy", ("1", "2", "3", "4", "5")),
        ("tone", ("pass", "fail")),
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: rb\nrubric:\n  - {name: accuracy, scale: 1-5}\n  - name: tone\n    scale: 1-x\n"
        "prompts:\n  - {id: p1, prompt: hi}\n"
    )
    with pytest.raises(CatalogError) as e:
        load_catalog(bad)
    assert str(e.value).startswith(f"{bad}:5:12: rubric.1.scale: scale must be LOW-HIGH")
    dup = tmp_path / "dup.yaml"
    dup.write_text(
        "name: rb\nrubric:\n  - {name: accuracy}\n  - {name: accuracy, scale: pass-fail}\n"
        "prompts:\n  - {id: p1, prompt: hi}\n"
    )
    with pytest.raises(CatalogError, match=r"dup.yaml:4:.*rubric.1.name: duplicate criterion"):
        load_catalog(dup)


def test_rubric_rows_replace_per_criterion_and_undo(db: Store) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    eve = Ratings(db, rater="eve")
    eve.rubric(recs[("hot", "capital")], "accuracy", "2", SCALE, catalog_name="quickstart")
    eve.rubric(recs[("hot", "capital")], "accuracy", "4", SCALE, catalog_name="quickstart")
    eve.rubric(recs[("hot", "capital")], "tone", "pass", PASS_FAIL, catalog_name="quickstart")
    with pytest.raises(RatingError, match="accuracy must be one of 1, 2, 3, 4, 5"):
        eve.rubric(recs[("hot", "capital")], "accuracy", "9", SCALE)
    rows = db.query(
        "SELECT kind, value, item FROM ratings WHERE rater = 'eve' ORDER BY id",
    )
    h = recs[("hot", "capital")].content_hash
    assert [(r["kind"], r["value"], r["item"]) for r in rows] == [
        ("rubric", "2", f"rubric:{h}:accuracy"),
        ("rubric", "4", f"rubric:{h}:accuracy"),
        ("rubric", "pass", f"rubric:{h}:tone"),
    ]
    now = {(r.criterion, r.value) for r in eve.current("r.rater = 'eve'")}
    assert now == {("accuracy", "4"), ("tone", "pass")}
    eve.undo()
    assert {(r.criterion, r.value) for r in eve.current("r.rater = 'eve'")} == {("accuracy", "4")}
    # Rubric scores are not votes: no κ categories, no battles.
    assert db.query("SELECT count(*) AS n FROM agg_rater_pairs WHERE cat_a = '4'")[0]["n"] == 0


def test_rated_sft_dpo_lines_carry_rubric_and_corrections(db: Store, tmp_path: Path) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    for who, score in (("eve", "4"), ("fay", "5")):
        Ratings(db, rater=who).rubric(
            recs[("hot", "capital")], "accuracy", score, SCALE, catalog_name="quickstart"
        )
    Ratings(db, rater="eve").rubric(
        recs[("hot", "capital")], "tone", "fail", PASS_FAIL, catalog_name="quickstart"
    )
    fixed = Ratings(db, rater="eve").correct(
        recs[("hot", "capital")], "Canberra, not Sydney.", catalog_name="quickstart"
    )
    assert db.query("SELECT kind, value FROM ratings WHERE uid = ?", [fixed.uid])[0] == {
        "kind": "correction",
        "value": "Canberra, not Sydney.",
    }
    with pytest.raises(RatingError, match="unchanged"):
        Ratings(db, rater="eve").correct(recs[("hot", "capital")], "Sydney")
    export(db, "quickstart", "rated", tmp_path / "r.jsonl")
    lines = _lines(tmp_path / "r.jsonl")
    hot = [
        x for x in lines[1:] if x["rated"]["content_hash"] == recs[("hot", "capital")].content_hash
    ]
    assert hot[0]["rated"]["rubric"] == {"accuracy": [4, 5], "tone": ["fail"]}
    assert [c["value"] for c in hot[0]["rated"]["corrections"]] == ["Canberra, not Sydney."]
    others = [x for x in lines[1:] if x is not hot[0]]
    assert all("rubric" not in x["rated"] and "corrections" not in x["rated"] for x in others)
    # The rated file imports its rubric scores and corrections into another database.
    with Store(tmp_path / "fresh.db") as fresh:
        assert Ratings(fresh).import_jsonl(tmp_path / "r.jsonl").added > 0
        kinds = [r["kind"] for r in fresh.query("SELECT kind FROM ratings ORDER BY kind")]
        assert kinds.count("rubric") == 3 and kinds.count("correction") == 1

    export(db, "quickstart", "sft", tmp_path / "s.jsonl")
    sft = _lines(tmp_path / "s.jsonl")
    msgs = recs[("hot", "capital")].messages
    assert {"messages": [*msgs, {"role": "assistant", "content": "Canberra, not Sydney."}]} in sft
    export(db, "quickstart", "dpo", tmp_path / "d.jsonl")
    dpo = _lines(tmp_path / "d.jsonl")
    assert {
        "prompt": msgs,
        "chosen": [{"role": "assistant", "content": "Canberra, not Sydney."}],
        "rejected": [{"role": "assistant", "content": "Sydney"}],
    } in dpo
    export(db, "quickstart", "kto", tmp_path / "k.jsonl")
    assert "Canberra, not Sydney." not in (tmp_path / "k.jsonl").read_text()


def _scores_json(store: Store) -> dict:
    from genaicompare.commands import scores

    args = argparse.Namespace(
        catalog="quickstart",
        db=str(store.path),
        by=None,
        json=True,
        rounds=1000,
        seed=0,
        min_battles=10,
        method="map",
    )
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert scores.main(args) == 0
    return json.loads(buf.getvalue())


def test_scores_json_rubric_matches_wilson_and_bootstrap(db: Store) -> None:  # noqa: F811
    recs = db.recs  # type: ignore[attr-defined]
    accuracy = ["4", "5", "3", "5", "4", "2"]
    tone = ["pass", "pass", "fail", "pass", "pass", "fail"]
    for i, (a, t) in enumerate(zip(accuracy, tone, strict=True)):
        r = Ratings(db, rater=f"r{i}")
        r.rubric(recs[("hot", "capital")], "accuracy", a, SCALE, catalog_name="quickstart")
        r.rubric(recs[("hot", "capital")], "tone", t, PASS_FAIL, catalog_name="quickstart")
    Ratings(db, rater="r0").rubric(
        recs[("terse", "capital")], "accuracy", "5", SCALE, catalog_name="quickstart"
    )
    doc = _scores_json(db)
    by = {c["criterion"]: c for c in doc["rubric"]["criteria"]}
    assert by["tone"]["kind"] == "pass-fail" and by["accuracy"]["kind"] == "scale"
    (hot_tone,) = by["tone"]["models"]
    lo, hi = proportion_confint(4, 6, alpha=0.05, method="wilson")
    assert hot_tone["n"] == 6 and hot_tone["pass_rate"] == pytest.approx(4 / 6)
    assert (hot_tone["lower"], hot_tone["upper"]) == pytest.approx((lo, hi), abs=1e-9)
    hot_acc, terse_acc = by["accuracy"]["models"]
    v = np.array([float(x) for x in accuracy])
    rng = np.random.default_rng(0)
    means = v[rng.integers(0, v.size, size=(1000, v.size))].mean(axis=1)
    ref_lo, ref_hi = np.quantile(means, [0.025, 0.975])
    assert hot_acc["model"] == "hot" and hot_acc["n"] == 6 and hot_acc["enough"]
    assert hot_acc["mean"] == pytest.approx(v.mean())
    assert (hot_acc["lower"], hot_acc["upper"]) == pytest.approx((ref_lo, ref_hi))
    assert terse_acc["n"] == 1 and not terse_acc["enough"]


def test_scores_table_has_a_rubric_section_with_n_too_small(db: Store) -> None:  # noqa: F811
    from rich.console import Console

    from genaicompare.commands.scores import section_rubric
    from genaicompare.scoring import compute_scores

    recs = db.recs  # type: ignore[attr-defined]
    for i in range(5):
        Ratings(db, rater=f"r{i}").rubric(
            recs[("hot", "capital")],
            "tone",
            "pass" if i else "fail",
            PASS_FAIL,
            catalog_name="quickstart",
        )
    Ratings(db, rater="r0").rubric(
        recs[("hot", "capital")], "accuracy", "3", SCALE, catalog_name="quickstart"
    )
    out = Console(width=120, record=True, force_terminal=False)
    section_rubric(compute_scores(db, "quickstart"), out)
    text = out.export_text()
    assert "rubric, per criterion" in text
    assert "n too small (n=1)" in text  # accuracy: one score
    assert "80.0% [" in text and "n=5" in text  # tone: 4 of 5 pass
