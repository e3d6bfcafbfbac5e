"""The scores screen's table from a Scores record, without a database."""

from __future__ import annotations

from genaicompare.scoring.bradley_terry import BTResult
from genaicompare.scoring.results import ModelScore, Scores, table_rows


def scores(bt: BTResult | None) -> Scores:
    rated = ModelScore("a", responses=4, errors=1, rated=2, up=1, up_rate=0.5)
    rated.up_lower, rated.up_upper, rated.latency_p50, rated.cost_total = 0.1, 0.9, 120.0, 0.02
    return Scores(
        catalog="c",
        by=None,
        models=[rated, ModelScore("b", responses=2)],
        groups=[],
        pairwise={},
        bt=bt,
        battle_sources={"preferences": 0, "thumbs": 0},
        kappa=[],
        metric_agreement=[],
        separation=None,
        fairness={"segments": [], "models": []},
        trends={"per_day": [], "per_run": []},
    )


def test_rows_without_battles() -> None:
    title, columns, rows, note, charts = table_rows(scores(None), "c")
    assert title == "Scores — c" and note == ""
    assert columns == [
        "model",
        "rank",
        "answers",
        "rated",
        "👍 rate (95% CI)",
        "BT rating (95% CI)",
        "latency p50",
        "cost/answer",
    ]
    # Ranked by the thumbs-up rate without a leaderboard; 2 thumbs are too few for a rate.
    assert rows == [
        ["a", "–", "4", "2", "n too small (n=2)", "not enough votes", "120 ms", "unknown"],
        ["b", "–", "2", "0", "no thumbs", "not enough votes", "–", "unknown"],
    ]
    assert [c["title"] for c in charts] == [
        "thumbs-up rate (95% Wilson)",
        "latency p50 (ms; the whisker reaches p95)",
    ]


def test_rows_with_a_bradley_terry_rating() -> None:
    bt = BTResult(
        ["a", "b"], [990.0, 1010.0], [980.0, 1000.0], [1000.0, 1020.0], [1, 1], [30, 30], 30, 10, 0
    )
    table = table_rows(scores(bt), "c")
    # Ranked by rating: b first, in the table and in every chart.
    assert [r[:2] for r in table.rows] == [["b", "1"], ["a", "1"]]
    assert [r[5] for r in table.rows] == ["1010 [1000–1020] n=30", "990 [980–1000] n=30"]
    for chart in table.charts:
        assert [b["label"] for b in chart["bars"]] == ["b", "a"]
    assert table.note.startswith("Bradley-Terry")


def test_too_few_battles_say_not_enough_to_rank() -> None:
    bt = BTResult(
        ["a", "b"],
        [1071.0, 929.0],
        [849.0, 708.0],
        [1292.0, 1151.0],
        [None, None],
        [1, 1],
        1,
        1000,
        0,
    )
    table = table_rows(scores(bt), "c")
    assert [r[1] for r in table.rows] == ["–", "–"]
    assert [r[5] for r in table.rows] == ["not enough votes (n=1)"] * 2
    assert "1 vote: not enough to rank" in table.note
    assert "not enough to rank" in table.charts[1]["title"]
