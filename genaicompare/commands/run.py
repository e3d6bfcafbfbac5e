"""``genaicompare run CATALOG``: the headless run and CI regression gate."""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import TYPE_CHECKING, Any

from genaicompare.commands._common import (
    add_model_arguments,
    load_with_models,
    non_negative_int,
    open_store,
    positive_int,
    positive_seconds,
)
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line, redact_secrets, register_secret_env, was_redacted
from genaicompare.providers.events import Timeouts
from genaicompare.providers.local import is_local
from genaicompare.session.comparison import DEFAULT_CONCURRENCY
from genaicompare.session.headless import RunOutcome, run_headless

if TYPE_CHECKING:
    from genaicompare.gate.verdict import Verdict
    from genaicompare.session.summary import ModelSummary

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_STORAGE = 2
_DEFAULT_TIMEOUTS = Timeouts()

EPILOG = """\
exit codes:
  0    every rule passed
  1    a --fail-on rule held (by default: any assertion failure). The verdict says which:
       "regression" when a comparison with the --baseline failed, "assertions failed" when only
       the run's own assertions did (a first run regresses from nothing)
  2    configuration or infrastructure error: bad catalog or option, or answers that ended in
       error/timeout (an unreachable provider is always 2, never 0 or 1); see --max-errors
       A database that fails mid-run (disk full) is 2 too: the answers stored so far are
       kept and reported (JUnit/Markdown); continue with --resume RUN_ID
       A judge whose kappa with human A/B votes is below the catalog's judge.min_agreement
       (on 10+ shared answer pairs) may not gate: 2, whatever the rules said
  130  interrupted (Ctrl-C): finished answers are kept and reported; continue with --resume RUN_ID
  143  terminated (SIGTERM, e.g. a cancelled CI job): handled like Ctrl-C

--fail-on RULE (repeatable, or comma-separated): NAME OP NUMBER[%], OP one of < <= > >= == !=.
A rule that holds for a candidate model is a regression. Names:
  assert_pass_rate       share of prompt x model cases whose assertions all pass (0-1)
  assert_failures        failed cases                    e.g. "assert_failures > 0"
  baseline_similarity    mean similarity to the baseline's answers (0-1)
  assert_pass_rate_drop  baseline pass rate - candidate's on the same prompts, in points
  thumbs_up_drop         thumbs-up rate drop vs baseline, in points (needs ratings)
  cost_increase          cost vs baseline on the same prompts, in %   e.g. "cost_increase > 20%"
  p95_latency_increase   p95 latency vs baseline, in %
  error_rate             share of answers in error/timeout (0-1)
  pass_at_k, pass_hat_k  with --repeat: mean pass@k / pass^k (0-1)
  consistency            with --repeat: mean pairwise similarity of samples (0-1)
  mean:METRIC            mean of a stored metric        e.g. "mean:rougeL < 0.3"
Significance: "RULE at C%", e.g. "assert_pass_rate_drop > 5% at 95%", fails only when the
one-sided test at level 1-C rejects "the rule does not hold" (drops: the paired McNemar/Tango
test; assert_pass_rate <, error_rate >: the exact binomial test); other names have no test.
Rules that cannot be evaluated (no baseline, no ratings, unknown cost) are shown as such and
never fail. With --baseline every report shows, per compared figure, n, baseline, candidate,
delta, 95% interval, p-value (McNemar exact, Wilcoxon signed-rank, sign test) and the minimum
detectable effect at 80% power; `genaicompare plan CATALOG --delta D` sizes a catalog. Defaults: "assert_failures > 0", plus "baseline_similarity < 0.8" with --baseline.

--baseline RUN_ID compares each model with the same alias in that stored run (or with the run's
only model); --baseline MODEL_ALIAS compares the other models of this run with that one.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("catalog", help="catalog file (.yaml or .jsonl)")
    add_model_arguments(parser)
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable results (and the verdict)"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="always call the models (default: reuse stored answers to identical requests)",
    )
    parser.add_argument(
        "--repeat",
        type=positive_int,
        default=1,
        help="samples per prompt × model: identical outputs collapse with counts; "
        "consistency and pass@k / pass^k are reported (default 1)",
    )
    parser.add_argument(
        "--baseline", metavar="RUN_ID|MODEL_ALIAS", help="compare with a stored run or a model"
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        default=[],
        metavar="RULE",
        help='regression rule, e.g. "assert_pass_rate < 0.9" (see below)',
    )
    parser.add_argument(
        "--max-errors",
        type=non_negative_int,
        default=0,
        help="answers in error/timeout tolerated before exit 2 (default 0)",
    )
    parser.add_argument("--junit", metavar="FILE", help="write a JUnit XML report")
    parser.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (PR comment)")
    parser.add_argument(
        "--resume", type=int, metavar="RUN_ID", help="continue an interrupted run of this catalog"
    )
    parser.add_argument(
        "--metrics",
        metavar="LIST",
        help="metrics (or families: lexical, semantic, toxicity, pii, readability, ops) computed "
        "for every answer when the catalog names none; 'all' for every one. Default: "
        "lexical,ops,pii (≈1 ms per answer); embeddings and toxicity cost ≈0.3–0.5 s of CPU per "
        "answer and readability's dictionary seconds to load, so they run when the catalog, an "
        "assertion or this option asks for them",
    )
    parser.add_argument("--no-metrics", action="store_true", help="store answers only")
    parser.add_argument(
        "--no-judge",
        action="store_true",
        help="skip the catalog's LLM judge (judge_* metrics); --metrics without judge names "
        "(or the 'judge' family) skips it too",
    )
    parser.add_argument(
        "--timeout-first-token",
        type=positive_seconds,
        default=_DEFAULT_TIMEOUTS.first_token,
        help="seconds to wait for the first token (default %(default)s)",
    )
    parser.add_argument(
        "--timeout-chunk",
        type=positive_seconds,
        default=_DEFAULT_TIMEOUTS.between_chunks,
        help="seconds to wait between chunks (default %(default)s)",
    )
    parser.add_argument(
        "--timeout-connect",
        type=positive_seconds,
        default=_DEFAULT_TIMEOUTS.connect,
        help="seconds to connect (default %(default)s)",
    )
    parser.add_argument(
        "--retries",
        type=non_negative_int,
        default=_DEFAULT_TIMEOUTS.max_retries,
        help="retries before the first token (default %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    # lazy: the gate imports genaicompare.metrics (numpy, ≈0.35 s), and every command's parser
    # imports this module
    from genaicompare.gate.baseline import resolve_baseline
    from genaicompare.gate.cases import check_assert_specs
    from genaicompare.gate.rules import RuleError, parse_rules
    from genaicompare.gate.verdict import decide

    try:
        rules = parse_rules(args.fail_on)
    except RuleError as exc:
        raise UserError(str(exc)) from None
    catalog = load_with_models(args.catalog, args.models, args.replace_models)
    # The catalog's api_key_env values are secrets whatever their names: redacted in every
    # artifact (stored answers, JUnit, Markdown, --json) as in exports.
    for name in [m.api_key_env for m in catalog.models] + [
        getattr(catalog.judge, "api_key_env", None)
    ]:
        if name:
            register_secret_env(name)
    try:
        check_assert_specs(catalog.prompts)
    except ValueError as exc:
        raise UserError(f"{args.catalog}: {exc}") from None
    timeouts = Timeouts(
        connect=args.timeout_connect,
        first_token=args.timeout_first_token,
        between_chunks=args.timeout_chunk,
        max_retries=args.retries,
    )
    store = open_store(args)
    try:
        baseline_run, baseline_alias = resolve_baseline(
            args.baseline, [m.id for m in catalog.models], store
        )
        outcome = _run(args, catalog, store, timeouts)
        verdict = decide(outcome, store, rules, baseline_run, baseline_alias, args.max_errors)
        judge_gate = _judge_gate(args, catalog, store)
    finally:
        store.close()
    if judge_gate is not None:
        verdict.notes.append(judge_gate[1])
    stopped, label, code = _stop_reason(outcome)
    if stopped is not None:
        verdict.notes.append(stopped)
    label = label or verdict.label
    # Reports are written with what finished, however the run ended (Ctrl-C, SIGTERM, a full disk).
    if args.junit:
        from genaicompare.core.files import write_atomic
        from genaicompare.gate.reports import junit_xml

        write_atomic(
            args.junit,
            junit_xml(
                f"genaicompare.{catalog.name}",
                verdict.cases,
                verdict.rules,
                verdict.paired_list,
                verdict.stats,
            ),
        )
    if args.markdown:
        from genaicompare.core.files import write_atomic
        from genaicompare.gate.reports import markdown

        write_atomic(
            args.markdown,
            markdown(
                f"{catalog.name} {catalog.version}",
                label,
                verdict.stats,
                verdict.rules,
                verdict.cases,
                similarity_method=verdict.similarity_method,
                run_id=outcome.run_id,
                notes=verdict.notes,
                judge=judge_figures(outcome.judge),
                paired=verdict.paired_list,
            ),
        )
    if args.json:
        from genaicompare.gate.reports import dumps, verdict_json

        doc = outcome_json(outcome)
        doc["regression"] = verdict_json(verdict)
        if stopped is not None:
            doc["regression"]["verdict"], doc["regression"]["exit_code"] = label, code
        elif judge_gate is not None and not judge_gate[0]:
            doc["regression"]["verdict"], doc["regression"]["exit_code"] = "error", 2
        print(dumps(doc))
    else:
        _print_console(outcome, verdict if stopped is None else None)
    if stopped is not None:
        resume = f"genaicompare run {one_line(args.catalog, 200)}"
        if args.db:
            resume += f" --db {one_line(args.db, 200)}"
        print(
            f"genaicompare: {stopped}. Continue with: {resume} --resume {outcome.run_id}",
            file=sys.stderr,
        )
        return code
    if judge_gate is not None:
        print(f"genaicompare: {judge_gate[1]}", file=sys.stderr)
        if not judge_gate[0]:
            print(
                "genaicompare: fix the judge, lower judge.min_agreement in the catalog, or run "
                "with --no-judge",
                file=sys.stderr,
            )
            return 2
    return verdict.exit_code


def _judge_gate(args: argparse.Namespace, catalog: Any, store: Any) -> tuple[bool, str] | None:
    """The catalog's ``judge.min_agreement`` check (issue 14 §6): may this judge gate the run?
    ``(allowed, why)``, or None when there is nothing to check."""
    judge = catalog.judge
    if judge is None or judge.min_agreement is None or args.no_judge:
        return None
    # lazy: numpy, only for a catalog that asks for the check
    from genaicompare.scoring.extras import read_connection
    from genaicompare.scoring.judge_card import check_min_agreement, judge_human_agreement

    conn = read_connection(store)
    try:
        agreement = judge_human_agreement(conn, catalog.name, judge.model)
    finally:
        conn.close()
    return check_min_agreement(agreement, judge.min_agreement)


def _stop_reason(outcome: RunOutcome) -> tuple[str | None, str | None, int]:
    """Why the run stopped early (one line for stderr and the reports), its label and exit code;
    ``(None, None, 0)`` for a run that went to the end."""
    kept = f"{len(outcome.records)} answers kept"
    if outcome.storage_error is not None:
        return (
            f"storage failed mid-run: {one_line(outcome.storage_error, 300)}; {kept} "
            "(reports written with them); make room or fix the database",
            "error",
            EXIT_STORAGE,
        )
    if outcome.interrupted:
        if outcome.signal == "SIGTERM":
            return f"terminated (SIGTERM); {kept}", "interrupted", EXIT_TERMINATED
        return f"interrupted; {kept}", "interrupted", EXIT_INTERRUPTED
    return None, None, 0


def _run(args: argparse.Namespace, catalog: Any, store: Any, timeouts: Timeouts) -> RunOutcome:
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    show_progress = not args.no_progress and not args.json and err.is_terminal
    total = len(catalog.prompts) * len(catalog.models) * args.repeat
    options = {
        "jobs": args.jobs,
        "cache": not args.no_cache,
        "repeat": args.repeat,
        "models": [m.id for m in catalog.models],
    }
    selection = _metric_selection(args.metrics)
    kwargs: dict[str, Any] = {
        "catalog_path": args.catalog,
        "concurrency": args.jobs,
        "use_cache": not args.no_cache,
        "timeouts": timeouts,
        "repeat": args.repeat,
        "options": options,
        "resume_run": args.resume,
        "metrics": not args.no_metrics,
        "metric_selection": selection,
        "judge": not args.no_judge,
        # Only an explicit --metrics narrows the judge; the default cheap set does not turn off
        # a judge the catalog asks for.
        "judge_selection": None if args.metrics is None else selection,
    }
    if not show_progress:
        return run_headless(catalog, store, **kwargs)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # Say what the run waits for until the first answer is in (the local model's servers take
    # seconds to start; a bare "0/20 eta -:--:--" said nothing).
    local = sorted({m.model.split("/", 1)[1] for m in catalog.models if is_local(m.model)})
    waiting = (
        f"starting local model {', '.join(local)}…" if local else "waiting for the first answers…"
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(waiting, total=total)
        return run_headless(
            catalog,
            store,
            on_progress=lambda r, n, t: progress.update(task, completed=n, description="running"),
            **kwargs,
        )


def _metric_selection(spec: str | None) -> frozenset[str] | None:
    from genaicompare.session.headless import DEFAULT_HEADLESS_METRICS

    if spec is None:
        return DEFAULT_HEADLESS_METRICS
    names = frozenset(n.strip() for n in spec.split(",") if n.strip())
    if names == {"all"}:
        return None
    from genaicompare.metrics import FAMILIES, is_known_metric

    unknown = sorted(n for n in names if n not in FAMILIES and not is_known_metric(n))
    if unknown:
        raise UserError(f"--metrics: unknown metric(s) {', '.join(unknown)}")
    return names


def outcome_json(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "run_id": outcome.run_id,
        "catalog": {"name": outcome.catalog.name, "version": outcome.catalog.version},
        "database": str(outcome.db_path),
        "seconds": round(outcome.seconds, 3),
        "interrupted": outcome.interrupted,
        "signal": outcome.signal,
        "storage_error": outcome.storage_error,
        "resumed": outcome.resumed,
        "models": [{**s.as_dict(), **mean_figures(s)} for s in outcome.summaries.values()],
        "responses": [
            {
                "id": r.id,
                "prompt_id": r.prompt_id,
                "model_alias": r.model_alias,
                "state": r.state.value,
                "error_type": r.error_type,
                "error": redact_secrets(r.error or "") or r.error,
                "text": redact_secrets(r.text),
                "redacted": was_redacted(r.text),
                "ttft_ms": r.ttft_ms,
                "latency_ms": r.latency_ms,
                "tokens_in": r.tokens_in,
                "tokens_out": r.tokens_out,
                "tokens_estimated": r.tokens_estimated,
                "tokens_per_s": r.tokens_per_s,
                "cost_usd": r.cost_usd,
                "from_cache": r.from_cache,
                "sample_index": r.sample_index,
                "metrics": outcome.metrics.get(r.id or -1, {}),
            }
            for r in outcome.records
        ],
        "judge": judge_figures(outcome.judge),
    }


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def _print_console(outcome: RunOutcome, verdict: Verdict | None) -> None:
    """Summary (and verdict) on stdout; when stdout is not a terminal (CI), every line is made
    inert for workflow-command parsers."""
    from rich.console import Console

    from genaicompare.gate.reports import ci_safe

    tty = sys.stdout.isatty()
    buffer = io.StringIO()
    out = Console(
        file=sys.stdout if tty else buffer,
        highlight=False,
        soft_wrap=False,
        force_terminal=None if tty else False,
        width=int(os.environ.get("COLUMNS", "0")) or (None if tty else 120),
    )
    print_summary(outcome, out)
    if verdict is not None:
        from genaicompare.gate.reports import print_verdict

        print_verdict(verdict, out)
    if not tty:
        sys.stdout.write(ci_safe(buffer.getvalue()))
        sys.stdout.flush()


SPREAD = (
    ("latency_ms", "mean_latency_ms"),
    ("ttft_ms", "mean_ttft_ms"),
    ("tokens_per_s", "mean_tokens_per_s"),
)
"""A model summary's lists of values → the mean figure each gives (``--json``'s names)."""


def mean_figures(s: ModelSummary) -> dict[str, Any]:
    """The summary's means with n and a 95% bootstrap interval (``--json``: ``mean_latency_ms``
    keeps its meaning; ``mean_latency_ms_n``, ``_lower``, ``_upper`` are added)."""
    from genaicompare.scoring.stats import mean_interval  # lazy: numpy

    out: dict[str, Any] = {}
    for attr, name in SPREAD:
        values = getattr(s, attr)
        _mean, lo, hi = mean_interval(values) if values else (None, None, None)
        out[f"{name}_n"] = len(values)
        out[f"{name}_lower"] = None if lo is None or lo != lo else round(lo, 3)
        out[f"{name}_upper"] = None if hi is None or hi != hi else round(hi, 3)
    return out


def print_summary(outcome: RunOutcome, out: Any = None) -> None:
    """Per model: answers, errors, then each mean with its 95% interval and n (latency, TTFT,
    tokens/s), tokens, cost — one table that fits the terminal (transposed or split if not)."""
    from rich.console import Console
    from rich.text import Text

    from genaicompare.core.figures import estimate_text
    from genaicompare.core.tables import print_fitted
    from genaicompare.gate.reports import ci_safe

    if out is None:
        out = Console(highlight=False, soft_wrap=False)
    header = [
        "model",
        "answers",
        "errors",
        "latency ms (95% CI)",
        "TTFT ms (95% CI)",
        "tokens/s (95% CI)",
        "tokens in/out",
        "cost",
    ]
    rows = []
    for s in outcome.summaries.values():
        d = s.as_dict()
        figs = mean_figures(s)
        err = Text(str(s.errors), style="bold red" if s.errors else "")
        if s.errors:
            err.append(
                " ("
                + ", ".join(
                    f"{k} {v}" for k, v in s.states.items() if k not in ("complete", "length")
                )
                + ")"
            )
        cost = (
            "unknown"
            if d["cost_usd"] is None
            else f"${d['cost_usd']:.6f}" + (f" +{s.cost_unknown} unknown" if s.cost_unknown else "")
        )
        means = [
            Text(
                estimate_text(
                    d[name],
                    figs[f"{name}_lower"],
                    figs[f"{name}_upper"],
                    figs[f"{name}_n"],
                    digits=None if name == "mean_tokens_per_s" else 0,
                )
            )
            for _attr, name in SPREAD
        ]
        rows.append(
            [
                Text(ci_safe(one_line(s.alias, 40))),
                Text(str(s.done)),
                err,
                *means,
                Text(f"{s.tokens_in:,}/{s.tokens_out:,}" + ("~" if s.tokens_estimated else "")),
                Text(cost),
            ]
        )
    print_fitted(
        out,
        ci_safe(f"{one_line(outcome.catalog.name, 80)} — run {outcome.run_id}"),
        header,
        rows,
        corner="figure",
    )
    if outcome.judge:
        _print_judge(outcome.judge, out)
    cached = sum(s.from_cache for s in outcome.summaries.values())
    redacted = sum(was_redacted(redact_secrets(r.text)) for r in outcome.records)
    if redacted:
        out.print(
            Text(
                f"{redacted} answer(s) contained a known secret value (an API key from the "
                "environment or the catalog's api_key_env): stored and reported as [REDACTED]",
                style="yellow",
            )
        )
    out.print(
        Text(
            f"{len(outcome.records)} responses in {outcome.seconds:.1f} s"
            + (
                f" ({cached} from cache, their timings left out; --no-cache to re-query)"
                if cached
                else ""
            )
            + (f" ({outcome.resumed} kept from the interrupted run)" if outcome.resumed else "")
            + f" · stored in {outcome.db_path}"
            + (" · interrupted: finished responses kept" if outcome.interrupted else "")
        )
    )


def judge_figures(judge: dict[str, Any] | None) -> dict[str, Any] | None:
    """The judge's summary with each mean's n and 95% bootstrap interval (``mean_score_lower``,
    ``_upper``; ``mean_groundedness_lower``, ``_upper``) and the pairwise win rate with its
    Wilson interval, in place of the raw values (``--json``, console, Markdown)."""
    if judge is None:
        return None
    from genaicompare.gate.paired import wilson
    from genaicompare.scoring.stats import mean_interval  # lazy: numpy

    models = {}
    for alias, d in judge["models"].items():
        d = dict(d)
        for values_key, name in (
            ("score_values", "mean_score"),
            ("groundedness_values", "mean_groundedness"),
        ):
            values = d.pop(values_key, None) or []
            _m, lo, hi = mean_interval(values) if values else (None, None, None)
            d[f"{name}_lower"] = None if lo is None or lo != lo else round(lo, 4)
            d[f"{name}_upper"] = None if hi is None or hi != hi else round(hi, 4)
        decided = d["wins"] + d["losses"]
        lo, hi = wilson(d["wins"], decided) if decided else (None, None)
        d["win_rate"] = d["wins"] / decided if decided else None
        d["win_rate_n"], d["win_rate_lower"], d["win_rate_upper"] = decided, lo, hi
        models[alias] = d
    return {**judge, "models": models}


def judge_lines(judge: dict[str, Any]) -> list[str]:
    """One line per model with the LLM judge's figures, each with n and its 95% interval."""
    from genaicompare.core.figures import estimate_text, rate_text

    judge = judge_figures(judge) or judge
    lines = []
    for alias, d in judge["models"].items():
        bits = []
        if d["scored"]:
            score = estimate_text(
                d["mean_score"], d["mean_score_lower"], d["mean_score_upper"], d["scored"]
            )
            bits.append(f"score (1–10) {score}")
        if d["wins"] or d["losses"] or d["ties"]:
            rate = rate_text(
                d["win_rate"], d["win_rate_lower"], d["win_rate_upper"], d["win_rate_n"]
            )
            bits.append(
                f"pairwise {d['wins']} won / {d['losses']} lost / {d['ties']} tied "
                f"(win rate {rate})"
            )
        if d["mean_groundedness"] is not None:
            g = estimate_text(
                d["mean_groundedness"],
                d["mean_groundedness_lower"],
                d["mean_groundedness_upper"],
                d["groundedness_n"],
            )
            bits.append(f"groundedness {g}")
        if d["errors"]:
            bits.append(f"{d['errors']} judge_error")
        if bits:
            lines.append(f"{one_line(alias, 40)}: " + ", ".join(bits))
    return lines


def _print_judge(judge: dict[str, Any], out: Any) -> None:
    from rich.text import Text

    from genaicompare.gate.reports import ci_safe

    out.print(Text(ci_safe(f"LLM judge {one_line(judge['model'], 80)} ({judge['mode']}):")))
    for line in judge_lines(judge):
        out.print(Text(ci_safe("  " + line)))


__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_STORAGE",
    "EXIT_TERMINATED",
    "add_arguments",
    "main",
    "outcome_json",
]
