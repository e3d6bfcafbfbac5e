"""``--fail-on`` rules, each triggered and not triggered, on real stored runs; repeats; run diffs."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.regression import (
    RuleError,
    Similarity,
    add_consistency,
    apply_baseline,
    baseline_from_model,
    baseline_from_run,
    build_cases,
    diff_runs,
    evaluate_rules,
    lexical_similarity,
    model_stats,
    parse_rule,
    parse_rules,
    percentile,
    word_diff,
)
from genaicompare.ratings import Ratings
from genaicompare.store import Store

LEXICAL = Similarity(lexical_similarity, "lexical")


def rec(pid: str, alias: str, text: str, **kw) -> ResponseRecord:
    return ResponseRecord(
        prompt_id=pid,
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": pid}],
        text=text,
        state=kw.pop("state", FinishState.complete),
        **kw,
    )


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "r.db")
    yield s
    s.close()


def stored_run(store: Store, records: list[ResponseRecord]) -> int:
    cat = Catalog(name="c", prompts=[{"id": "x", "prompt": "x"}])
    run_id = store.start_run(store.record_catalog(cat), cat, "headless")
    for r in records:
        store.save_response(r, run_id)
    store.finish_run(run_id)
    return run_id


def judge(cands: list[ResponseRecord], base: list[ResponseRecord], rule: str, store=None):
    cases = build_cases(cands, {}, {})
    stats = model_stats(cases)
    apply_baseline(stats, cases, baseline_from_run(base, list(stats), 1), LEXICAL, store)
    (result,) = evaluate_rules(parse_rules([rule]), stats.values())
    return result


# ------------------------------------------------------------------ parsing


def test_rule_syntax() -> None:
    r = parse_rule("assert_pass_rate < 90%")
    assert (r.name, r.op, r.threshold) == ("assert_pass_rate", "<", 0.9)
    assert parse_rule("cost_increase>20%").threshold == 20
    assert parse_rule("mean:rougeL <= 0.3").name == "mean:rougeL"
    assert len(parse_rules(["error_rate > 0, p95_latency_increase > 20%", "consistency<0.5"])) == 3
    for bad in ("assert_pass_rate", "x < 1", "assert_pass_rate < high", "error_rate =< 1"):
        with pytest.raises(RuleError):
            parse_rule(bad)


def test_percentile_matches_numpy() -> None:
    np = pytest.importorskip("numpy")
    xs = [5.0, 1.0, 9.0, 3.0, 7.5, 2.25]
    assert percentile(xs, 95) == pytest.approx(float(np.percentile(xs, 95)))
    assert percentile([], 95) is None


# ------------------------------------------------------------------ each rule, both ways


def test_assertion_rules() -> None:
    recs = [rec("a", "m", "Paris is nice"), rec("b", "m", "no idea"), rec("c", "m", "Paris")]
    specs = {"a": {"contains": "Paris"}, "b": {"contains": "Paris"}, "c": {"contains": "Paris"}}
    stats = model_stats(build_cases(recs, specs, {}))
    assert stats["m"].assert_pass_rate == pytest.approx(2 / 3)
    results = evaluate_rules(
        parse_rules(["assert_pass_rate < 0.9", "assert_pass_rate < 0.5", "assert_failures > 0"]),
        stats.values(),
    )
    assert [r.triggered for r in results] == [True, False, True]
    passing = model_stats(build_cases(recs[:1], specs, {}))
    assert not evaluate_rules(parse_rules(["assert_failures > 0"]), passing.values())[0].triggered


def test_unanswered_case_is_an_error_not_an_assertion_failure() -> None:
    recs = [rec("a", "m", "", state=FinishState.timeout), rec("b", "m", "Paris")]
    cases = build_cases(recs, {"a": {"contains": "Paris"}, "b": {"contains": "Paris"}}, {})
    stats = model_stats(cases)["m"]
    assert cases[0].errored and not cases[0].passed
    assert (stats.asserted_cases, stats.failed_cases, stats.errors) == (1, 0, 1)
    assert stats.value("error_rate") == 0.5


def test_baseline_similarity_rule() -> None:
    base = [rec("a", "m", "the cat sat on the mat"), rec("b", "m", "dogs bark loudly")]
    same = [rec("a", "m", "the cat sat on the mat"), rec("b", "m", "dogs bark loudly")]
    drifted = [rec("a", "m", "completely different words"), rec("b", "m", "dogs bark loudly")]
    assert not judge(same, base, "baseline_similarity < 0.8").triggered
    r = judge(drifted, base, "baseline_similarity < 0.8")
    assert r.triggered and r.value == pytest.approx(0.5)


def test_cost_and_latency_rules() -> None:
    base = [rec(p, "m", "x", cost_usd=0.01, latency_ms=100.0) for p in "abcd"]
    cheap = [rec(p, "m", "x", cost_usd=0.011, latency_ms=110.0) for p in "abcd"]
    dear = [rec(p, "m", "x", cost_usd=0.013, latency_ms=130.0) for p in "abcd"]
    assert not judge(cheap, base, "cost_increase > 20%").triggered
    assert judge(dear, base, "cost_increase > 20%").value == pytest.approx(30)
    assert judge(dear, base, "cost_increase > 20%").triggered
    assert not judge(cheap, base, "p95_latency_increase > 20%").triggered
    assert judge(dear, base, "p95_latency_increase > 20%").triggered
    unknown = [rec(p, "m", "x", cost_usd=None) for p in "abcd"]
    r = judge(unknown, base, "cost_increase > 20%")
    assert r.value is None and not r.triggered and "not evaluated" in r.describe()


def test_thumbs_up_drop_rule(store: Store) -> None:
    base = [rec(p, "m", f"good answer {p}") for p in "abcd"]
    stored_run(store, base)
    ratings = Ratings(store, rater="alice")
    for r in base:
        ratings.thumb(r, "up")
    # Same outputs again: ratings carry over by content hash → no drop.
    same = [rec(p, "m", f"good answer {p}") for p in "abcd"]
    stored_run(store, same)
    r = judge(same, base, "thumbs_up_drop > 10", store)
    assert r.value == 0 and not r.triggered
    # New outputs, rated: 2 up, 2 down → 50 points down.
    new = [rec(p, "m", f"new answer {p}") for p in "abcd"]
    stored_run(store, new)
    for r_, v in zip(new, ["up", "down", "down", "up"], strict=True):
        ratings.thumb(r_, v)
    r = judge(new, base, "thumbs_up_drop > 10", store)
    assert r.value == pytest.approx(50) and r.triggered
    # Unrated outputs: the rule is not evaluated (never fails for lack of ratings).
    unrated = [rec(p, "m", f"other {p}") for p in "abcd"]
    r = judge(unrated, base, "thumbs_up_drop > 10", store)
    assert r.value is None and not r.triggered


def test_metric_mean_rule() -> None:
    recs = [rec("a", "m", "x"), rec("b", "m", "y")]
    recs[0].id, recs[1].id = 1, 2
    metrics = {1: {"rougeL": 0.2}, 2: {"rougeL": {"value": 0.3}}}
    stats = model_stats(build_cases(recs, {}, metrics), metrics)
    hit, miss = evaluate_rules(
        parse_rules(["mean:rougeL < 0.3", "mean:rougeL < 0.2"]), stats.values()
    )
    assert hit.value == pytest.approx(0.25) and hit.triggered and not miss.triggered


def test_baseline_by_model_alias() -> None:
    recs = [rec("a", "old", "same words here"), rec("a", "new", "same words here")]
    cases = build_cases(recs, {}, {})
    stats = model_stats(cases)
    cand = {"new": stats["new"]}
    apply_baseline(
        cand,
        [c for c in cases if c.model_alias == "new"],
        baseline_from_model(recs, "old", ["new"]),
        LEXICAL,
    )
    assert cand["new"].baseline_similarity == 1.0 and cand["new"].baseline == "model old"


# ------------------------------------------------------------------ repeats


def test_repeat_collapse_consistency_and_pass_at_k() -> None:
    samples = [
        rec("a", "m", "Paris", sample_index=0),
        rec("a", "m", "Paris", sample_index=1),
        rec("a", "m", "Lyon", sample_index=2),
        rec("b", "m", "Lyon", sample_index=0),
        rec("b", "m", "Lyon", sample_index=1),
        rec("b", "m", "Lyon", sample_index=2),
    ]
    cases = build_cases(samples, {"a": {"contains": "Paris"}, "b": {"contains": "Paris"}}, {})
    add_consistency(cases, LEXICAL)
    a, b = cases
    assert a.distinct_outputs() == [("Paris", 2), ("Lyon", 1)]
    assert (a.pass_at_k, a.pass_hat_k) == (1.0, 0.0)
    assert (b.pass_at_k, b.pass_hat_k) == (0.0, 0.0)
    assert a.consistency == pytest.approx(1 / 3) and b.consistency == 1.0
    stats = model_stats(cases)["m"]
    assert (stats.pass_at_k, stats.pass_hat_k) == (0.5, 0.0)
    hit, miss = evaluate_rules(parse_rules(["pass_at_k < 0.6", "consistency < 0.5"]), [stats])
    assert hit.triggered and not miss.triggered


def test_resumed_rows_latest_wins() -> None:
    first = rec("a", "m", "", state=FinishState.cancelled, id=1)
    again = rec("a", "m", "done", id=5)
    (case,) = build_cases([first, again], {}, {})
    assert [s.text for s in case.samples] == ["done"]


# ------------------------------------------------------------------ diff


def test_diff_orders_previously_approved_changes_first(store: Store) -> None:
    a = [
        rec("p1", "m", "same text"),
        rec("p2", "m", "one two three four"),
        rec("p3", "m", "approved answer"),
    ]
    run_a = stored_run(store, a)
    Ratings(store, rater="r").thumb(a[2], "up")
    b = [
        rec("p1", "m", "same text"),
        rec("p2", "m", "five six seven"),
        rec("p3", "m", "approved answer, changed"),
    ]
    run_b = stored_run(store, b)
    rows = diff_runs(store, run_a, run_b, LEXICAL)
    assert [r.prompt_id for r in rows] == ["p3", "p2", "p1"]
    assert rows[0].thumbs_up_before and rows[0].changed
    assert rows[2].similarity == 1.0 and not rows[2].changed


def test_word_diff() -> None:
    segs = word_diff("the quick brown fox", "the slow brown dog")
    assert ("-", "quick") in segs and ("+", "slow") in segs and ("+", "dog") in segs
    assert "".join(t for op, t in segs if op != "+") == "the quick brown fox"
    assert "".join(t for op, t in segs if op != "-") == "the slow brown dog"
