"""``--fail-on`` rules, each triggered and not triggered, on real stored runs."""

from __future__ import annotations

import pytest

from genaicompare.gate.cases import build_cases, model_stats
from genaicompare.gate.rules import RuleError, evaluate_rules, parse_rule, parse_rules
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.unit.gate.support import rec, rule_against_baseline, stored_run


def test_rule_syntax() -> None:
    r = parse_rule("assert_pass_rate < 90%")
    assert (r.name, r.op, r.threshold) == ("assert_pass_rate", "<", 0.9)
    assert parse_rule("cost_increase>20%").threshold == 20
    assert parse_rule("mean:rougeL <= 0.3").name == "mean:rougeL"
    assert len(parse_rules(["error_rate > 0, p95_latency_increase > 20%", "consistency<0.5"])) == 3
    for bad in ("assert_pass_rate", "x < 1", "assert_pass_rate < high", "error_rate =< 1"):
        with pytest.raises(RuleError):
            parse_rule(bad)


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


def test_baseline_similarity_rule() -> None:
    base = [rec("a", "m", "the cat sat on the mat"), rec("b", "m", "dogs bark loudly")]
    same = [rec("a", "m", "the cat sat on the mat"), rec("b", "m", "dogs bark loudly")]
    drifted = [rec("a", "m", "completely different words"), rec("b", "m", "dogs bark loudly")]
    assert not rule_against_baseline(same, base, "baseline_similarity < 0.8").triggered
    r = rule_against_baseline(drifted, base, "baseline_similarity < 0.8")
    assert r.triggered and r.value == pytest.approx(0.5)


def test_cost_and_latency_rules() -> None:
    base = [rec(p, "m", "x", cost_usd=0.01, latency_ms=100.0) for p in "abcd"]
    cheap = [rec(p, "m", "x", cost_usd=0.011, latency_ms=110.0) for p in "abcd"]
    dear = [rec(p, "m", "x", cost_usd=0.013, latency_ms=130.0) for p in "abcd"]
    assert not rule_against_baseline(cheap, base, "cost_increase > 20%").triggered
    assert rule_against_baseline(dear, base, "cost_increase > 20%").value == pytest.approx(30)
    assert rule_against_baseline(dear, base, "cost_increase > 20%").triggered
    assert not rule_against_baseline(cheap, base, "p95_latency_increase > 20%").triggered
    assert rule_against_baseline(dear, base, "p95_latency_increase > 20%").triggered
    unknown = [rec(p, "m", "x", cost_usd=None) for p in "abcd"]
    r = rule_against_baseline(unknown, base, "cost_increase > 20%")
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
    r = rule_against_baseline(same, base, "thumbs_up_drop > 10", store)
    assert r.value == 0 and not r.triggered
    # New outputs, rated: 2 up, 2 down → 50 points down.
    new = [rec(p, "m", f"new answer {p}") for p in "abcd"]
    stored_run(store, new)
    for r_, v in zip(new, ["up", "down", "down", "up"], strict=True):
        ratings.thumb(r_, v)
    r = rule_against_baseline(new, base, "thumbs_up_drop > 10", store)
    assert r.value == pytest.approx(50) and r.triggered
    # Unrated outputs: the rule is not evaluated (never fails for lack of ratings).
    unrated = [rec(p, "m", f"other {p}") for p in "abcd"]
    r = rule_against_baseline(unrated, base, "thumbs_up_drop > 10", store)
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
