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
