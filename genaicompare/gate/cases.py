"""Test cases (a prompt × model with its samples), their assertions, and each model's figures.

Everything here is a pure function of records already stored (plus the store for ratings), so the
headless run, the reports and the TUI share one computation.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from genaicompare.core.records import TIMINGS, FinishState, ResponseRecord, measured
from genaicompare.gate.similarity import Similarity
from genaicompare.metrics.assertions import AssertionResult, parse_assertions
from genaicompare.metrics.assertions import evaluate_assertions as evaluate_spec
from genaicompare.metrics.engine import is_known_metric

if TYPE_CHECKING:
    from genaicompare.catalog import Prompt
    from genaicompare.store import Store


def evaluate_assertions(
    spec: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    record: ResponseRecord | None = None,
) -> list[AssertionResult]:
    """The prompt's ``assert`` block against one response's metrics, by the one evaluator,
    :func:`genaicompare.metrics.assertions.evaluate_assertions` (its grammar and its result type).

    A response that did not finish (error, timeout, cancelled) fails every assertion: it produced
    no answer to judge. An answer replayed from the response cache fails its timing assertions
    (``latency_ms``, ``ttft_ms``, ``tokens_per_s``): this run measured nothing, and the figure it
    carries is its first asking's (promptfoo refuses a latency assertion on a cached result too).
    """
    if not spec:
        return []
    if record is not None and not record.ok and record.state is not FinishState.content_filter:
        return [
            AssertionResult(k, False, f"no answer (state {record.state.value})", expected=str(v))
            for k, v in spec.items()
        ]
    results = evaluate_spec(
        spec, metrics, output=record.text if record else None, known=is_known_metric
    )
    if record is not None and record.from_cache:
        results = [
            replace(
                r,
                passed=False,
                value=None,
                reason=f"{r.name} not measured: the answer was replayed from the response cache "
                "(--no-cache asks the model and measures it)",
            )
            if r.name in TIMINGS
            else r
            for r in results
        ]
    # A text check's result leaves ``expected`` empty; the reports show the spec's text there.
    return [r if r.expected else replace(r, expected=str(spec.get(r.name, ""))) for r in results]


def check_assert_specs(prompts: Iterable[Prompt]) -> None:
    """Reject malformed ``assert`` blocks before any model is called (raises ``ValueError``)."""
    for p in prompts:
        if p.assert_:
            try:
                parse_assertions(p.assert_, is_known_metric)
            except ValueError as exc:
                raise ValueError(f"prompt {p.id!r}: {exc}") from None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), ``q`` in 0–100."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class Case:
    """One JUnit test case: a prompt × model, with its samples (``--repeat``)."""

    prompt_id: str
    model_alias: str
    samples: list[ResponseRecord]
    assertions: list[list[AssertionResult]] = field(default_factory=list)
    """Per sample."""
    baseline_text: str | None = None
    baseline_similarity: float | None = None
    consistency: float | None = None

    @property
    def has_assertions(self) -> bool:
        return any(self.assertions)

    @property
    def sample_passes(self) -> list[bool]:
        return [all(a.passed for a in results) for results in self.assertions]

    @property
    def passed(self) -> bool:
        """Every sample passes every assertion (pass^k; plain pass when k = 1)."""
        return all(self.sample_passes) if self.assertions else True

    @property
    def errored(self) -> bool:
        return any(
            s.state in (FinishState.error, FinishState.timeout, FinishState.cancelled)
            for s in self.samples
        )

    @property
    def pass_at_k(self) -> float | None:
        return (1.0 if any(self.sample_passes) else 0.0) if self.has_assertions else None

    @property
    def pass_hat_k(self) -> float | None:
        return (1.0 if all(self.sample_passes) else 0.0) if self.has_assertions else None

    def distinct_outputs(self) -> list[tuple[str, int]]:
        """Identical outputs collapsed, most frequent first."""
        counts: dict[str, int] = {}
        for s in self.samples:
            counts[s.text] = counts.get(s.text, 0) + 1
        return sorted(counts.items(), key=lambda kv: -kv[1])


@dataclass
class ModelStats:
    alias: str
    cases: int = 0
    responses: int = 0
    errors: int = 0
    asserted_cases: int = 0
    failed_cases: int = 0
    assert_pass_rate: float | None = None
    pass_at_k: float | None = None
    pass_hat_k: float | None = None
    consistency: float | None = None
    baseline: str | None = None
    baseline_similarity: float | None = None
    thumbs_up_rate: float | None = None
    baseline_thumbs_up_rate: float | None = None
    thumbs_rated: int = 0
    cost_usd: float | None = None
    baseline_cost_usd: float | None = None
    p95_latency_ms: float | None = None
    baseline_p95_latency_ms: float | None = None
    metric_means: dict[str, float] = field(default_factory=dict)

    def value(self, name: str) -> float | None:
        """The figure a rule named ``name`` compares (None: cannot be evaluated)."""
        if name.startswith("mean:"):
            return self.metric_means.get(name[5:])
        if name == "assert_failures":
            return float(self.failed_cases) if self.asserted_cases else None
        if name == "error_rate":
            return self.errors / self.responses if self.responses else None
        if name == "thumbs_up_drop":
            if self.thumbs_up_rate is None or self.baseline_thumbs_up_rate is None:
                return None
            return (self.baseline_thumbs_up_rate - self.thumbs_up_rate) * 100
        if name == "cost_increase":
            return _pct_increase(self.cost_usd, self.baseline_cost_usd)
        if name == "p95_latency_increase":
            return _pct_increase(self.p95_latency_ms, self.baseline_p95_latency_ms)
        value = getattr(self, name, None)
        return None if value is None else float(value)


def _pct_increase(new: float | None, old: float | None) -> float | None:
    if new is None or old is None:
        return None
    if old == 0:
        return 0.0 if new == 0 else math.inf
    return (new - old) / old * 100


def build_cases(
    records: Iterable[ResponseRecord],
    assert_specs: Mapping[str, Mapping[str, Any] | None],
    metrics: dict[int, dict[str, Any]],
    evaluated: dict[int, list[AssertionResult]] | None = None,
) -> list[Case]:
    """Group records by prompt × model (latest row per sample wins: resumed runs redo some).

    ``evaluated``: stored answer id → its assertion results, reused when there and filled in
    (a caller that groups the same answers twice evaluates each once)."""
    latest: dict[tuple[str, str, int], ResponseRecord] = {}
    order: dict[tuple[str, str], None] = {}
    for r in records:
        key = (r.prompt_id, r.model_alias, r.sample_index)
        order.setdefault((r.prompt_id, r.model_alias), None)
        prev = latest.get(key)
        if prev is None or (r.id or 0) >= (prev.id or 0):
            latest[key] = r
    grouped: dict[tuple[str, str], list[ResponseRecord]] = defaultdict(list)
    for (pid, alias, _), r in sorted(latest.items(), key=lambda kv: kv[0][2]):
        grouped[(pid, alias)].append(r)
    cases = []
    for pid, alias in order:
        samples = grouped[(pid, alias)]
        case = Case(pid, alias, samples)
        spec = assert_specs.get(pid)
        if spec:
            case.assertions = [_evaluated(spec, metrics, s, evaluated) for s in samples]
        cases.append(case)
    return cases


def _evaluated(
    spec: Mapping[str, Any],
    metrics: dict[int, dict[str, Any]],
    record: ResponseRecord,
    cache: dict[int, list[AssertionResult]] | None,
) -> list[AssertionResult]:
    if cache is None or record.id is None:
        return evaluate_assertions(spec, metrics.get(record.id or -1, {}), record)
    if record.id not in cache:
        cache[record.id] = evaluate_assertions(spec, metrics.get(record.id, {}), record)
    return cache[record.id]


def add_consistency(cases: Sequence[Case], similarity: Similarity) -> None:
    """Mean pairwise similarity of each case's samples (only where there are ≥ 2)."""
    jobs: list[tuple[Case, int]] = []
    pairs: list[tuple[str, str]] = []
    for case in cases:
        texts = [s.text for s in case.samples if s.ok]
        combos = list(itertools.combinations(texts, 2))
        if combos:
            jobs.append((case, len(combos)))
            pairs.extend(combos)
    scores = iter(similarity.pairs(pairs))
    for case, n in jobs:
        case.consistency = statistics.fmean(next(scores) for _ in range(n))


