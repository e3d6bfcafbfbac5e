"""Test cases: grouping, unanswered answers, repeats (pass@k, consistency), resumed rows."""

from __future__ import annotations

import pytest

from genaicompare.core.records import FinishState
from genaicompare.gate.cases import add_consistency, build_cases, model_stats, percentile
from genaicompare.gate.rules import evaluate_rules, parse_rules
from tests.unit.gate.support import LEXICAL, rec


def test_percentile_matches_numpy() -> None:
    np = pytest.importorskip("numpy")
    xs = [5.0, 1.0, 9.0, 3.0, 7.5, 2.25]
    assert percentile(xs, 95) == pytest.approx(float(np.percentile(xs, 95)))
    assert percentile([], 95) is None


def test_unanswered_case_is_an_error_not_an_assertion_failure() -> None:
    recs = [rec("a", "m", "", state=FinishState.timeout), rec("b", "m", "Paris")]
    cases = build_cases(recs, {"a": {"contains": "Paris"}, "b": {"contains": "Paris"}}, {})
    stats = model_stats(cases)["m"]
    assert cases[0].errored and not cases[0].passed
    assert (stats.asserted_cases, stats.failed_cases, stats.errors) == (1, 0, 1)
    assert stats.value("error_rate") == 0.5


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
