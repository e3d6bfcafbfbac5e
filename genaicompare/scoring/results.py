"""The result records of :func:`~genaicompare.scoring.aggregate.compute_scores` and their shapes:
JSON, chart series, and the TUI's scores table."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from genaicompare.scoring.bradley_terry import BTResult

BT_METHODS = {
    "map": "Bradley-Terry, ln(10) logit, ties = half, 400r+1000; MAP fit with a N(0, 200²) "
    "prior on the ratings, Newton to convergence; 95% interval = bootstrap percentile ∪ Laplace",
    "fastchat": "FastChat Bradley-Terry (L-BFGS, ln(10) logit, ties = half, 400r+1000), "
    "bootstrap percentile interval",
}


@dataclass
class ModelScore:
    """One row of the scores table: a model, optionally within a group (tag / task / segment)."""

    model: str
    group: str | None = None
    responses: int = 0
    """Live answers (cached replays are not counted)."""
    errors: int = 0
    """Answers that ended in ``error`` or ``timeout`` (a cancellation is not an error)."""
    cancelled: int = 0
    """Answers the user cancelled."""
    rated: int = 0
    """Thumbs in force on this model's answers: the n of the thumbs-up rate."""
    votes: int = 0
    """A/B (pair) votes in force that include this model (``rated`` counts thumbs only)."""
    up: int = 0
    up_rate: float | None = None
    up_lower: float | None = None
    up_upper: float | None = None
    metrics: dict[str, dict[str, float | int | None]] = field(default_factory=dict)
    """name → {mean, lower, upper (95% interval of the mean), median, n}."""
    latency_p50: float | None = None
    latency_p95: float | None = None
    ttft_p50: float | None = None
    ttft_p95: float | None = None
    cost_total: float | None = None
    cost_per_answer: float | None = None
    cost_per_answer_lower: float | None = None
    cost_per_answer_upper: float | None = None
    cost_unknown: int = 0


@dataclass
class Scores:
    catalog: str | None
    by: str | None
    models: list[ModelScore]
    groups: list[ModelScore]
    pairwise: dict[str, Any]
    bt: BTResult | None
    battle_sources: dict[str, Any]
    """Battles from each source: explicit A/B ``preferences`` (of which ``strong_preferences``
    weigh ``strong_weight``), ``best_of_n`` battles from ``best_of_n_picks`` picks, and
    same-prompt ``thumbs``."""
    kappa: list[dict[str, Any]]
    metric_agreement: list[dict[str, Any]]
    separation: dict[str, Any] | None
    fairness: dict[str, Any]
    trends: dict[str, list[dict[str, Any]]]
    timings: dict[str, float] = field(default_factory=dict)
    rubric: dict[str, Any] = field(default_factory=dict)
    """Rubric scores per criterion and model (:func:`genaicompare.scoring.rubric.rubric_section`)."""

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bt"] = (
            None
            if self.bt is None
            else {
                "rows": self.bt.rows(),
                "rounds": self.bt.rounds,
                "seed": self.bt.seed,
                "battles": self.bt.n_battles,
                "method": self.bt.method,
                "method_detail": BT_METHODS[self.bt.method],
                "prior_sd": self.bt.prior_sd,
                "min_battles": self.bt.min_battles,
                "rankable": self.bt.rankable,
                "status": self.bt.status(),
            }
        )
        out.pop("timings")
        return _finite(out)

    def ranked(self) -> list[ModelScore]:
        """The models in one order for every table and chart: the Bradley–Terry rating's
        (highest first) when there is a leaderboard, else the thumbs-up rate's; unrated last."""
        if self.bt is not None:
            place = {r["model"]: i for i, r in enumerate(self.bt.rows())}
            return sorted(self.models, key=lambda s: (place.get(s.model, len(place)), s.model))
        return sorted(self.models, key=lambda s: (s.up_rate is None, -(s.up_rate or 0.0), s.model))

    def chart_data(self) -> list[dict[str, Any]]:
        """Plain rows for a TUI chart: one bar per model with its interval, per measure, every
        chart in :meth:`ranked` order. ``zero``: where the bar starts (a real zero for rates
        and latencies; a Bradley–Terry rating has none, its bars start at ``zero`` and say so)."""
        series: list[dict[str, Any]] = []
        models = self.ranked()
        series.append(
            {
                "title": "thumbs-up rate (95% Wilson)",
                "unit": "%",
                "zero": 0.0,
                "bars": [
                    {
                        "label": s.model,
                        "value": None if s.up_rate is None else 100 * s.up_rate,
                        "lower": None if s.up_lower is None else 100 * s.up_lower,
                        "upper": None if s.up_upper is None else 100 * s.up_upper,
                        "n": s.rated,
                    }
                    for s in models
                ],
            }
        )
        if self.bt is not None:
            rows = {r["model"]: r for r in self.bt.rows()}
            series.append(
                {
                    "title": f"Bradley-Terry rating (95% CI, {self.bt.rounds} bootstrap rounds)"
                    + ("" if self.bt.rankable else f" — {self.bt.status()}"),
                    "unit": "",
                    # Ratings have no zero: bars grow from the lowest lower bound, which the
                    # chart prints as its left edge.
                    "zero": None,
                    "bars": [
                        {
                            "label": s.model,
                            "value": rows[s.model]["rating"],
                            "lower": rows[s.model]["lower"],
                            "upper": rows[s.model]["upper"],
                            "n": rows[s.model]["battles"],
                            "rank": rows[s.model]["rank"],
                        }
                        for s in models
                        if s.model in rows
                    ],
                }
            )
        series.append(
            {
                "title": "latency p50 (ms; the whisker reaches p95)",
                "unit": "ms",
                "zero": 0.0,
                "bars": [
                    {
                        "label": s.model,
                        "value": s.latency_p50,
                        "lower": s.latency_p50,
                        "upper": s.latency_p95,
                        "n": s.responses,
                    }
                    for s in models
                ],
            }
        )
        return [_finite(s) for s in series]


