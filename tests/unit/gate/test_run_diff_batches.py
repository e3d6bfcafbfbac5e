"""The run diff a batch at a time (bounded memory on a million answers, issue 17) gives the rows,
counts and paired figures of the whole runs read at once."""

from __future__ import annotations

import random

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate import run_diff
from genaicompare.gate.cases import build_cases, current_thumbs
from genaicompare.gate.paired import compare_cases, majority_thumbs
from genaicompare.gate.run_diff import diff_report, diff_runs, run_assert_specs, scan_runs
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.unit.gate.support import LEXICAL, rec

N = 14
MODELS = ("old", "new", "third")
ERRORS = {(7, "new", 1), (8, "old", 0)}  # (prompt, model, run): an answer that failed


def _run(store: Store, cat: Catalog, records: list[ResponseRecord]) -> int:
    run_id = store.start_run(store.record_catalog(cat), cat, "headless")
    for r in records:
        store.save_response(r, run_id)
    store.finish_run(run_id)
    return run_id


def _texts(rng: random.Random) -> str:
    return " ".join(rng.choice(["ok", "no", "yes", "maybe", "fine"]) for _ in range(5))


@pytest.fixture
def runs(store: Store) -> tuple[int, int]:
    """Two runs of three models with what a diff meets: repeats (two samples, and a resumed
    sample stored twice), answers in one run only, errors, metrics, thumbs (re-rated,
    retracted, several raters), assertions in run B's catalog."""
    rng = random.Random(11)
    cat = Catalog(
        name="c",
        prompts=[
            {"id": f"p{i}", "prompt": f"q{i}", **({"assert": {"contains": "ok"}} if i % 3 else {})}
            for i in range(N)
        ],
    )
    ids: dict[int, list[ResponseRecord]] = {}
    for side in (0, 1):
        records = []
        for i in range(N):
            for alias in MODELS:
                if (side, i, alias) in {(0, 3, "new"), (1, 5, "old"), (1, 6, "third")}:
                    continue  # in one run only
                samples = 2 if i % 4 == 0 else 1
                for k in range(samples):
                    state = FinishState.error if (i, alias, side) in ERRORS else None
                    extra = {"state": state} if state else {}
                    text = "" if state else _texts(rng)
                    records.append(
                        rec(
                            f"p{i}",
                            alias,
                            text,
                            sample_index=k,
                            latency_ms=100.0 + rng.random() * 50,
                            cost_usd=0.001 * rng.random(),
                            **extra,
                        )
                    )
                if i == 9:  # a resumed sample: stored again, the newer one wins
                    records.append(rec(f"p{i}", alias, _texts(rng), latency_ms=120.0))
        ids[side] = records
    run_a, run_b = _run(store, cat, ids[0]), _run(store, cat, ids[1])
    for run_id in (run_a, run_b):
        for r in store.run_responses(run_id):
            assert r.id
            store.save_metrics(
                r.id,
                {
                    "rougeL": (rng.random(), None, "1"),
                    "toxicity": (rng.random() * 0.1, None, "1"),
                    **({"bleu": (rng.random() * 50, None, "1")} if r.id % 2 else {}),
                },
            )
    raters = [Ratings(store, rater=name) for name in ("ann", "bob", "cy")]
    answers = [r for r in store.run_responses(run_a) + store.run_responses(run_b) if r.ok]
    for r in rng.sample(answers, 40):
        for who in rng.sample(raters, 2):
            who.thumb(r, rng.choice(["up", "down"]))
    for r in rng.sample(answers, 6):
        raters[0].thumb(r, "up")  # a re-rating supersedes the earlier one
    for r in answers:  # "old" rated on both sides of a few prompts: a paired thumbs figure
        if r.model_alias == "old" and r.prompt_id in ("p1", "p2", "p3") and r.sample_index == 0:
            raters[2].thumb(r, rng.choice(["up", "down"]))
    return run_a, run_b


