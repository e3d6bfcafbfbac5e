"""The gate evaluates assertions with genaicompare.metrics.assertions only: its result type, its
grammar. Each test pins one place where the gate's old fallback grammar said otherwise."""

from __future__ import annotations

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.cases import build_cases, check_assert_specs, evaluate_assertions
from genaicompare.metrics import assertions


def rec(text: str, state: FinishState = FinishState.complete) -> ResponseRecord:
    return ResponseRecord(
        prompt_id="p",
        model_alias="m",
        model="openai/m",
        params={},
        messages=[{"role": "user", "content": "p"}],
        text=text,
        state=state,
    )


def prompts(spec: dict[str, object]) -> list[object]:
    return Catalog(name="c", prompts=[{"id": "p", "prompt": "p", "assert": spec}]).prompts


def test_results_are_the_metrics_packages_type() -> None:
    (result,) = evaluate_assertions({"rougeL": ">= 0.3"}, {"rougeL": 0.5}, rec("x"))
    assert type(result) is assertions.AssertionResult
    assert (result.passed, result.value, result.expected) == (True, 0.5, ">= 0.3")
    (case,) = build_cases([rec("x")], {"p": {"rougeL": ">= 0.3"}}, {})
    assert type(case.assertions[0][0]) is assertions.AssertionResult


def test_single_equals_sign_means_equality() -> None:
    # The fallback knew no "=" and failed with "cannot compare".
    (result,) = evaluate_assertions({"rougeL": "= 0.5"}, {"rougeL": 0.5}, rec("x"))
    assert result.passed and result.expected == "== 0.5"


def test_contains_is_case_sensitive_and_icontains_is_not() -> None:
    # The fallback's contains ignored case.
    answer = rec("the capital is paris")
    (contains,) = evaluate_assertions({"contains": "Paris"}, {}, answer)
    (icontains,) = evaluate_assertions({"icontains": "Paris"}, {}, answer)
    (not_contains,) = evaluate_assertions({"not_contains": "Paris"}, {}, answer)
    assert not contains.passed and icontains.passed and not_contains.passed
    # A text check keeps the spec's text as ``expected`` (what the reports show).
    assert contains.expected == "Paris"


def test_a_bare_number_is_rejected_before_any_model_runs() -> None:
    # The fallback read a bare number as equality.
    with pytest.raises(assertions.AssertionSpecError, match="bare number is ambiguous"):
        check_assert_specs(prompts({"rougeL": 1}))


def test_an_unknown_metric_is_rejected_before_any_model_runs() -> None:
    # The fallback accepted any name and failed it later as "not computed".
    with pytest.raises(assertions.AssertionSpecError, match="unknown metric"):
        check_assert_specs(prompts({"no_such_metric": ">= 1"}))


def test_an_unfinished_answer_fails_every_assertion() -> None:
    results = evaluate_assertions(
        {"contains": "Paris", "rougeL": ">= 0.3"}, {}, rec("", FinishState.timeout)
    )
    assert [(r.name, r.passed, r.expected) for r in results] == [
        ("contains", False, "Paris"),
        ("rougeL", False, ">= 0.3"),
    ]
    assert all(r.reason == "no answer (state timeout)" for r in results)