def _finite(obj: Any) -> Any:
    """JSON has no NaN: intervals that do not exist are null."""
    if isinstance(obj, float):
        return None if math.isnan(obj) or math.isinf(obj) else obj
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    if isinstance(obj, np.generic):
        return _finite(obj.item())
    return obj


class ScoresTable(NamedTuple):
    """The scores screen's content (unpacks as ``title, columns, rows, note, charts``)."""

    title: str
    columns: list[str]
    rows: list[list[object]]
    note: str
    charts: list[dict[str, Any]]
    """Bars with intervals, :meth:`Scores.chart_data`."""


HEADLINE = [
    "model",
    "rank",
    "answers",
    "rated",
    "👍 rate (95% CI)",
    "BT rating (95% CI)",
    "latency p50",
    "cost/answer",
]
NOT_ENOUGH_VOTES = "not enough votes"


def money(x: float | None) -> str:
    if x is None or x != x:
        return "unknown"
    return f"${x:.2f}" if x >= 0.01 or x == 0 else f"${x:.2g}"


def headline(scores: Scores) -> tuple[list[str], list[list[str]]]:
    """THE per-model table, ranked (``scores`` and the TUI's scores screen): answers, thumbs
    (the n of the rate), the thumbs-up rate with its Wilson interval, the Bradley–Terry rating
    with its interval or "not enough votes", latency p50 and cost per answer."""
    from genaicompare.core.figures import rate_text

    bt = {r["model"]: r for r in scores.bt.rows()} if scores.bt is not None else {}
    rows: list[list[str]] = []
    for m in scores.ranked():
        r = bt.get(m.model)
        if r is None:
            rating = NOT_ENOUGH_VOTES
        elif not r["enough_battles"]:
            rating = f"{NOT_ENOUGH_VOTES} (n={r['battles']})"
        else:
            rating = f"{r['rating']:.0f} [{r['lower']:.0f}–{r['upper']:.0f}] n={r['battles']}"
        rows.append(
            [
                m.model,
                "–" if r is None or r["rank"] is None else str(r["rank"]),
                str(m.responses),
                str(m.rated),
                rate_text(m.up_rate, m.up_lower, m.up_upper, m.rated, show_n=False)
                if m.rated
                else "no thumbs",
                rating,
                "–" if m.latency_p50 is None else f"{m.latency_p50:,.0f} ms",
                money(m.cost_per_answer),
            ]
        )
    return list(HEADLINE), rows


def table_rows(scores: Scores, catalog_name: str) -> ScoresTable:
    """The scores screen: :func:`headline`'s table (ranked, as the charts are), a note saying
    whether the leaderboard may rank, and the charts."""
    columns, rows = headline(scores)
    note = ""
    if scores.bt is not None:
        src = scores.battle_sources
        note = (
            f"Bradley-Terry ({scores.bt.method}, {scores.bt.rounds} bootstrap rounds) from "
            f"{src['preferences']} A/B votes and {src['thumbs']} same-prompt thumb pairs "
            "(one battle per judgement). "
        )
        if src.get("best_of_n_picks"):
            note += f"{src['best_of_n_picks']} best-of-N picks made {src['best_of_n']} battles. "
        if src.get("strong_preferences"):
            note += (
                f"{src['strong_preferences']} strong votes (A≫B) weigh ×{src['strong_weight']:g}. "
            )
        sep = scores.separation
        if not scores.bt.rankable:
            note += scores.bt.status() + "."
        elif sep and sep["separated"]:
            note += f"{sep['top']} is ahead of {sep['second']}: their intervals do not overlap."
        elif sep:
            note += f"{sep['top']} and {sep['second']} are not separated yet."
    cells: list[list[object]] = [list(r) for r in rows]
    return ScoresTable(f"Scores — {catalog_name}", columns, cells, note, scores.chart_data())
