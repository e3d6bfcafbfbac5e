"""The CI gate's decision: a run's assertions, its baseline comparison and the ``--fail-on`` rules
→ exit code 0 (pass), 1 (a rule failed: "regression" when a comparison with the baseline failed,
"assertions failed" when only the run's own assertions did) or 2 (the run cannot be judged), with
everything the reports show, the paired tests of each candidate against its baseline included.
``genaicompare run`` parses, runs, calls :func:`decide` and prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from genaicompare.core.records import ResponseRecord
from genaicompare.gate.baseline import (
    Baseline,
    apply_baseline,
    baseline_from_model,
    baseline_from_run,
)
from genaicompare.gate.cases import (
    Case,
    ModelStats,
    add_consistency,
    build_cases,
    current_thumbs,
    model_stats,
)
from genaicompare.gate.paired import PairedFigure, compare_cases, judge_votes, majority_thumbs
from genaicompare.gate.rules import (
    ASSERTION_RULES,
    DEFAULT_BASELINE_RULES,
    DEFAULT_RULES,
    NEEDS_BASELINE,
    Rule,
    RuleResult,
    evaluate_rules,
    parse_rule,
)
from genaicompare.gate.similarity import get_similarity

if TYPE_CHECKING:
    from genaicompare.catalog import Catalog
    from genaicompare.store import Store

EXIT_PASS, EXIT_REGRESSION, EXIT_ERROR = 0, 1, 2


class RunResult(Protocol):
    """What the gate reads of a finished run (``session.headless.RunOutcome`` has it)."""

    @property
    def catalog(self) -> Catalog: ...
    @property
    def records(self) -> Sequence[ResponseRecord]: ...
    @property
    def metrics(self) -> dict[int, dict[str, Any]]: ...
    @property
    def notices(self) -> list[str]: ...
    @property
    def metrics_error(self) -> str | None: ...


class Verdict:
    """The gate's decision and everything the reports show."""

    def __init__(self) -> None:
        self.cases: list[Case] = []
        self.stats: dict[str, ModelStats] = {}
        self.rules: list[RuleResult] = []
        self.similarity_method: str | None = None
        self.notes: list[str] = []
        self.exit_code = EXIT_PASS
        self.paired: dict[str, list[PairedFigure]] = {}
        """Candidate alias → its figures compared with the baseline on the same prompts."""
        self.baseline: str | None = None

    @property
    def label(self) -> str:
        """pass / regression / assertions failed / rules failed / error. "regression" only when a
        failed rule compared the candidate with a baseline: a first run's failed assertions are
        assertion failures, nothing regressed."""
        if self.exit_code != EXIT_REGRESSION:
            return {EXIT_PASS: "pass", EXIT_ERROR: "error"}[self.exit_code]
        failed = [r.rule.name for r in self.rules if r.triggered]
        if any(n in NEEDS_BASELINE for n in failed):
            return "regression"
        return "assertions failed" if all(n in ASSERTION_RULES for n in failed) else "rules failed"

    @property
    def paired_list(self) -> list[PairedFigure]:
        return [f for figures in self.paired.values() for f in figures]


def decide(
    outcome: RunResult,
    store: Store,
    rules: list[Rule],
    baseline_run: int | None,
    baseline_alias: str | None,
    max_errors: int = 0,
) -> Verdict:
    """Assertions, baseline comparison and rules → exit code 0 / 1 / 2."""
    v = Verdict()
    catalog = outcome.catalog
    specs = {p.id: p.assert_ for p in catalog.prompts if p.assert_}
    assertions_unavailable = False
    v.cases = build_cases(outcome.records, specs, outcome.metrics)
    v.notes.extend(outcome.notices)
    if outcome.metrics_error and specs:
        v.notes.append(outcome.metrics_error)
        assertions_unavailable = True
    candidates = [m.id for m in catalog.models if m.id != baseline_alias]
    need_similarity = baseline_run is not None or baseline_alias is not None
    similarity = None
    if need_similarity or any(len(c.samples) > 1 for c in v.cases):
        similarity = get_similarity()
        v.similarity_method = similarity.method
        add_consistency(v.cases, similarity)
    v.stats = model_stats(v.cases, outcome.metrics)
    baseline = None
    if baseline_run is not None:
        baseline = baseline_from_run(store.run_responses(baseline_run), candidates, baseline_run)
        if not baseline.records:
            v.notes.append(f"run {baseline_run} has no answers to compare with")
    elif baseline_alias is not None:
        baseline = baseline_from_model(outcome.records, baseline_alias, candidates)
    if baseline is not None and similarity is not None:
        cand_cases = [c for c in v.cases if c.model_alias in candidates]
        cand_stats = {a: s for a, s in v.stats.items() if a in candidates}
        apply_baseline(cand_stats, cand_cases, baseline, similarity, store)
        v.baseline = baseline.label
        v.paired = _compare(v.cases, candidates, outcome, store, baseline, baseline_run, specs)
    if not rules:
        rules = [parse_rule(t) for t in DEFAULT_RULES]
        if baseline is not None:
            rules += [parse_rule(t) for t in DEFAULT_BASELINE_RULES]
    v.rules = evaluate_rules(rules, [s for a, s in v.stats.items() if a in candidates], v.paired)

    errored = [c for c in v.cases if c.errored]
    unreachable = [a for a, s in v.stats.items() if s.responses and s.errors == s.responses]
    if unreachable:
        v.notes.append(
            f"no answer at all from {', '.join(unreachable)}: provider unreachable or failing"
        )
        v.exit_code = EXIT_ERROR
    elif errored and len(errored) > max_errors:
        v.notes.append(
            f"{len(errored)} answer(s) ended in error or timeout (tolerated: {max_errors}); "
            "the run cannot be judged"
        )
        v.exit_code = EXIT_ERROR
    elif assertions_unavailable:
        v.exit_code = EXIT_ERROR
    elif any(r.triggered for r in v.rules):
        v.exit_code = EXIT_REGRESSION
    return v


def _compare(
    cases: Sequence[Case],
    candidates: Sequence[str],
    outcome: RunResult,
    store: Store,
    baseline: Baseline,
    baseline_run: int | None,
    specs: dict[str, Any],
) -> dict[str, list[PairedFigure]]:
    """Each candidate's paired figures: its cases against the baseline's on the same prompts
    (answers in error on either side left out; the baseline run's assertions are the current
    catalog's, evaluated on its stored metrics)."""
    metrics: dict[int, dict[str, Any]] = dict(outcome.metrics)
    if baseline_run is not None:
        records = store.run_responses(baseline_run)
        stored = {r.id: store.metrics_for(r.id) for r in records if r.id is not None}
        metrics.update(stored)
        base_cases = {(c.prompt_id, c.model_alias): c for c in build_cases(records, specs, stored)}
    else:
        base_cases = {(c.prompt_id, c.model_alias): c for c in cases}
    thumbs = majority_thumbs(current_thumbs(store))
    out: dict[str, list[PairedFigure]] = {}
    for alias in candidates:
        pairs: list[tuple[Case, Case]] = []
        for c in cases:
            ref = baseline.records.get((c.prompt_id, alias)) if c.model_alias == alias else None
            b = base_cases.get((c.prompt_id, ref.model_alias)) if ref is not None else None
            if b is not None and not b.errored and not c.errored:
                pairs.append((b, c))
        if not pairs:
            continue
        votes = None
        if baseline_run is None:
            base_alias = pairs[0][0].model_alias
            votes = judge_votes([c for _, c in pairs], metrics, base_alias)
        out[alias] = compare_cases(alias, baseline.label, pairs, metrics, thumbs, votes)
    return out