def model_stats(
    cases: Sequence[Case], metrics: dict[int, dict[str, Any]] | None = None
) -> dict[str, ModelStats]:
    out: dict[str, ModelStats] = {}
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for case in cases:
        s = out.setdefault(case.model_alias, ModelStats(case.model_alias))
        s.cases += 1
        s.responses += len(case.samples)
        s.errors += sum(
            1 for r in case.samples if r.state in (FinishState.error, FinishState.timeout)
        )
        # An answer that never came is an infrastructure problem, not a failed assertion.
        if case.has_assertions and not case.errored:
            s.asserted_cases += 1
            s.failed_cases += 0 if case.passed else 1
        for r in case.samples:
            for name, value in (metrics or {}).get(r.id or -1, {}).items():
                v = value.get("value") if isinstance(value, dict) else value
                if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                    sums[case.model_alias][name].append(float(v))
    for alias, s in out.items():
        mine = [c for c in cases if c.model_alias == alias and not c.errored]
        if s.asserted_cases:
            s.assert_pass_rate = (s.asserted_cases - s.failed_cases) / s.asserted_cases
            s.pass_at_k = statistics.fmean(c.pass_at_k for c in mine if c.pass_at_k is not None)
            s.pass_hat_k = statistics.fmean(c.pass_hat_k for c in mine if c.pass_hat_k is not None)
        cons = [c.consistency for c in mine if c.consistency is not None]
        s.consistency = statistics.fmean(cons) if cons else None
        sims = [c.baseline_similarity for c in mine if c.baseline_similarity is not None]
        s.baseline_similarity = statistics.fmean(sims) if sims else None
        s.metric_means = {k: statistics.fmean(v) for k, v in sums[alias].items() if v}
        records = [r for c in mine for r in c.samples]
        s.cost_usd = _total_cost(records)
        s.p95_latency_ms = percentile(live_latencies(records), 95)
    return out


