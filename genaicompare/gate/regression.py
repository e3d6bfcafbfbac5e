"""Regression mode: assertions, baselines, ``--fail-on`` rules, repeats, run diffs. No Textual.

Everything here is a pure function of records already stored (plus the store for baselines and
ratings), so the headless run, the reports and the TUI's diff screen share one computation.

Rule syntax (``--fail-on``, repeatable or comma-separated): ``NAME OP NUMBER[%]``, e.g.
``assert_pass_rate < 0.9``. A rule that holds for a candidate model is a regression (exit 1).
A rule that cannot be evaluated (no assertions, no baseline, no ratings, unknown cost) is reported
as "not evaluated" and never fails the run.

=========================  ==========================================================================
``assert_pass_rate``       share of prompt × model test cases whose assertions all pass (0–1)
``assert_failures``        number of failed test cases (``assert_failures > 0``: any failure)
``baseline_similarity``    mean similarity of each answer to the baseline's answer (0–1)
``thumbs_up_drop``         baseline thumbs-up rate − candidate's, in percentage points
``cost_increase``          candidate cost vs baseline on the same prompts, in % (``> 20%``)
``p95_latency_increase``   p95 latency vs baseline, in %
``error_rate``             share of responses that ended in error / timeout (0–1)
``pass_at_k`` / ``pass_hat_k``  with ``--repeat``: mean pass@k / pass^k over prompts (0–1)
``consistency``            with ``--repeat``: mean pairwise similarity of samples (0–1)
``mean:METRIC``            mean of a stored metric, e.g. ``mean:rougeL < 0.3``
=========================  ==========================================================================
"""

from __future__ import annotations

import difflib
import itertools
import math
import operator
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from genaicompare.core.records import FinishState, ResponseRecord

# -------------------------------------------------------------------------------- rules

RULE_NAMES: dict[str, str] = {
    "assert_pass_rate": "assertion pass rate",
    "assert_failures": "failed assertion test cases",
    "baseline_similarity": "mean similarity to baseline",
    "thumbs_up_drop": "thumbs-up rate drop vs baseline (points)",
    "cost_increase": "cost increase vs baseline (%)",
    "p95_latency_increase": "p95 latency increase vs baseline (%)",
    "error_rate": "error rate",
    "pass_at_k": "pass@k",
    "pass_hat_k": "pass^k",
    "consistency": "consistency (mean pairwise similarity of samples)",
}
NEEDS_BASELINE = frozenset(
    {"baseline_similarity", "thumbs_up_drop", "cost_increase", "p95_latency_increase"}
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_RULE = re.compile(
    r"^\s*(?P<name>mean:[^\s<>=!]+|[a-z_0-9]+)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<value>[-+]?\d+(?:\.\d+)?)\s*(?P<pct>%?)\s*$"
)
DEFAULT_RULES = ("assert_failures > 0",)
DEFAULT_BASELINE_RULES = ("baseline_similarity < 0.8",)


class RuleError(ValueError):
    """A ``--fail-on`` rule that does not parse (message is user-facing)."""


@dataclass(frozen=True)
class Rule:
    name: str
    op: str
    threshold: float
    text: str

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.threshold)


def parse_rule(text: str) -> Rule:
    m = _RULE.match(text)
    if not m:
        raise RuleError(
            f"--fail-on {text!r}: expected NAME OP NUMBER, e.g. 'assert_pass_rate < 0.9' "
            f"(names: {', '.join(RULE_NAMES)}, mean:METRIC)"
        )
    name = m["name"]
    if name not in RULE_NAMES and not name.startswith("mean:"):
        raise RuleError(
            f"--fail-on {text!r}: unknown name {name!r} (known: {', '.join(RULE_NAMES)}, "
            "mean:METRIC)"
        )
    value = float(m["value"])
    percent_rules = ("cost_increase", "p95_latency_increase")
    if m["pct"] and name not in percent_rules and name != "thumbs_up_drop":
        # "assert_pass_rate < 90%" means 0.9: rates are fractions.
        value /= 100
    return Rule(name, m["op"], value, f"{name} {m['op']} {m['value']}{m['pct']}")


def parse_rules(texts: Iterable[str]) -> list[Rule]:
    rules: list[Rule] = []
    for text in texts:
        for part in text.split(","):
            if part.strip():
                rules.append(parse_rule(part))
    return rules


# -------------------------------------------------------------------------------- assertions


@dataclass(frozen=True)
class AssertionResult:
    name: str
    expected: str
    passed: bool
    reason: str
    value: Any = None


