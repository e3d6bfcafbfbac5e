"""Per-prompt assertions (the catalog's ``assert:``), evaluated to pass/fail with a reason.

Spec grammar, one entry per metric or check::

    rougeL: ">= 0.3"        # a metric compared with <, <=, >, >=, ==, != and a number
    toxicity: "< 0.1"
    latency_ms: "< 2000"
    exact_match: true       # a boolean means == 1 (true) or == 0 (false)
    contains: "Paris"       # text checks on the output: contains (case-sensitive), icontains,
    not_contains: "sorry"   #   not_contains, regex (re.search), equals (after strip)

``contains`` is a text check unless its value is a comparison (``contains: ">= 1"``) or a
boolean, which compare the reference-based ``contains`` metric instead (1 when the answer
contains any of the prompt's references). A metric that was not
computed (no reference, model unavailable) fails with a reason saying so — never passes by
default. Bad specs raise :class:`AssertionSpecError` (a user error: exit code 2).
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from genaicompare.core.errors import UserError

TEXT_CHECKS = ("contains", "icontains", "not_contains", "regex", "equals")

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_COMPARISON = re.compile(
    r"^\s*(<=|>=|==|!=|<|>|=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


class AssertionSpecError(UserError):
    """An ``assert`` entry that cannot be evaluated (bad operator, number or metric name)."""


@dataclass(frozen=True)
class AssertionResult:
    name: str
    """The spec key (metric name or text check)."""
    passed: bool
    reason: str
    """Human-readable, e.g. ``rougeL = 0.412 >= 0.3`` or ``rougeL not computed (no reference)``."""
    value: float | None = None
    """The metric's value when it was compared."""
    expected: str = ""
    """The condition as written in the spec."""


@dataclass(frozen=True)
class _Check:
    name: str
    kind: str  # "metric" | text check name
    op: str = ""
    threshold: float = 0.0
    text: str = ""
    pattern: re.Pattern[str] | None = None


def _parse_one(name: str, raw: Any, known: Callable[[str], bool] | None) -> _Check:
    if not isinstance(name, str) or not name:
        raise AssertionSpecError(f"assert: key {name!r} is not a metric name")
    if (
        name in TEXT_CHECKS
        and isinstance(raw, str)
        and not (name == "contains" and _COMPARISON.match(raw))
    ):
        if name == "regex":
            try:
                return _Check(name, "regex", pattern=re.compile(raw))
            except re.error as exc:
                raise AssertionSpecError(
                    f"assert.regex: invalid regular expression: {exc}"
                ) from None
        return _Check(name, name, text=raw)
    if name in TEXT_CHECKS and name != "contains":
        raise AssertionSpecError(f"assert.{name}: expects text, got {raw!r}")
    if known is not None and not known(name):
        raise AssertionSpecError(f"assert.{name}: unknown metric")
    if isinstance(raw, bool):
        return _Check(name, "metric", op="==", threshold=1.0 if raw else 0.0)
    if isinstance(raw, (int, float)):
        raise AssertionSpecError(
            f'assert.{name}: give a comparison such as ">= {raw}" (a bare number is ambiguous)'
        )
    if not isinstance(raw, str):
        raise AssertionSpecError(f"assert.{name}: expected a comparison string, got {raw!r}")
    match = _COMPARISON.match(raw)
    if not match:
        raise AssertionSpecError(
            f"assert.{name}: cannot read {raw!r}; write an operator (<, <=, >, >=, ==, !=) "
            'and a number, e.g. ">= 0.3"'
        )
    op = "==" if match.group(1) == "=" else match.group(1)
    threshold = float(match.group(2))
    if not math.isfinite(threshold):
        raise AssertionSpecError(f"assert.{name}: threshold must be a finite number")
    return _Check(name, "metric", op=op, threshold=threshold)


