"""Run diffs on real stored runs, and the word diff."""

from __future__ import annotations

from genaicompare.gate.run_diff import diff_runs, word_diff
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.unit.gate.support import LEXICAL, rec, stored_run


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


def test_metric_order_puts_reference_metrics_first_and_ops_last() -> None:
    from genaicompare.gate.run_diff import metric_order

    names = ["latency_ms", "chars", "bleu", "toxicity", "rougeL", "judge_score", "cost_usd"]
    assert metric_order(names) == [
        "judge_score",
        "rougeL",
        "bleu",
        "toxicity",
        "chars",
        "cost_usd",
        "latency_ms",
    ]


def test_lower_latency_and_cost_are_improvements_not_drops(store: Store) -> None:
    a, b = [rec("p1", "m", "same words")], [rec("p1", "m", "other words")]
    run_a, run_b = stored_run(store, a), stored_run(store, b)
    ra, rb = store.run_responses(run_a)[0], store.run_responses(run_b)[0]
    assert ra.id and rb.id
    store.save_metrics(ra.id, {"latency_ms": (900.0, None, "1"), "cost_usd": (0.02, None, "1")})
    store.save_metrics(rb.id, {"latency_ms": (300.0, None, "1"), "cost_usd": (0.01, None, "1")})
    (row,) = diff_runs(store, run_a, run_b, LEXICAL)
    assert row.metric_drops == {}
    assert {n: v for n, _a, _b, v in row.changes()} == {
        "cost_usd": "better",
        "latency_ms": "better",
    }
