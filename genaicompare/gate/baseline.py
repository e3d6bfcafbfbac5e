"""Baselines: what a candidate is compared with (a stored run, or another model of this run)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from genaicompare.core.errors import UserError
from genaicompare.core.records import ResponseRecord
from genaicompare.core.sanitize import one_line
from genaicompare.gate.cases import (
    Case,
    ModelStats,
    _total_cost,
    live_latencies,
    percentile,
    thumbs_up_rate,
)
from genaicompare.gate.similarity import Similarity

if TYPE_CHECKING:
    from genaicompare.store import Store


@dataclass
class Baseline:
    """What a candidate is compared with: a stored run, or another model in this run."""

    label: str
    # (prompt_id, candidate alias) → the baseline record for that prompt
    records: dict[tuple[str, str], ResponseRecord]


def baseline_from_run(
    baseline_records: Sequence[ResponseRecord], candidates: Sequence[str], run_id: int
) -> Baseline:
    """Pair each candidate model with the stored run's answers.

    Same alias in both runs ⇒ that model's answers; otherwise, if the stored run has exactly one
    model, every candidate is compared with it.
    """
    by_alias: dict[str, dict[str, ResponseRecord]] = defaultdict(dict)
    for r in baseline_records:
        if r.sample_index == 0 and (
            r.prompt_id not in by_alias[r.model_alias]
            or (r.id or 0) > (by_alias[r.model_alias][r.prompt_id].id or 0)
        ):
            by_alias[r.model_alias][r.prompt_id] = r
    out: dict[tuple[str, str], ResponseRecord] = {}
    for alias in candidates:
        source = by_alias.get(alias)
        if source is None and len(by_alias) == 1:
            source = next(iter(by_alias.values()))
        for pid, r in (source or {}).items():
            out[(pid, alias)] = r
    return Baseline(f"run {run_id}", out)


def baseline_from_model(
    records: Sequence[ResponseRecord], baseline_alias: str, candidates: Sequence[str]
) -> Baseline:
    mine = {
        r.prompt_id: r for r in records if r.model_alias == baseline_alias and r.sample_index == 0
    }
    out = {(pid, alias): r for alias in candidates for pid, r in mine.items()}
    return Baseline(f"model {baseline_alias}", out)


def apply_baseline(
    stats: dict[str, ModelStats],
    cases: Sequence[Case],
    baseline: Baseline,
    similarity: Similarity,
    store: Store | None = None,
) -> None:
    """Fill the baseline columns of ``stats`` (similarity, thumbs, cost, p95) in place."""
    texts = {k: r.text for k, r in baseline.records.items() if r.ok}
    add_baseline_similarity(cases, texts, similarity)
    for alias, s in stats.items():
        mine = [c for c in cases if c.model_alias == alias]
        sims = [c.baseline_similarity for c in mine if c.baseline_similarity is not None]
        s.baseline = baseline.label
        s.baseline_similarity = statistics.fmean(sims) if sims else None
        prompt_ids = {c.prompt_id for c in mine}
        base = [r for (pid, a), r in baseline.records.items() if a == alias and pid in prompt_ids]
        if not base:
            continue
        covered = {r.prompt_id for r in base}
        cand = [r for c in mine if c.prompt_id in covered for r in c.samples[:1]]
        # Compare like with like: the same prompts on both sides.
        s.cost_usd = _total_cost(cand)
        s.baseline_cost_usd = _total_cost(base)
        s.p95_latency_ms = percentile(live_latencies(cand), 95)
        s.baseline_p95_latency_ms = percentile(live_latencies(base), 95)
        if store is not None:
            s.thumbs_up_rate, s.thumbs_rated = thumbs_up_rate(
                store, (r.content_hash for c in mine for r in c.samples)
            )
            s.baseline_thumbs_up_rate, _ = thumbs_up_rate(store, (r.content_hash for r in base))


def add_baseline_similarity(
    cases: Sequence[Case], baseline_texts: dict[tuple[str, str], str], similarity: Similarity
) -> None:
    """``baseline_texts``: (prompt_id, candidate alias) → the baseline's answer."""
    jobs: list[Case] = []
    pairs: list[tuple[str, str]] = []
    for case in cases:
        base = baseline_texts.get((case.prompt_id, case.model_alias))
        if base is None:
            continue
        case.baseline_text = base
        answer = next((s.text for s in case.samples if s.ok), None)
        if answer is None:
            case.baseline_similarity = 0.0  # no answer at all is as far from the baseline as can be
            continue
        jobs.append(case)
        pairs.append((answer, base))
    for case, score in zip(jobs, similarity.pairs(pairs), strict=True):
        case.baseline_similarity = score


def resolve_baseline(
    spec: str | None, aliases: Sequence[str], store: Store
) -> tuple[int | None, str | None]:
    """``--baseline``: (stored run id, None) or (None, model alias of this run); raises
    :class:`UserError` when it is neither."""
    if not spec:
        return None, None
    if spec in aliases:
        if len(aliases) < 2:
            raise UserError(f"--baseline {spec}: the run needs another model to compare with it")
        return None, spec
    if spec.isdigit():
        if store.run(int(spec)) is None:
            raise UserError(f"--baseline {spec}: no run {spec} in {store.path}")
        return int(spec), None
    raise UserError(
        f"--baseline {one_line(spec, 80)}: neither a stored run id nor a model alias "
        f"({', '.join(aliases)})"
    )
