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

    def chart_data(self) -> list[dict[str, Any]]:
        """Plain rows for a TUI chart: one bar per model with its interval, per measure."""
        series: list[dict[str, Any]] = []
        series.append(
            {
                "title": "thumbs-up rate (95% Wilson)",
                "unit": "%",
                "bars": [
                    {
                        "label": s.model,
                        "value": None if s.up_rate is None else 100 * s.up_rate,
                        "lower": None if s.up_lower is None else 100 * s.up_lower,
                        "upper": None if s.up_upper is None else 100 * s.up_upper,
                        "n": s.rated,
                    }
                    for s in self.models
                ],
            }
        )
        if self.bt is not None:
            series.append(
                {
                    "title": f"Bradley-Terry rating (95% CI, {self.bt.rounds} bootstrap rounds)"
                    + ("" if self.bt.rankable else f" — {self.bt.status()}"),
                    "unit": "",
                    "bars": [
                        {
                            "label": r["model"],
                            "value": r["rating"],
                            "lower": r["lower"],
                            "upper": r["upper"],
                            "n": r["battles"],
                            "rank": r["rank"],
                        }
                        for r in self.bt.rows()
                    ],
                }
            )
        series.append(
            {
                "title": "latency p50 (ms)",
                "unit": "ms",
                "bars": [
                    {
                        "label": s.model,
                        "value": s.latency_p50,
                        "lower": None,
                        "upper": s.latency_p95,
                        "n": s.responses,
                    }
                    for s in self.models
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


def table_rows(scores: Scores, catalog_name: str) -> ScoresTable:
    """One row per model: answers, errors, cancellations, thumbs and A/B votes, the thumbs-up rate
    with its interval, the Bradley–Terry rating with its interval, battles and rank ("–" below
    ``min_battles``), p50 latency, cost. The note says whether the leaderboard may rank."""
    bt = {r["model"]: r for r in scores.bt.rows()} if scores.bt is not None else {}
    columns = [
        "model",
        "answers",
        "errors",
        "cancelled",
        "thumbs",
        "A/B votes",
        "👍 rate",
        "95% CI",
        "BT rating",
        "BT 95% CI",
        "battles",
        "rank",
        "latency p50 ms",
        "cost total",
    ]
    rows: list[list[object]] = []
    for m in scores.models:
        ci = (
            f"{m.up_lower:.2f}–{m.up_upper:.2f}"
            if m.up_lower is not None and m.up_upper is not None
            else None
        )
        r = bt.get(m.model)
        rows.append(
            [
                m.model,
                m.responses,
                m.errors,
                m.cancelled,
                m.rated,
                m.votes,
                m.up_rate,
                ci,
                None if r is None else round(r["rating"]),
                None if r is None else f"{r['lower']:.0f}–{r['upper']:.0f}",
                None if r is None else r["battles"],
                None if r is None or r["rank"] is None else r["rank"],
                m.latency_p50,
                m.cost_total,
            ]
        )
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
    return ScoresTable(f"Scores — {catalog_name}", columns, rows, note, scores.chart_data())