def evaluate_assertions(
    spec: Mapping[str, Any] | None, metrics: dict[str, Any], record: ResponseRecord | None = None
) -> list[AssertionResult]:
    """The prompt's ``assert`` block against one response's metrics.

    The metrics package owns the comparison grammar (``evaluate_assertions``); this adapter
    normalises whatever shape it returns into :class:`AssertionResult`. A response that did not
    finish (error, timeout, cancelled) fails every assertion: it produced no answer to judge.
    """
    if not spec:
        return []
    if record is not None and not record.ok and record.state is not FinishState.content_filter:
        return [
            AssertionResult(k, str(v), False, f"no answer (state {record.state.value})")
            for k, v in spec.items()
        ]
    try:
        from genaicompare.metrics import evaluate_assertions as metrics_evaluate
        from genaicompare.metrics import is_known_metric
    except ImportError:
        return fallback_assertions(spec, metrics, record.text if record else "")
    raw = metrics_evaluate(
        spec, metrics, output=record.text if record else None, known=is_known_metric
    )
    return [_normalise(item, spec) for item in _iter_results(raw)]


def check_assert_specs(prompts: Iterable[Any]) -> None:
    """Reject malformed ``assert`` blocks before any model is called (raises ``ValueError``)."""
    try:
        from genaicompare.metrics import is_known_metric, parse_assertions
    except ImportError:
        return
    for p in prompts:
        if p.assert_:
            try:
                parse_assertions(p.assert_, is_known_metric)
            except ValueError as exc:
                raise ValueError(f"prompt {p.id!r}: {exc}") from None


_COMPARISON = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?)\s*$", re.I)


def fallback_assertions(
    spec: Mapping[str, Any], metrics: dict[str, Any], text: str
) -> list[AssertionResult]:
    """Assertions without the metrics package: ``"OP NUMBER"`` on a metric, a bare string on
    ``contains`` / ``not_contains`` (case-insensitive substring of the answer), a bare number or
    bool as equality."""
    out = []
    for name, expected in spec.items():
        exp = str(expected)
        if name in ("contains", "not_contains") and not _COMPARISON.match(exp):
            found = exp.casefold() in text.casefold()
            ok = found if name == "contains" else not found
            out.append(AssertionResult(name, exp, ok, "found" if found else "not found"))
            continue
        raw = metrics.get(name)
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value is None:
            out.append(AssertionResult(name, exp, False, f"metric {name} not computed"))
            continue
        m = _COMPARISON.match(exp)
        if m:
            op, threshold = m.group(1), float(m.group(2))
        elif isinstance(expected, (bool, int, float)):
            op, threshold = "==", float(expected)
        else:
            out.append(AssertionResult(name, exp, False, f"cannot compare with {exp!r}"))
            continue
        ok = _OPS[op](float(value), threshold)
        out.append(AssertionResult(name, exp, ok, f"{name} = {float(value):.4g}", value))
    return out


def _iter_results(raw: Any) -> Iterable[Any]:
    if isinstance(raw, dict):
        yield from raw.items()
    else:
        yield from raw


def _normalise(item: Any, spec: Mapping[str, Any]) -> AssertionResult:
    if isinstance(item, AssertionResult):
        return item
    if isinstance(item, tuple):
        name, value = item
        if isinstance(value, dict):
            return AssertionResult(
                name,
                str(spec.get(name, value.get("expected", ""))),
                bool(value.get("passed", value.get("pass"))),
                str(value.get("reason", "")),
                value.get("value", value.get("actual")),
            )
        passed = getattr(value, "passed", value)
        return AssertionResult(
            name, str(spec.get(name, "")), bool(passed), str(getattr(value, "reason", ""))
        )
    name = getattr(item, "name", None) or getattr(item, "metric", "?")
    return AssertionResult(
        str(name),
        str(getattr(item, "expected", None) or spec.get(str(name), "")),
        bool(getattr(item, "passed", getattr(item, "ok", False))),
        str(getattr(item, "reason", "")),
        getattr(item, "value", getattr(item, "actual", None)),
    )


# -------------------------------------------------------------------------------- similarity

SimilarityFn = Callable[[Sequence[tuple[str, str]]], list[float]]


@dataclass
class Similarity:
    """Pairwise answer similarity; ``method`` is shown wherever a figure appears."""

    fn: SimilarityFn
    method: str

    def pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        # Identical texts are exactly 1.0 (an embedding cosine can come out as 0.9999999).
        todo = [(a, b) for a, b in pairs if a != b]
        scores = iter(self.fn(todo) if todo else [])
        return [1.0 if a == b else next(scores) for a, b in pairs]


def lexical_similarity(pairs: Sequence[tuple[str, str]]) -> list[float]:
    """rapidfuzz's normalised Indel similarity on word tokens (1.0 = the same words in order)."""
    from rapidfuzz.distance import Indel

    out = []
    for a, b in pairs:
        ta, tb = a.split(), b.split()
        out.append(1.0 if ta == tb else float(Indel.normalized_similarity(ta, tb)))
    return out