def parse_assertions(
    spec: Mapping[str, Any] | None, known: Callable[[str], bool] | None = None
) -> list[_Check]:
    """Validate a spec without evaluating it; raises :class:`AssertionSpecError`."""
    if spec is None:
        return []
    if not isinstance(spec, Mapping):
        raise AssertionSpecError(f"assert: expected a mapping of metric → condition, got {spec!r}")
    return [_parse_one(name, raw, known) for name, raw in spec.items()]


def _numeric(value: Any) -> float | None:
    # A MetricValue, the store's {"value": ...} row, a (value, detail, version) tuple or a number.
    if isinstance(value, Mapping):
        value = value.get("value")
    elif isinstance(value, tuple):
        value = value[0] if value else None
    else:
        value = getattr(value, "value", value)
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fmt(x: float) -> str:
    """4 significant digits, without an exponent for the thresholds and values of timings and
    counts (``latency_ms < 600000``, not ``< 6e+05``)."""
    if math.isfinite(x) and 1e4 <= abs(x) < 1e15:
        return f"{x:.0f}" if x == int(x) else f"{x:.1f}"
    return f"{x:.4g}"


def _judge_failed(name: str, metrics: Mapping[str, Any]) -> str | None:
    """Why a judge metric is missing when the judge failed for this answer (its reason when the
    caller passed the detail, e.g. a MetricValue or a stored row)."""
    if not name.startswith("judge_") or name == "judge_error" or "judge_error" not in metrics:
        return None
    error = metrics["judge_error"]
    detail = error.get("detail") if isinstance(error, Mapping) else getattr(error, "detail", None)
    reason = detail.get("error") if isinstance(detail, Mapping) else None
    return "not computed: judge_error" + (f" ({reason})" if reason else "")


def evaluate_assertions(
    assert_spec: Mapping[str, Any] | None,
    metrics: Mapping[str, Any],
    *,
    output: str | None = None,
    known: Callable[[str], bool] | None = None,
    missing_reason: Callable[[str], str] | None = None,
) -> list[AssertionResult]:
    """Evaluate every entry of ``assert_spec`` against ``metrics`` (name → value or MetricValue)
    and, for text checks, ``output``. ``missing_reason(name)`` explains an absent metric."""
    results: list[AssertionResult] = []
    for check in parse_assertions(assert_spec, known):
        if check.kind == "metric":
            raw = metrics.get(check.name)
            value = _numeric(raw)
            cond = f"{check.op} {_fmt(check.threshold)}"
            if value is None:
                why = (
                    _judge_failed(check.name, metrics)
                    or (missing_reason(check.name) if missing_reason else None)
                    or ("not computed" if raw is None else "has no numeric value")
                )
                results.append(
                    AssertionResult(
                        check.name, False, f"{check.name} {why}; wanted {cond}", None, cond
                    )
                )
                continue
            ok = _OPS[check.op](value, check.threshold)
            results.append(
                AssertionResult(
                    check.name,
                    ok,
                    f"{check.name} = {_fmt(value)} {'' if ok else 'not '}{cond}",
                    value,
                    cond,
                )
            )
            continue
        if output is None:
            results.append(AssertionResult(check.name, False, f"{check.name}: no output text"))
            continue
        if check.kind == "contains":
            ok = check.text in output
            verb = "contains" if ok else "does not contain"
        elif check.kind == "icontains":
            ok = check.text.casefold() in output.casefold()
            verb = "contains (ignoring case)" if ok else "does not contain (ignoring case)"
        elif check.kind == "not_contains":
            ok = check.text not in output
            verb = "does not contain" if ok else "contains"
        elif check.kind == "equals":
            ok = output.strip() == check.text.strip()
            verb = "equals" if ok else "does not equal"
        else:
            assert check.pattern is not None
            ok = check.pattern.search(output) is not None
            results.append(
                AssertionResult(
                    check.name,
                    ok,
                    f"output {'matches' if ok else 'does not match'} /{check.pattern.pattern}/",
                )
            )
            continue
        results.append(AssertionResult(check.name, ok, f"output {verb} {check.text!r}"))
    return results
