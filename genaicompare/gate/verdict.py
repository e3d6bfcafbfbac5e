"""The CI gate's decision: a run's assertions, its baseline comparison and the ``--fail-on`` rules
→ exit code 0 (pass), 1 (regression) or 2 (the run cannot be judged), with everything the reports
show. ``genaicompare run`` parses, runs, calls :func:`decide` and prints."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from genaicompare.core.records import ResponseRecord
from genaicompare.gate.baseline import (
    apply_baseline,
    baseline_from_model,
    baseline_from_run,
)
from genaicompare.gate.cases import Case, ModelStats, add_consistency, build_cases, model_stats
from genaicompare.gate.rules import (
    DEFAULT_BASELINE_RULES,
    DEFAULT_RULES,
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

    @property
    def label(self) -> str:
        return {EXIT_PASS: "pass", EXIT_REGRESSION: "regression", EXIT_ERROR: "error"}[
            self.exit_code
        ]


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
    if not rules:
        rules = [parse_rule(t) for t in DEFAULT_RULES]
        if baseline is not None:
            rules += [parse_rule(t) for t in DEFAULT_BASELINE_RULES]
    v.rules = evaluate_rules(rules, [s for a, s in v.stats.items() if a in candidates])

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
