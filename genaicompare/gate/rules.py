"""``--fail-on`` rules: parsing, and evaluating them on each candidate model's figures.

Rule syntax (``--fail-on``, repeatable or comma-separated): ``NAME OP NUMBER[%]``, e.g.
``assert_pass_rate < 0.9``. A rule that holds for a candidate model is a regression (exit 1).
A rule that cannot be evaluated (no assertions, no baseline, no ratings, unknown cost) is reported
as "not evaluated" and never fails the run.

=========================  ==========================================================================
``assert_pass_rate``       share of prompt × model test cases whose assertions all pass (0–1)
``assert_failures``        number of failed test cases (``assert_failures > 0``: any failure)
``baseline_similarity``    mean similarity of each answer to the baseline's answer (0–1)
``assert_pass_rate_drop``  baseline assertion pass rate − candidate's on the same prompts, in points
``thumbs_up_drop``         baseline thumbs-up rate − candidate's, in percentage points
``cost_increase``          candidate cost vs baseline on the same prompts, in % (``> 20%``)
``p95_latency_increase``   p95 latency vs baseline, in %
``error_rate``             share of responses that ended in error / timeout (0–1)
``pass_at_k`` / ``pass_hat_k``  with ``--repeat``: mean pass@k / pass^k over prompts (0–1)
``consistency``            with ``--repeat``: mean pairwise similarity of samples (0–1)
``mean:METRIC``            mean of a stored metric, e.g. ``mean:rougeL < 0.3``
=========================  ==========================================================================

Significance: ``RULE at C%`` (e.g. ``assert_pass_rate_drop > 5% at 95%``) fails only when the
one-sided test at level 1 − C rejects "the rule does not hold": the drop rules by the paired
test on the same prompts (McNemar's exact test for a margin of 0, Tango's score test otherwise),
``assert_pass_rate <`` and ``error_rate >`` by the exact binomial test. Other names have no test
and are refused with a qualifier; without it a rule compares the raw figure, as before.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from genaicompare.gate.cases import ModelStats

if TYPE_CHECKING:
    from genaicompare.gate.paired import PairedFigure

RULE_NAMES: dict[str, str] = {
    "assert_pass_rate": "assertion pass rate",
    "assert_failures": "failed assertion test cases",
    "baseline_similarity": "mean similarity to baseline",
    "assert_pass_rate_drop": "assertion pass rate drop vs baseline (points)",
    "thumbs_up_drop": "thumbs-up rate drop vs baseline (points)",
    "cost_increase": "cost increase vs baseline (%)",
    "p95_latency_increase": "p95 latency increase vs baseline (%)",
    "error_rate": "error rate",
    "pass_at_k": "pass@k",
    "pass_hat_k": "pass^k",
    "consistency": "consistency (mean pairwise similarity of samples)",
}
NEEDS_BASELINE = frozenset(
    {
        "baseline_similarity",
        "assert_pass_rate_drop",
        "thumbs_up_drop",
        "cost_increase",
        "p95_latency_increase",
    }
)
ASSERTION_RULES = frozenset(
    {"assert_pass_rate", "assert_failures", "pass_at_k", "pass_hat_k", "assert_pass_rate_drop"}
)
"""Rules about assertions: when only these fail and there is no baseline, the verdict is
"assertions failed", not "regression" (nothing was compared)."""
TESTABLE: dict[str, tuple[str, ...]] = {
    "assert_pass_rate_drop": (">", ">="),
    "thumbs_up_drop": (">", ">="),
    "assert_pass_rate": ("<", "<="),
    "error_rate": (">", ">="),
}
"""Rules that may demand significance (``at C%``), with the directions that have a test."""
_PAIRED_FIGURE = {"assert_pass_rate_drop": "assert_pass_rate", "thumbs_up_drop": "thumbs_up_rate"}
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
    r"(?P<value>[-+]?\d+(?:\.\d+)?)\s*(?P<pct>%?)"
    r"(?:\s+at\s+(?P<conf>\d+(?:\.\d+)?)\s*%)?\s*$"
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
    confidence: float | None = None
    """``at C%``: the rule fails only when a one-sided test at level 1 − C rejects its negation."""

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
    percent_rules = ("cost_increase", "p95_latency_increase", "thumbs_up_drop")
    if m["pct"] and name not in percent_rules and name != "assert_pass_rate_drop":
        # "assert_pass_rate < 90%" means 0.9: rates are fractions.
        value /= 100
    label = f"{name} {m['op']} {m['value']}{m['pct']}"
    confidence = None
    if m["conf"] is not None:
        confidence = float(m["conf"]) / 100
        if not 0.5 <= confidence < 1:
            raise RuleError(f"--fail-on {text!r}: the confidence must be between 50% and 100%")
        ops = TESTABLE.get(name)
        if ops is None:
            raise RuleError(
                f"--fail-on {text!r}: {name} has no significance test (with 'at C%': "
                f"{', '.join(TESTABLE)}); drop the qualifier to compare the raw figure"
            )
        if m["op"] not in ops:
            raise RuleError(
                f"--fail-on {text!r}: {name} is tested in one direction only "
                f"({' or '.join(f'{name} {o} X' for o in ops)})"
            )
        label += f" at {m['conf']}%"
    return Rule(name, m["op"], value, label, confidence)


def parse_rules(texts: Iterable[str]) -> list[Rule]:
    rules: list[Rule] = []
    for text in texts:
        for part in text.split(","):
            if part.strip():
                rules.append(parse_rule(part))
    return rules


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    model: str
    value: float | None
    triggered: bool
    p_value: float | None = None
    """``at C%`` rules: the one-sided p-value of "the rule does not hold"."""
    test: str | None = None
    n: int | None = None
    untested: str | None = None
    """Why an ``at C%`` rule could not be tested (then it is not evaluated)."""

    @property
    def evaluated(self) -> bool:
        return self.value is not None and self.untested is None

    def describe(self) -> str:
        if self.value is None:
            return f"{self.model}: {self.rule.text}: not evaluated (no data)"
        if self.untested is not None:
            return (
                f"{self.model}: {self.rule.text}: {_fmt(self.value)}, not tested ({self.untested})"
            )
        verdict = "FAIL" if self.triggered else "ok"
        if self.rule.confidence is None or self.p_value is None:
            return f"{self.model}: {self.rule.text}: {_fmt(self.value)} → {verdict}"
        alpha = 1 - self.rule.confidence
        why = "significant" if self.p_value < alpha else "not significant"
        return (
            f"{self.model}: {self.rule.text}: {_fmt(self.value)} (n={self.n}, one-sided "
            f"{self.test} p={_fmt_p(self.p_value)}, {why} at α={_fmt(alpha)}) → {verdict}"
        )


def _fmt_p(p: float) -> str:
    return f"{p:.3g}" if p >= 0.001 else "<0.001"


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value:.3f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


def evaluate_rules(
    rules: Sequence[Rule],
    stats: Iterable[ModelStats],
    paired: Mapping[str, Sequence[PairedFigure]] | None = None,
) -> list[RuleResult]:
    """Each rule on each candidate's figures. ``paired``: alias → its paired figures (the drop
    rules and ``at C%`` read them)."""
    out = []
    for s in stats:
        figures = {f.figure: f for f in (paired or {}).get(s.alias, ())}
        for rule in rules:
            value = s.value(rule.name)
            if rule.name == "assert_pass_rate_drop":
                f = figures.get("assert_pass_rate")
                value = None if f is None or f.delta is None else -f.delta * 100
            if value is None or rule.confidence is None:
                out.append(
                    RuleResult(rule, s.alias, value, value is not None and rule.holds(value))
                )
                continue
            out.append(_tested(rule, s, value, figures))
    return out


def _tested(
    rule: Rule, s: ModelStats, value: float, figures: Mapping[str, PairedFigure]
) -> RuleResult:
    """An ``at C%`` rule: FAIL only when the one-sided test rejects "the rule does not hold"."""
    from genaicompare.gate.paired import binom_cdf, binom_sf, drop_beyond_margin

    assert rule.confidence is not None
    alpha = 1 - rule.confidence
    if rule.name in _PAIRED_FIGURE:
        f = figures.get(_PAIRED_FIGURE[rule.name])
        if f is None or not f.detail or not f.n:
            return RuleResult(rule, s.alias, value, False, untested="no paired outcomes")
        b, c = f.detail["pass_to_fail"], f.detail["fail_to_pass"]
        p, test = drop_beyond_margin(b, c, f.n, rule.threshold / 100)
        n = f.n
    elif rule.name == "assert_pass_rate":
        n = s.asserted_cases
        k = n - s.failed_cases
        # H0: the rate is at least the threshold; few passes are the evidence against it.
        p, test = binom_cdf(k, n, rule.threshold), "binomial"
    else:  # error_rate
        n = s.responses
        p, test = binom_sf(s.errors, n, rule.threshold), "binomial"
    triggered = rule.holds(value) and p < alpha
    return RuleResult(rule, s.alias, value, triggered, p_value=p, test=test, n=n)
