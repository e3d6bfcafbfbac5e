"""What a headless run reports: per-model figures, the run's outcome, the judge's figures.

No Textual, no store: plain records the ``run`` command formats and the gate judges.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord


@dataclass
class ModelSummary:
    alias: str
    model: str
    done: int = 0
    errors: int = 0
    states: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = False
    cost_usd: float = 0.0
    cost_unknown: int = 0
    from_cache: int = 0

    def add(self, r: ResponseRecord) -> None:
        self.done += 1
        self.states[r.state.value] = self.states.get(r.state.value, 0) + 1
        if r.state not in (FinishState.complete, FinishState.length):
            self.errors += 1
        if r.from_cache:
            self.from_cache += 1
        if not r.from_cache:  # a replay's timings are its first asking's (records.TIMINGS)
            if r.latency_ms is not None:
                self.latency_ms.append(r.latency_ms)
            if r.ttft_ms is not None:
                self.ttft_ms.append(r.ttft_ms)
            if r.tokens_per_s is not None:
                self.tokens_per_s.append(r.tokens_per_s)
        self.tokens_in += r.tokens_in or 0
        self.tokens_out += r.tokens_out or 0
        self.tokens_estimated |= r.tokens_estimated
        if r.cost_usd is None:
            self.cost_unknown += 1
        else:
            self.cost_usd += r.cost_usd

    def as_dict(self) -> dict[str, Any]:
        def mean(xs: list[float]) -> float | None:
            return round(statistics.fmean(xs), 3) if xs else None

        return {
            "alias": self.alias,
            "model": self.model,
            "done": self.done,
            "errors": self.errors,
            "states": self.states,
            "from_cache": self.from_cache,
            "mean_latency_ms": mean(self.latency_ms),
            "mean_ttft_ms": mean(self.ttft_ms),
            "mean_tokens_per_s": mean(self.tokens_per_s),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_estimated": self.tokens_estimated,
            # None when nothing had a price: unknown is not free.
            "cost_usd": round(self.cost_usd, 8) if self.cost_unknown < self.done else None,
            "cost_unknown": self.cost_unknown,
        }


@dataclass
class RunOutcome:
    run_id: int
    catalog: Catalog
    db_path: Path
    records: list[ResponseRecord]
    summaries: dict[str, ModelSummary]
    seconds: float
    interrupted: bool = False
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    """response id → metric name → value (numeric or None), as stored."""
    resumed: int = 0
    """Answers kept from the interrupted run (``--resume``)."""
    metrics_error: str | None = None
    notices: list[str] = field(default_factory=list)
    """The metrics engine's one-time notices (a model unavailable offline, a substitute used)."""
    judge: dict[str, Any] | None = None
    """The LLM judge's figures per model (:func:`judge_summary`), when the catalog has a judge."""
    signal: str | None = None
    """``"SIGINT"`` or ``"SIGTERM"`` when a signal interrupted the run."""
    storage_error: str | None = None
    """The store failed mid-run (disk full, read-only, …): the run stopped; ``records`` holds
    the answers stored before it failed."""


def judge_summary(
    catalog: Catalog, metrics: dict[int, dict[str, Any]], records: list[ResponseRecord]
) -> dict[str, Any] | None:
    """The judge's figures per model: mean score (1–10), pairwise wins/losses/ties, mean
    groundedness verdict, and how many answers got a ``judge_error`` instead."""
    if catalog.judge is None:
        return None
    models: dict[str, dict[str, Any]] = {}
    any_value = False
    for alias in (m.id for m in catalog.models):
        scores: list[float] = []
        grounded: list[float] = []
        wins = losses = ties = errors = 0
        for r in records:
            if r.model_alias != alias or r.id is None:
                continue
            values = metrics.get(r.id, {})
            if isinstance(values.get("judge_score"), (int, float)):
                scores.append(float(values["judge_score"]))
            if isinstance(values.get("judge_groundedness"), (int, float)):
                grounded.append(float(values["judge_groundedness"]))
            for name, value in values.items():
                if name.startswith("judge_pairwise:") and isinstance(value, (int, float)):
                    wins += value > 0
                    losses += value < 0
                    ties += value == 0
            errors += "judge_error" in values
        any_value |= bool(scores or grounded or wins or losses or ties or errors)
        models[alias] = {
            "mean_score": round(statistics.fmean(scores), 4) if scores else None,
            "scored": len(scores),
            "wins": wins,
            "losses": losses,
            "ties": ties,
            "mean_groundedness": round(statistics.fmean(grounded), 4) if grounded else None,
            "groundedness_n": len(grounded),
            "errors": errors,
            # The values themselves, for the intervals (commands.run.judge_figures replaces
            # them with n and a 95% interval before anything is printed or written).
            "score_values": scores,
            "groundedness_values": grounded,
        }
    if not any_value:
        return None
    return {"model": catalog.judge.model, "mode": catalog.judge.mode, "models": models}