def get_similarity(prefer_semantic: bool = True) -> Similarity:
    """The metrics package's embedding similarity when its model is available, else lexical.

    Never silent: ``method`` names what was used and reports print it.
    """
    if prefer_semantic:
        try:
            from genaicompare.metrics import semantic

            embedder = semantic.get_embedder()
            if embedder is not None:

                def cosine(pairs: Sequence[tuple[str, str]]) -> list[float]:
                    return [float(x) for x in semantic.pairwise_similarity(embedder, pairs)]

                return Similarity(cosine, f"embedding cosine ({semantic.model_name(embedder)})")
        except Exception:
            pass
    return Similarity(lexical_similarity, "lexical (word-level Indel similarity)")


# -------------------------------------------------------------------------------- per-model stats


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


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    model: str
    value: float | None
    triggered: bool

    @property
    def evaluated(self) -> bool:
        return self.value is not None

    def describe(self) -> str:
        if self.value is None:
            return f"{self.model}: {self.rule.text}: not evaluated (no data)"
        verdict = "FAIL" if self.triggered else "ok"
        return f"{self.model}: {self.rule.text}: {_fmt(self.value)} → {verdict}"


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


def evaluate_rules(rules: Sequence[Rule], stats: Iterable[ModelStats]) -> list[RuleResult]:
    out = []
    for s in stats:
        for rule in rules:
            value = s.value(rule.name)
            out.append(RuleResult(rule, s.alias, value, value is not None and rule.holds(value)))
    return out


# -------------------------------------------------------------------------------- building cases


def build_cases(
    records: Iterable[ResponseRecord],
    assert_specs: Mapping[str, Mapping[str, Any] | None],
    metrics: dict[int, dict[str, Any]],
) -> list[Case]:
    """Group records by prompt × model (latest row per sample wins: resumed runs redo some)."""
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
            case.assertions = [
                evaluate_assertions(spec, metrics.get(s.id or -1, {}), s) for s in samples
            ]
        cases.append(case)
    return cases


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
        s.p95_latency_ms = percentile(
            [r.latency_ms for r in records if r.ok and r.latency_ms is not None], 95
        )
    return out


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


def current_thumbs(store: Any) -> list[dict[str, Any]]:
    """Every rater's thumb in force (retractions and superseded ones excluded)."""
    from genaicompare.ratings import Ratings

    return [
        {"content_hash": r.content_hash, "value": r.value}
        for r in Ratings(store).current("r.kind = 'thumb'")
    ]


def thumbs_up_rate(store: Any, content_hashes: Iterable[str]) -> tuple[float | None, int]:
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


# -------------------------------------------------------------------------------- baselines


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
    store: Any | None = None,
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
        s.p95_latency_ms = percentile(
            [r.latency_ms for r in cand if r.ok and r.latency_ms is not None], 95
        )
        s.baseline_p95_latency_ms = percentile(
            [r.latency_ms for r in base if r.ok and r.latency_ms is not None], 95
        )
        if store is not None:
            s.thumbs_up_rate, s.thumbs_rated = thumbs_up_rate(
                store, (r.content_hash for c in mine for r in c.samples)
            )
            s.baseline_thumbs_up_rate, _ = thumbs_up_rate(store, (r.content_hash for r in base))


# -------------------------------------------------------------------------------- run diff


@dataclass
class DiffRow:
    """One prompt × model compared across two runs (the ``diff`` table and TUI screen)."""

    prompt_id: str
    model_alias: str
    text_a: str | None
    text_b: str | None
    state_a: str | None
    state_b: str | None
    thumbs_up_before: bool
    changed: bool
    similarity: float | None
    metric_drops: dict[str, float]
    """metric → value in A − value in B, for metrics that got worse (positive = a drop)."""
    metrics_a: dict[str, float] = field(default_factory=dict)
    """metric → value in A, for metrics stored for both answers (the TUI shows every delta)."""
    metrics_b: dict[str, float] = field(default_factory=dict)
    """metric → value in B, same names as ``metrics_a``."""

    @property
    def largest_drop(self) -> float:
        return max(self.metric_drops.values(), default=0.0)

    def sort_key(self) -> tuple[int, float, float, str, str]:
        # Previously approved answers that changed first; then the least similar; then the
        # largest metric drop.
        return (
            0 if (self.thumbs_up_before and self.changed) else 1,
            self.similarity if self.similarity is not None else -1.0,
            -self.largest_drop,
            self.prompt_id,
            self.model_alias,
        )