def _paired_at_once(store: Store, run_a: int, run_b: int, rows: list[run_diff.DiffRow]) -> list:
    """The paired figures as the diff computed them before batches: every case of both runs."""
    specs = run_assert_specs(store, run_b)
    records_a, records_b = store.run_responses(run_a), store.run_responses(run_b)
    stored = {**store.metrics_of_run(run_a), **store.metrics_of_run(run_b)}
    metrics = {r.id: stored.get(r.id, {}) for r in [*records_a, *records_b] if r.id is not None}
    cases_a = {(c.prompt_id, c.model_alias): c for c in build_cases(records_a, specs, metrics)}
    cases_b = build_cases(records_b, specs, metrics)
    sims = {(r.prompt_id, r.model_alias): r.similarity for r in rows}
    for c in cases_b:
        c.baseline_similarity = sims.get((c.prompt_id, c.model_alias))
    thumbs = majority_thumbs(current_thumbs(store))
    out = []
    for alias in dict.fromkeys(c.model_alias for c in cases_b):
        pairs = [
            (a, c)
            for c in cases_b
            if c.model_alias == alias
            and (a := cases_a.get((c.prompt_id, alias))) is not None
            and not a.errored
            and not c.errored
        ]
        if pairs:
            out += compare_cases(alias, f"run {run_a}", pairs, metrics, thumbs)
    return out


@pytest.mark.parametrize("batch", [1, 2, 5, 1000])
def test_batches_give_the_rows_and_figures_of_the_whole_runs(
    store: Store, runs: tuple[int, int], batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_a, run_b = runs
    whole = [
        row for part in scan_runs(store, run_a, run_b, LEXICAL, batch=10**6) for row in part.rows
    ]
    parts = list(scan_runs(store, run_a, run_b, LEXICAL, batch=batch))
    assert len(parts) == -(-len(whole) // batch)
    by_key = lambda rows: sorted(rows, key=run_diff.DiffRow.sort_key)  # noqa: E731
    assert by_key(r for p in parts for r in p.rows) == by_key(whole)
    # The fixture holds what the diff must handle: flips, one-sided answers, thumbs, errors.
    assert {r.transition for r in whole} >= {"PASS→FAIL", "FAIL→PASS", None}
    assert any(r.text_a is None for r in whole) and any(r.text_b is None for r in whole)
    assert any(r.thumbs_up_before for r in whole)

    monkeypatch.setattr(run_diff, "_BATCH", batch)
    report = diff_report(store, run_a, run_b, LEXICAL, limit=0, show_unchanged=True)
    expected = _paired_at_once(store, run_a, run_b, whole)
    assert report.paired == expected
    figures = {(f.model, f.figure) for f in report.paired}
    assert {
        ("new", "assert_pass_rate"),
        ("old", "thumbs_up_rate"),
        ("third", "mean:bleu"),
    } <= figures
    assert ("new", "latency_ms") in figures and ("old", "baseline_similarity") in figures
    assert report.rows == by_key(whole) == diff_runs(store, run_a, run_b, LEXICAL)


def test_the_report_counts_every_row_and_keeps_the_most_changed(
    store: Store, runs: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    run_a, run_b = runs
    every = diff_runs(store, run_a, run_b, LEXICAL)
    listed = [r for r in every if r.changed or r.transition]
    monkeypatch.setattr(run_diff, "_BATCH", 3)
    report = diff_report(store, run_a, run_b, LEXICAL, limit=4)
    assert report.rows == listed[:4]
    assert (report.total, report.listed) == (len(every), len(listed))
    assert report.changed == sum(r.changed for r in every) > 4
    assert report.transitions == {
        t: sum(r.transition == t for r in every) for t in ("PASS→FAIL", "FAIL→PASS")
    }
    only = diff_report(store, run_a, run_b, LEXICAL, models=["new"], limit=0)
    assert only.rows == [r for r in listed if r.model_alias == "new"]
    assert {f.model for f in only.paired} == {"new"}
    assert only.paired == [f for f in report.paired if f.model == "new"]
    new = [r for r in every if r.model_alias == "new"]
    assert diff_runs(store, run_a, run_b, LEXICAL, models=["new"]) == new  # diff --tui --model
