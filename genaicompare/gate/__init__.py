"""The CI gate: test cases and their assertions, baselines, ``--fail-on`` rules, run diffs, and
the verdict (:mod:`.verdict`). Reports (JUnit, Markdown, JSON) are in :mod:`.reports`. No Textual.

Modules: :mod:`.rules` (``--fail-on``), :mod:`.cases` (prompt × model cases, assertions through
:mod:`genaicompare.metrics.assertions`, per-model figures, thumbs in force), :mod:`.similarity`,
:mod:`.baseline`, :mod:`.run_diff` (``diff`` and the TUI's diff screen, word diff).
"""

from genaicompare.gate.baseline import (
    Baseline,
    add_baseline_similarity,
    apply_baseline,
    baseline_from_model,
    baseline_from_run,
)
from genaicompare.gate.cases import (
    Case,
    ModelStats,
    add_consistency,
    build_cases,
    check_assert_specs,
    current_thumbs,
    evaluate_assertions,
    model_stats,
    percentile,
    thumbs_up_rate,
)
from genaicompare.gate.rules import (
    DEFAULT_BASELINE_RULES,
    DEFAULT_RULES,
    NEEDS_BASELINE,
    RULE_NAMES,
    Rule,
    RuleError,
    RuleResult,
    evaluate_rules,
    parse_rule,
    parse_rules,
)
from genaicompare.gate.run_diff import (
    LOWER_IS_BETTER,
    NEUTRAL_METRICS,
    DiffRow,
    diff_runs,
    latest_run_diff,
    latest_runs,
    word_diff,
)
from genaicompare.gate.similarity import (
    Similarity,
    SimilarityFn,
    get_similarity,
    lexical_similarity,
)

__all__ = [
    "DEFAULT_BASELINE_RULES",
    "DEFAULT_RULES",
    "LOWER_IS_BETTER",
    "NEEDS_BASELINE",
    "NEUTRAL_METRICS",
    "RULE_NAMES",
    "Baseline",
    "Case",
    "DiffRow",
    "ModelStats",
    "Rule",
    "RuleError",
    "RuleResult",
    "Similarity",
    "SimilarityFn",
    "add_baseline_similarity",
    "add_consistency",
    "apply_baseline",
    "baseline_from_model",
    "baseline_from_run",
    "build_cases",
    "check_assert_specs",
    "current_thumbs",
    "diff_runs",
    "evaluate_assertions",
    "evaluate_rules",
    "get_similarity",
    "latest_run_diff",
    "latest_runs",
    "lexical_similarity",
    "model_stats",
    "parse_rule",
    "parse_rules",
    "percentile",
    "thumbs_up_rate",
    "word_diff",
]