def live_latencies(records: Iterable[ResponseRecord]) -> list[float]:
    """Latencies this run waited for: completed answers, none replayed from the response cache
    (:data:`~genaicompare.core.records.TIMINGS`)."""
    return [r.latency_ms for r in records if measured(r, "latency_ms") and r.latency_ms is not None]


def _total_cost(records: Iterable[ResponseRecord]) -> float | None:
    """Sum of costs; None when any answered record's cost is unknown (unknown is not free)."""
    total = 0.0
    for r in records:
        if not r.ok:
            continue
        if r.cost_usd is None:
            return None
        total += r.cost_usd
    return total


def current_thumbs(
    store: Store, where: str = "1", params: Iterable[Any] = ()
) -> list[dict[str, Any]]:
    """Every rater's thumb in force (retractions and superseded ones excluded); ``where``: a
    further condition on the ratings row ``r``, with its ``?`` parameters."""
    from genaicompare.ratings import Ratings

    return [
        {"content_hash": r.content_hash, "value": r.value}
        for r in Ratings(store).current(f"r.kind = 'thumb' AND ({where})", params)
    ]


def thumbs_up_rate(store: Store, content_hashes: Iterable[str]) -> tuple[float | None, int]:
    """Share of current thumbs that are up over these outputs (every rater); (None, 0) if unrated."""
    hashes = set(content_hashes)
    if not hashes:
        return None, 0
    ups = downs = 0
    rows = current_thumbs(store)
    for row in rows:
        if row["content_hash"] in hashes:
            if row["value"] == "up":
                ups += 1
            elif row["value"] == "down":
                downs += 1
    n = ups + downs
    return (ups / n if n else None), n
