"""Regression reports: JUnit XML, a Markdown PR comment, JSON (``run`` and ``diff``), and CI-safe
console text.

Every string that came from a model, a catalog or a provider is untrusted: it is sanitized
(:func:`genaicompare.core.sanitize.for_display`) and, for XML, stripped of the characters XML 1.0 cannot
hold (NUL, other C0 controls, U+FFFE/U+FFFF, lone surrogates), so a report is always well-formed.
Console, JUnit and Markdown lines that would start with ``::`` are neutralised (the first colon
becomes a fullwidth ``：``, visibly): under GitHub Actions such a line is a workflow command
(``::set-output``, ``::add-mask``, ``::error``, ``::stop-commands``…), and a model's answer must
never be able to issue one. Bidi and zero-width format characters are shown as placeholders
(``⟨U+202E⟩``, :func:`~genaicompare.core.sanitize.for_display`). Known secret values are
``[REDACTED]`` everywhere, as in exports (:func:`~genaicompare.core.sanitize.redact_secrets`).
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any

from genaicompare.core.sanitize import for_display, one_line, redact_secrets, was_redacted

if TYPE_CHECKING:
    from rich.console import Console

    from genaicompare.gate.cases import Case, ModelStats
    from genaicompare.gate.paired import PairedFigure
    from genaicompare.gate.rules import RuleResult
    from genaicompare.gate.run_diff import DiffReport
    from genaicompare.gate.verdict import Verdict

# Characters XML 1.0 allows; everything else is dropped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_WORKFLOW_COMMAND = re.compile(r"^(\s*):(?=:)", re.M)
_INERT_COLON = "\uff1a"  # visible, and no workflow-command parser reads it as ':'
REDACTED_NOTE = "[genaicompare: a known secret value was removed from this answer]"
MAX_OUTPUT_IN_REPORT = 20_000


def xml_text(text: str | None, limit: int | None = None) -> str:
    """``text`` safe inside an XML element or attribute (escaping is ElementTree's job)."""
    if not text:
        return ""
    clean = _inert_lines(_XML_INVALID.sub("", for_display(redact_secrets(text))))
    if limit is not None and len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    return clean


def _inert_lines(text: str) -> str:
    return _WORKFLOW_COMMAND.sub(lambda m: m.group(1) + _INERT_COLON, text)


def ci_safe(text: str) -> str:
    """Redacted, sanitized, and no line starts with ``::`` (its first colon becomes ``：``)."""
    return _inert_lines(for_display(redact_secrets(text)))


def metric_text(
    name: str,
    value: float | None,
    lower: float | None = None,
    upper: float | None = None,
    n: int | None = None,
    *,
    signed: bool = False,
) -> str:
    """THE way a metric's value is written (``scores``, ``diff``, the TUI's diff screen): its
    decimals follow its size, with the 95% interval and n when given, "n too small" below
    :data:`~genaicompare.core.figures.MIN_N`. ``name`` is for the metric's own unit and scale
    (metrics.display, when it exists)."""
    from genaicompare.core.figures import estimate_text, missing, number

    if lower is None and upper is None and n is None:
        if missing(value):
            return "–"
        text = number(value, _metric_digits(value))
        if signed and value is not None and value > 0:
            text = "+" + text
        return text.replace("-", "−")
    return estimate_text(value, lower, upper, n, digits=_metric_digits(value))


def _metric_digits(value: float | None) -> int:
    from genaicompare.core.figures import digits_for, missing

    if not missing(value) and value != 0 and abs(value) < 0.01:  # type: ignore[arg-type]
        return 4
    return digits_for(value)


FIGURE_LABELS = {
    "assert_pass_rate": "assertions pass",
    "pass_at_k": "pass@k",
    "pass_hat_k": "pass^k",
    "consistency": "consistency",
    "baseline_similarity": "similarity to baseline",
    "thumbs_up_rate": "👍 rate",
}
"""The per-model figures of a run's verdict, in the order they are shown."""
RATES = frozenset({"assert_pass_rate", "thumbs_up_rate"})


def _mean_ci(values: list[float]) -> tuple[float, float]:
    from genaicompare.gate.paired import paired_bootstrap

    # The bootstrap of a mean is the paired bootstrap of its differences from zero.
    return paired_bootstrap([0.0] * len(values), values)


def _rate_figure(k: int, n: int) -> dict[str, Any]:
    from genaicompare.core.figures import MIN_N
    from genaicompare.gate.paired import wilson

    lo, hi = wilson(k, n)
    return {"value": k / n, "n": n, "lower": lo, "upper": hi, "enough": n >= MIN_N}


def _mean_figure(values: list[float]) -> dict[str, Any]:
    from genaicompare.core.figures import MIN_N

    lo, hi = _mean_ci(values)
    one = len(values) < 2
    return {
        "value": sum(values) / len(values),
        "n": len(values),
        "lower": None if one else lo,
        "upper": None if one else hi,
        "enough": len(values) >= MIN_N,
    }


def model_figures(stats: dict[str, ModelStats], cases: list[Case]) -> dict[str, dict[str, Any]]:
    """Every per-model figure of a verdict with its n and 95% interval: the assertion pass rate
    and the thumbs-up rate (Wilson), pass@k, pass^k, consistency and similarity to the baseline
    (means over prompts, bootstrap). ``enough`` is False below
    :data:`~genaicompare.core.figures.MIN_N` (shown "n too small")."""
    out: dict[str, dict[str, Any]] = {}
    for alias, s in stats.items():
        mine = [c for c in cases if c.model_alias == alias and not c.errored]
        figs: dict[str, Any] = {}
        rate, mean = _rate_figure, _mean_figure
        if s.asserted_cases:
            figs["assert_pass_rate"] = rate(s.asserted_cases - s.failed_cases, s.asserted_cases)
            if any(len(c.samples) > 1 for c in mine):
                for name in ("pass_at_k", "pass_hat_k"):
                    values = [getattr(c, name) for c in mine if c.has_assertions]
                    if values := [float(v) for v in values if v is not None]:
                        figs[name] = mean(values)
        for name in ("consistency", "baseline_similarity"):
            values = [float(v) for c in mine if (v := getattr(c, name)) is not None]
            if values:
                figs[name] = mean(values)
        if s.thumbs_rated and s.thumbs_up_rate is not None:
            k = round(s.thumbs_up_rate * s.thumbs_rated)
            figs["thumbs_up_rate"] = rate(k, s.thumbs_rated)
        out[alias] = figs
    return out


def figure_text(name: str, f: dict[str, Any]) -> str:
    """One verdict figure for people: ``66.7% [30.0–90.3] n=6``, or ``n too small (n=3)``."""
    from genaicompare.core.figures import estimate_text, rate_text

    if name in RATES:
        return rate_text(f["value"], f["lower"], f["upper"], f["n"])
    return estimate_text(
        f["value"], f["lower"], f["upper"], f["n"], digits=3 if f["value"] < 1 else 2
    )


def print_verdict(v: Verdict, out: Console) -> None:
    """The verdict on a rich console: per-model figures (n and 95% interval each), rules, the
    first failing cases, notes."""
    from rich.text import Text

    from genaicompare.core.tables import print_fitted

    figures = model_figures(v.stats, v.cases)
    names = [n for n in FIGURE_LABELS if any(n in f for f in figures.values())]
    if names:
        header = ["model", *(FIGURE_LABELS[n] for n in names)]
        rows = [
            [
                Text(ci_safe(one_line(alias, 40))),
                *(Text(figure_text(n, figs[n]) if n in figs else "–") for n in names),
            ]
            for alias, figs in figures.items()
        ]
        baselines = {s.baseline for s in v.stats.values() if s.baseline}
        title = "per model (95% intervals: Wilson for rates, bootstrap for means)"
        if baselines:
            title += " · baseline " + ", ".join(sorted(one_line(b, 40) for b in baselines))
        print_fitted(out, ci_safe(title), header, rows, corner="figure")
    if v.similarity_method:
        out.print(Text(f"similarity: {v.similarity_method}"))
    print_paired(v.paired_list, out)
    for r in v.rules:
        style = "bold red" if r.triggered else ("dim" if not r.evaluated else "green")
        out.print(Text(ci_safe(one_line(r.describe(), 300)), style=style))
    shown = 0
    for c in v.cases:
        if shown >= 20:
            out.print(Text("… more in --junit / --json"))
            break
        if c.errored:
            bad = next(s for s in c.samples if not s.ok)
            line = f"ERROR {c.prompt_id} × {c.model_alias}: {bad.state.value} {bad.error or ''}"
        elif c.has_assertions and not c.passed:
            reasons = "; ".join(
                f"{a.name} {a.expected}: {a.reason}"
                for results in c.assertions
                for a in results
                if not a.passed
            )
            line = f"FAIL {c.prompt_id} × {c.model_alias}: {reasons}"
        else:
            continue
        shown += 1
        out.print(Text(ci_safe(one_line(line, 400))))
    for note in v.notes:
        out.print(Text(ci_safe(one_line(note, 500)), style="yellow"))
    out.print(Text(f"verdict: {v.label} (exit {v.exit_code})", style="bold"))


# -------------------------------------------------------------------------------- paired


PAIRED_HEAD = ("figure", "test", "n", "baseline", "candidate", "Δ", "95% CI", "p", "MDE 80%")
PAIRED_NOTE = (
    "paired on the same prompts; Δ = candidate − baseline with its 95% interval (Newcombe's "
    "paired score interval for pass/fail rates, paired bootstrap for means, Wilson for the "
    "judge; – : none, every pair differing by the same amount); p two-sided; MDE: the smallest "
    "change this n detects with 80% power at α = 0.05 (– : too few pairs, or no spread to "
    "estimate it from)"
)


def fnum(x: float | None) -> str:
    """A figure in the paired table: 3 significant digits, whole numbers from 100 up."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def fp(p: float | None) -> str:
    return "–" if p is None else ("<0.001" if p < 0.001 else f"{p:.3g}")


def paired_row(f: PairedFigure) -> list[str]:
    """One compared figure's cells; under :data:`~genaicompare.core.figures.MIN_N` pairs its
    difference is "n too small" (no Δ, interval or p read as a finding)."""
    from genaicompare.core.figures import MIN_N, TOO_SMALL

    ci = "–"
    if f.ci is not None and not any(math.isnan(x) for x in f.ci):
        ci = f"[{fnum(f.ci[0])}, {fnum(f.ci[1])}]"
    if f.n < MIN_N:
        return [f.figure, f.test, str(f.n), fnum(f.baseline), fnum(f.candidate), TOO_SMALL]
    return [
        f.figure,
        f.test,
        str(f.n),
        fnum(f.baseline),
        fnum(f.candidate),
        fnum(f.delta),
        ci,
        fp(f.p_value),
        fnum(f.mde),
    ]


def by_importance(figures: list[PairedFigure]) -> list[PairedFigure]:
    """Paired figures as people read them: assertions, similarity, thumbs and the judge first,
    then metric means by importance (reference metrics first), latency and cost last."""
    from genaicompare.gate.run_diff import metric_order

    means = metric_order(f.figure[5:] for f in figures if f.figure.startswith("mean:"))
    rank = {name: i for i, name in enumerate(means)}

    def key(item: tuple[int, PairedFigure]) -> tuple[int, int]:
        i, f = item
        if f.figure.startswith("mean:"):
            return (1, rank[f.figure[5:]])
        return (2 if f.figure in ("latency_ms", "ttft_ms", "cost_usd") else 0, i)

    return [f for _i, f in sorted(enumerate(figures), key=key)]


def _padded(cells: list[Any]) -> list[Any]:
    from rich.text import Text

    return cells + [Text("–")] * (len(PAIRED_HEAD) - len(cells))


def print_paired(figures: list[PairedFigure], out: Console) -> None:
    """One table per candidate: every compared figure with n, both sides, Δ, CI, p and MDE."""
    if not figures:
        return
    from rich.text import Text

    from genaicompare.core.tables import print_fitted

    by_model: dict[tuple[str, str], list[PairedFigure]] = {}
    for f in by_importance(figures):
        by_model.setdefault((f.model, f.against), []).append(f)
    for (model, against), mine in by_model.items():
        print_fitted(
            out,
            ci_safe(f"paired: {one_line(model, 40)} vs {one_line(against, 40)}"),
            list(PAIRED_HEAD),
            [_padded([Text(ci_safe(one_line(c, 60))) for c in paired_row(f)]) for f in mine],
            corner="figure",
        )
    out.print(Text(PAIRED_NOTE, style="dim"))


def paired_markdown(figures: list[PairedFigure]) -> list[str]:
    if not figures:
        return []
    lines = ["**Paired comparison with the baseline**", ""]
    head = ["model", "vs", *PAIRED_HEAD]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for f in by_importance(figures):
        cells = [md_text(f.model, 60), md_text(f.against, 60)]
        cells += [md_text(c, 80) for c in paired_row(f)]
        cells += ["–"] * (len(head) - len(cells))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", md_text(PAIRED_NOTE, 400), ""]
    return lines


def paired_json(figures: list[PairedFigure]) -> list[dict[str, Any]]:
    from genaicompare.core.figures import MIN_N

    # ``enough``: False below MIN_N pairs, where the reports say "n too small".
    return [{**f.as_dict(), "enough": f.n >= MIN_N} for f in figures]


# -------------------------------------------------------------------------------- JUnit


def _case_seconds(case: Case) -> float:
    total = sum((s.latency_ms or 0.0) for s in case.samples if not s.from_cache)
    return total / 1000


def junit_xml(
    suite_name: str,
    cases: list[Case],
    rule_results: list[RuleResult] | None = None,
    paired: list[PairedFigure] | None = None,
    stats: dict[str, ModelStats] | None = None,
) -> str:
    """One ``<testsuite>`` per model, one ``<testcase>`` per prompt × model.

    An answer that did not finish is an ``<error>`` (infrastructure), a failed assertion a
    ``<failure>``; the answer itself goes to ``<system-out>``. Triggered ``--fail-on`` rules
    become test cases of a ``regression-rules`` suite so CI dashboards show them. A candidate's
    paired figures are ``<properties>`` of its suite: ``paired.FIGURE.{test,n,baseline,
    candidate,delta,ci_low,ci_high,p_value,mde}``; its figures (:func:`model_figures`)
    ``figure.NAME.{value,n,lower,upper,enough}``.
    """
    root = ET.Element("testsuites", name=xml_text(suite_name, 200))
    figures = model_figures(stats if stats is not None else _stats_of(cases), cases)
    by_model: dict[str, list[Case]] = {}
    for case in cases:
        by_model.setdefault(case.model_alias, []).append(case)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for alias, mine in by_model.items():
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"{suite_name}.{alias}", 300))
        mine_paired = [f for f in paired or [] if f.model == alias]
        figs = figures.get(alias, {})
        if mine_paired or figs:
            props = ET.SubElement(suite, "properties")
            for name, fig in figs.items():
                for key in ("value", "n", "lower", "upper", "enough"):
                    value = fig[key]
                    ET.SubElement(
                        props,
                        "property",
                        name=xml_text(f"figure.{name}.{key}", 300),
                        value="" if value is None else str(value),
                    )
            for f in mine_paired:
                d = f.as_dict()
                ci = d["ci"] or [None, None]
                fields = {
                    "against": d["against"],
                    "test": d["test"],
                    "n": d["n"],
                    "baseline": d["baseline"],
                    "candidate": d["candidate"],
                    "delta": d["delta"],
                    "ci_low": ci[0],
                    "ci_high": ci[1],
                    "p_value": d["p_value"],
                    "mde": d["mde"],
                    "enough": d["n"] >= _min_n(),
                }
                for key, value in fields.items():
                    ET.SubElement(
                        props,
                        "property",
                        name=xml_text(f"paired.{f.figure}.{key}", 300),
                        value=xml_text("" if value is None else str(value), 300),
                    )
        failures = errors = 0
        seconds = 0.0
        for case in mine:
            seconds += _case_seconds(case)
            tc = ET.SubElement(
                suite,
                "testcase",
                name=xml_text(case.prompt_id, 300),
                classname=xml_text(f"{suite_name}.{alias}", 300),
                time=f"{_case_seconds(case):.3f}",
            )
            if case.errored:
                errors += 1
                bad = next(
                    s for s in case.samples if s.state.value in ("error", "timeout", "cancelled")
                )
                el = ET.SubElement(
                    tc,
                    "error",
                    message=xml_text(
                        f"{bad.state.value}: {bad.error_type or ''} {bad.error or ''}".strip(), 500
                    ),
                    type=xml_text(bad.error_type or bad.state.value, 100),
                )
                el.text = xml_text(bad.error or "", 4000)
            elif case.has_assertions and not case.passed:
                failures += 1
                reasons = [
                    f"sample {i + 1}: {a.name} {a.expected}: {a.reason}"
                    if len(case.samples) > 1
                    else f"{a.name} {a.expected}: {a.reason}"
                    for i, results in enumerate(case.assertions)
                    for a in results
                    if not a.passed
                ]
                el = ET.SubElement(
                    tc, "failure", message=xml_text("; ".join(reasons), 1000), type="assertion"
                )
                el.text = xml_text("\n".join(reasons), 8000)
            out = ET.SubElement(tc, "system-out")
            out.text = xml_text(_case_output(case), MAX_OUTPUT_IN_REPORT)
        suite.set("tests", str(len(mine)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "0")
        suite.set("time", f"{seconds:.3f}")
        totals["tests"] += len(mine)
        totals["failures"] += failures
        totals["errors"] += errors
    evaluated = [r for r in rule_results or [] if r.evaluated]
    if evaluated:
        suite = ET.SubElement(root, "testsuite", name=xml_text(f"{suite_name}.regression-rules"))
        failed = 0
        for r in evaluated:
            tc = ET.SubElement(
                suite,
                "testcase",
                name=xml_text(f"{r.model}: {r.rule.text}", 300),
                classname=xml_text(f"{suite_name}.regression-rules", 300),
                time="0",
            )
            if r.triggered:
                failed += 1
                ET.SubElement(tc, "failure", message=xml_text(r.describe(), 500), type="rule")
        suite.set("tests", str(len(evaluated)))
        suite.set("failures", str(failed))
        suite.set("errors", "0")
        totals["tests"] += len(evaluated)
        totals["failures"] += failed
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _stats_of(cases: list[Case]) -> dict[str, ModelStats]:
    from genaicompare.gate.cases import model_stats

    return model_stats(cases)


def _case_output(case: Case) -> str:
    if len(case.samples) == 1:
        s = case.samples[0]
        return f"{REDACTED_NOTE}\n{s.text}" if was_redacted(s.text) else s.text
    lines = [f"{len(case.samples)} samples, {len(case.distinct_outputs())} distinct"]
    if case.consistency is not None:
        lines.append(f"consistency {case.consistency:.3f}")
    for text, count in case.distinct_outputs():
        lines.append(f"--- ×{count}")
        lines.append(text)
    return "\n".join(lines)


# -------------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~@])")


def md_text(text: str | None, limit: int = 200) -> str:
    """Untrusted text as inert Markdown: one line, specials backslash-escaped, no mentions."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(redact_secrets(text or ""), limit))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def _num(x: float | None, digits: int = 3, unit: str = "") -> str:
    if x is None:
        return "–"
    if math.isinf(x):
        return "∞"
    return f"{x:,.{digits}f}{unit}"


def markdown(
    title: str,
    verdict: str,
    stats: dict[str, ModelStats],
    rule_results: list[RuleResult],
    cases: list[Case],
    *,
    similarity_method: str | None = None,
    run_id: int | None = None,
    notes: list[str] | None = None,
    max_cases: int = 25,
    judge: dict[str, Any] | None = None,
    paired: list[PairedFigure] | None = None,
) -> str:
    from genaicompare.core.figures import estimate_text, rate_text

    icon = {
        "pass": "✅",
        "regression": "❌",
        "assertions failed": "❌",
        "rules failed": "❌",
        "error": "⚠️",
        "interrupted": "⏸️",
    }.get(verdict, "")
    lines = [f"## {icon} genaicompare: {md_text(title, 120)} — {verdict}", ""]
    if run_id is not None:
        lines.append(
            f"Run {run_id}. "
            + (f"Similarity: {md_text(similarity_method)}." if similarity_method else "")
        )
        lines.append("")
    has_base = any(s.baseline for s in stats.values())
    figures = model_figures(stats, cases)
    shown = [
        n
        for n in FIGURE_LABELS
        if any(n in f for f in figures.values()) and (has_base or n != "baseline_similarity")
    ]
    head = ["model", "cases", "errors", *(FIGURE_LABELS[n] for n in shown)]
    if has_base:
        head += ["baseline", "baseline 👍 rate", "cost Δ", "p95 latency Δ"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join("---" for _ in head) + "|")
    for s in stats.values():
        figs = figures.get(s.alias, {})
        row = [md_text(s.alias, 60), str(s.cases), str(s.errors)]
        for n in shown:
            cell = figure_text(n, figs[n]) if n in figs else "–"
            if n == "assert_pass_rate" and n in figs:
                cell += f" ({s.asserted_cases - s.failed_cases}/{s.asserted_cases})"
            row.append(md_text(cell, 80))
        if has_base:
            row += [
                md_text(s.baseline or "–", 60),
                _pct(s.baseline_thumbs_up_rate),
                _num(s.value("cost_increase"), 1, "%"),
                _num(s.value("p95_latency_increase"), 1, "%"),
            ]
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append(
        "Rates with a 95% Wilson interval, means over prompts with a 95% bootstrap interval, "
        'n = prompts (or thumbs); "n too small" below '
        f"{_min_n()} — not a finding."
    )
    lines.append("")
    if judge:
        lines.append(f"**LLM judge** {md_text(judge['model'], 80)} ({md_text(judge['mode'])})")
        lines.append("")
        lines.append(
            "| model | mean score (1-10) | pairwise won/lost/tied | win rate | groundedness "
            "| errors |"
        )
        lines.append("|---|---|---|---|---|---|")
        for alias, d in judge["models"].items():
            score = estimate_text(
                d["mean_score"], d.get("mean_score_lower"), d.get("mean_score_upper"), d["scored"]
            )
            win = rate_text(
                d.get("win_rate"),
                d.get("win_rate_lower"),
                d.get("win_rate_upper"),
                d.get("win_rate_n", 0),
            )
            grounded = estimate_text(
                d["mean_groundedness"],
                d.get("mean_groundedness_lower"),
                d.get("mean_groundedness_upper"),
                d.get("groundedness_n"),
            )
            lines.append(
                f"| {md_text(alias, 60)} | {md_text(score if d['scored'] else '–')} | "
                f"{d['wins']}/{d['losses']}/{d['ties']} | {md_text(win)} | "
                f"{md_text(grounded)} | {d['errors']} |"
            )
        lines.append("")
    lines += paired_markdown(paired or [])
    if rule_results:
        lines.append("**Rules**")
        lines.append("")
        for r in rule_results:
            mark = "➖" if not r.evaluated else ("❌" if r.triggered else "✅")
            lines.append(f"- {mark} {md_text(r.describe(), 300)}")
        lines.append("")
    for note in notes or []:
        lines.append(f"> {md_text(note, 500)}")
        lines.append("")
    bad = [c for c in cases if c.errored or (c.has_assertions and not c.passed)]
    if bad:
        lines.append(f"<details><summary>{len(bad)} failing case(s)</summary>")
        lines.append("")
        lines.append("| prompt | model | problem |")
        lines.append("|---|---|---|")
        for c in bad[:max_cases]:
            if c.errored:
                bad_sample = next(x for x in c.samples if not x.ok)
                problem = (
                    f"{bad_sample.state.value}: {bad_sample.error_type or ''} "
                    f"{bad_sample.error or ''}"
                )
            else:
                problem = "; ".join(
                    f"{a.name} {a.expected}: {a.reason}"
                    for results in c.assertions
                    for a in results
                    if not a.passed
                )
            lines.append(
                f"| {md_text(c.prompt_id, 80)} | {md_text(c.model_alias, 40)} | "
                f"{md_text(problem, 300)} |"
            )
        if len(bad) > max_cases:
            lines.append(f"| … | | {len(bad) - max_cases} more |")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    return ci_safe("\n".join(lines))


# -------------------------------------------------------------------------------- JSON


def _clean_number(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _min_n() -> int:
    from genaicompare.core.figures import MIN_N

    return MIN_N


def regression_json(
    verdict: str,
    exit_code: int,
    stats: dict[str, ModelStats],
    rule_results: list[RuleResult],
    cases: list[Case],
    similarity_method: str | None,
) -> dict[str, Any]:
    """The ``regression`` section of ``--json`` (texts as stored: JSON escaping makes them inert)."""
    return {
        "verdict": verdict,
        "exit_code": exit_code,
        "similarity_method": similarity_method,
        "models": {
            alias: {k: _clean_number(v) for k, v in vars(s).items()} for alias, s in stats.items()
        },
        # Each figure with its n, 95% interval and whether n is enough to read it as a finding.
        "figures": {
            alias: {name: {k: _clean_number(x) for k, x in f.items()} for name, f in figs.items()}
            for alias, figs in model_figures(stats, cases).items()
        },
        "rules": [
            {
                "rule": r.rule.text,
                "model": r.model,
                "value": _clean_number(r.value),
                "evaluated": r.evaluated,
                "triggered": r.triggered,
                **(
                    {
                        "confidence": r.rule.confidence,
                        "p_value": r.p_value,
                        "test": r.test,
                        "n": r.n,
                        "untested": r.untested,
                    }
                    if r.rule.confidence is not None
                    else {}
                ),
            }
            for r in rule_results
        ],
        "cases": [
            {
                "prompt_id": c.prompt_id,
                "model_alias": c.model_alias,
                "passed": c.passed,
                "errored": c.errored,
                "samples": len(c.samples),
                "distinct_outputs": [
                    {"text": redact_secrets(t), "count": n} for t, n in c.distinct_outputs()
                ]
                if len(c.samples) > 1
                else None,
                "consistency": c.consistency,
                "pass_at_k": c.pass_at_k,
                "pass_hat_k": c.pass_hat_k,
                "baseline_similarity": c.baseline_similarity,
                "assertions": [
                    [
                        {
                            "name": a.name,
                            "expected": a.expected,
                            "passed": a.passed,
                            "reason": a.reason,
                            "value": _clean_number(a.value),
                        }
                        for a in results
                    ]
                    for results in c.assertions
                ],
            }
            for c in cases
        ],
    }


def verdict_json(v: Verdict) -> dict[str, Any]:
    """``run --json``'s ``regression`` object: :func:`regression_json` of the verdict, and its notes."""
    doc = regression_json(v.label, v.exit_code, v.stats, v.rules, v.cases, v.similarity_method)
    doc["baseline"] = v.baseline
    doc["paired"] = paired_json(v.paired_list)
    doc["notes"] = v.notes
    return doc


def diff_json(run_a: int, run_b: int, method: str, report: DiffReport) -> dict[str, Any]:
    """``diff --json``: the two runs, the similarity method, counts over every answer compared
    (``answers``, ``changed``, ``transitions``; ``listed``: rows that qualify to be shown, of
    which ``rows`` holds the first ``--limit``), the paired figures of each model of run B
    against the same model in run A, and every row shown with both answers, its assertion
    outcomes and transition, and its metric changes by importance (worse / better / neutral)."""
    rows = report.rows
    return {
        "run_a": run_a,
        "run_b": run_b,
        "similarity_method": method,
        "answers": report.total,
        "changed": report.changed,
        "transitions": report.transitions,
        "listed": report.listed,
        "paired": paired_json(report.paired),
        "rows": [
            {
                "prompt_id": r.prompt_id,
                "model_alias": r.model_alias,
                "changed": r.changed,
                "thumbs_up_before": r.thumbs_up_before,
                "similarity": r.similarity,
                "metric_drops": r.metric_drops,
                "assertions_a": _outcome(r.passed_a),
                "assertions_b": _outcome(r.passed_b),
                "transition": r.transition,
                "metric_changes": [
                    {"metric": n, "a": va, "b": vb, "change": verdict or "neutral"}
                    for n, va, vb, verdict in r.changes()
                ],
                "metrics_a": r.metrics_a,
                "metrics_b": r.metrics_b,
                "state_a": r.state_a,
                "state_b": r.state_b,
                "text_a": None if r.text_a is None else redact_secrets(r.text_a),
                "text_b": None if r.text_b is None else redact_secrets(r.text_b),
            }
            for r in rows
        ],
    }


def _outcome(passed: bool | None) -> str | None:
    return None if passed is None else ("pass" if passed else "fail")


def dumps(obj: Any) -> str:
    # ASCII: C1 controls and U+2028 would reach the terminal raw otherwise.
    return json.dumps(obj, ensure_ascii=True, indent=2, default=str)
