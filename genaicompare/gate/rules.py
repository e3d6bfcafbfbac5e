"""``--fail-on`` rules: parsing, and evaluating them on each candidate model's figures.

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

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from genaicompare.gate.cases import ModelStats

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