# Metrics that are neither better nor worse when they move.
NEUTRAL_METRICS = frozenset({"chars", "words", "tokens_in", "tokens_out", "fk_grade"})
# Metrics where lower is better: an increase is the regression.
LOWER_IS_BETTER = frozenset(
    {
        "latency_ms",
        "ttft_ms",
        "cost_usd",
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
        "pii_count",
        "tokens_in",
        "tokens_out",
    }
)


def diff_runs(
    store: Any, run_a: int, run_b: int, similarity: Similarity | None = None
) -> list[DiffRow]:
    """Every prompt × model of two stored runs, ordered by how much it changed."""
    from genaicompare.core.errors import UserError

    for rid in (run_a, run_b):
        if store.run(rid) is None:
            raise UserError(f"no run {rid} in {store.path}")
    a = _latest(store.run_responses(run_a))
    b = _latest(store.run_responses(run_b))
    keys = list(a) + [k for k in b if k not in a]
    similarity = similarity or get_similarity()
    both = [k for k in keys if k in a and k in b]
    sims = dict(zip(both, similarity.pairs([(a[k].text, b[k].text) for k in both]), strict=True))
    ups, _ = _thumbs_up_hashes(store, [r.content_hash for r in a.values()])
    rows = []
    for key in keys:
        ra, rb = a.get(key), b.get(key)
        drops: dict[str, float] = {}
        values_a: dict[str, float] = {}
        values_b: dict[str, float] = {}
        if ra is not None and rb is not None and ra.id and rb.id:
            ma, mb = store.metrics_for(ra.id), store.metrics_for(rb.id)
            for name in set(ma) & set(mb):
                va, vb = ma[name]["value"], mb[name]["value"]
                if va is None or vb is None:
                    continue
                values_a[name], values_b[name] = va, vb
                if name in NEUTRAL_METRICS:
                    continue
                drop = (vb - va) if name in LOWER_IS_BETTER else (va - vb)
                if drop > 0:
                    drops[name] = drop
        rows.append(
            DiffRow(
                prompt_id=key[0],
                model_alias=key[1],
                text_a=ra.text if ra else None,
                text_b=rb.text if rb else None,
                state_a=ra.state.value if ra else None,
                state_b=rb.state.value if rb else None,
                thumbs_up_before=ra is not None and ra.content_hash in ups,
                changed=(ra is None or rb is None or ra.text != rb.text),
                similarity=sims.get(key),
                metric_drops=drops,
                metrics_a=values_a,
                metrics_b=values_b,
            )
        )
    rows.sort(key=DiffRow.sort_key)
    return rows


def latest_runs(
    store: Any, catalog_name: str, mode: str | None = "headless", limit: int = 2
) -> list[int]:
    """Ids of the newest runs of ``catalog_name`` that stored at least one answer, newest first.

    ``mode`` "headless" by default: a TUI session's run holds only the prompts that were browsed.
    """
    sql = (
        "SELECT id FROM runs WHERE catalog_name = ?"
        + (" AND mode = ?" if mode is not None else "")
        + " AND EXISTS (SELECT 1 FROM responses WHERE responses.run_id = runs.id)"
        + " ORDER BY id DESC LIMIT ?"
    )
    params: list[Any] = [catalog_name, *([mode] if mode is not None else []), limit]
    return [int(r["id"]) for r in store.query(sql, params)]


def _latest(records: Iterable[ResponseRecord]) -> dict[tuple[str, str], ResponseRecord]:
    out: dict[tuple[str, str], ResponseRecord] = {}
    for r in records:
        if r.sample_index != 0:
            continue
        key = (r.prompt_id, r.model_alias)
        if key not in out or (r.id or 0) > (out[key].id or 0):
            out[key] = r
    return out


def _thumbs_up_hashes(store: Any, hashes: Iterable[str]) -> tuple[set[str], set[str]]:
    wanted = set(hashes)
    if not wanted:
        return set(), set()
    rows = current_thumbs(store)
    up = {r["content_hash"] for r in rows if r["value"] == "up" and r["content_hash"] in wanted}
    down = {r["content_hash"] for r in rows if r["value"] == "down" and r["content_hash"] in wanted}
    return up, down


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """Word-level diff as ``(op, text)`` segments, op ∈ {"=", "-", "+"}; whitespace kept."""
    ta = re.findall(r"\s+|[^\s]+", a)
    tb = re.findall(r"\s+|[^\s]+", b)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("=", "".join(ta[i1:i2])))
            continue
        if tag in ("replace", "delete"):
            out.append(("-", "".join(ta[i1:i2])))
        if tag in ("replace", "insert"):
            out.append(("+", "".join(tb[j1:j2])))
    return out
