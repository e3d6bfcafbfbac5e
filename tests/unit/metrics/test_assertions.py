"""The catalog's ``assert`` grammar: pass/fail with reasons; bad specs are user errors."""

from __future__ import annotations

import pytest

from genaicompare.core.errors import UserError
from genaicompare.metrics import (
    AssertionSpecError,
    MetricValue,
    evaluate_assertions,
    is_known_metric,
)

METRICS = {
    "rougeL": MetricValue(0.42, None, "1"),
    "toxicity": MetricValue(0.02, None, "1"),
    "latency_ms": 1830.0,
    "cost_usd": MetricValue(None, {"unknown": True}, "1"),
    "exact_match": {"value": 1.0},  # the store's metrics_for() shape
    "bleu": (31.5, None, "1"),  # the store's save_metrics() tuple shape
}


def run(spec, output="The capital of France is Paris.", **kw):
    return {r.name: r for r in evaluate_assertions(spec, METRICS, output=output, **kw)}


def test_issue_example_passes_with_reasons() -> None:
    res = run(
        {"rougeL": ">= 0.3", "toxicity": "< 0.1", "contains": "Paris", "latency_ms": "< 2000"}
    )
    assert all(r.passed for r in res.values())
    assert res["rougeL"].reason == "rougeL = 0.42 >= 0.3"
    assert res["rougeL"].value == pytest.approx(0.42)
    assert res["latency_ms"].reason == "latency_ms = 1830 < 2000"
    assert res["contains"].reason == "output contains 'Paris'"


@pytest.mark.parametrize(
    ("spec", "passed"),
    [
        ({"rougeL": "> 0.42"}, False),
        ({"rougeL": ">= 0.42"}, True),
        ({"rougeL": "<= 0.41"}, False),
        ({"rougeL": "== 0.42"}, True),
        ({"rougeL": "= 0.42"}, True),
        ({"rougeL": "!= 0.42"}, False),
        ({"rougeL": ">=4.2e-1"}, True),
        ({"exact_match": True}, True),
        ({"exact_match": False}, False),
        ({"bleu": "> 30"}, True),
        ({"contains": "paris"}, False),
        ({"icontains": "paris"}, True),
        ({"not_contains": "Lyon"}, True),
        ({"not_contains": "Paris"}, False),
        ({"regex": r"\bParis\.$"}, True),
        ({"equals": "  The capital of France is Paris.\n"}, True),
    ],
)
def test_operators(spec, passed) -> None:
    (result,) = run(spec).values()
    assert result.passed is passed, result.reason


def test_failure_reason_says_not() -> None:
    assert run({"latency_ms": "< 1000"})["latency_ms"].reason == "latency_ms = 1830 not < 1000"


def test_missing_metric_fails_with_reason_never_passes() -> None:
    res = run(
        {"meteor": ">= 0", "cost_usd": "< 1"},
        missing_reason=lambda n: "not computed (the prompt has no reference)",
    )
    assert not res["meteor"].passed
    assert "no reference" in res["meteor"].reason
    assert not res["cost_usd"].passed


def test_contains_comparison_uses_the_metric() -> None:
    res = evaluate_assertions({"contains": ">= 1"}, {"contains": 1.0}, output="x")
    assert res[0].passed and res[0].reason == "contains = 1 >= 1"


def test_text_check_without_output_fails() -> None:
    res = evaluate_assertions({"contains": "Paris"}, {})
    assert not res[0].passed and "no output" in res[0].reason


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"rougeL": "about 0.3"}, "cannot read 'about 0.3'"),
        ({"rougeL": ">= x"}, "cannot read"),
        ({"rougeL": 0.3}, "a bare number is ambiguous"),
        ({"rougeL": "=> 0.3"}, "cannot read"),
        ({"rougeL": [1]}, "expected a comparison"),
        ({"regex": "("}, "invalid regular expression"),
        ({"icontains": 3}, "expects text"),
        ({"rogueL": ">= 0.3"}, "unknown metric"),
        ("rougeL >= 0.3", "expected a mapping"),
    ],
)
def test_bad_specs_are_clear_user_errors(spec, message) -> None:
    with pytest.raises(AssertionSpecError, match=message) as info:
        evaluate_assertions(spec, METRICS, output="x", known=is_known_metric)
    assert isinstance(info.value, UserError)


def test_known_metric_names() -> None:
    assert is_known_metric("rougeL") and is_known_metric("similarity_to:gpt")
    assert is_known_metric("prompt_toxicity") and is_known_metric("profanity")
    assert not is_known_metric("rogueL") and not is_known_metric("similarity_to:")
