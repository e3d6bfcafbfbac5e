"""``genaicompare scores CATALOG``: thumbs-up rates, metric means, the Bradley–Terry leaderboard."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError
from genaicompare.core.figures import (
    MIN_N,
    TOO_SMALL,
    estimate_text,
    missing,
    number,
    pct,
    rate_text,
)
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from genaicompare.scoring import ModelScore, Scores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", help="catalog file, or the name of a catalog in the database")
    parser.add_argument("--by", choices=["tag", "task"], help="also break scores down by tag/task")
    parser.add_argument("--json", action="store_true", help="print machine-readable scores")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1000,
        help="bootstrap rounds for the Bradley-Terry intervals (default 1000, FastChat's)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument(
        "--min-battles",
        type=int,
        default=10,
        metavar="N",
        help="rank models (and call one ahead) only when each has N battles (default 10)",
    )
    parser.add_argument(
        "--method",
        choices=["map", "fastchat"],
        default="map",
        help="Bradley-Terry fit: map (weak prior, default) or fastchat (FastChat's exact code)",
    )


def main(args: argparse.Namespace) -> int:
    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    if args.min_battles < 1:
        raise UserError("--min-battles must be at least 1")
    from concurrent.futures import ThreadPoolExecutor

    from genaicompare.scoring import compute_scores
    from genaicompare.scoring.extras import compute_extras
    from genaicompare.store import catalog_name  # lazy: sqlite-utils, only when the command runs

    with open_store(args) as store:
        name = catalog_name(args.catalog, store)
        # The style, judge and agreement sections read on a connection of their own while the
        # main scores are computed: sqlite3 releases the GIL while a query runs, and most of
        # both is reading.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scores-extras") as pool:
            later = pool.submit(compute_extras, store, name, rounds=args.rounds, seed=args.seed)
            scores = compute_scores(
                store,
                name,
                by=args.by,
                rounds=args.rounds,
                seed=args.seed,
                method=args.method,
                min_battles=args.min_battles,
                notice=_indexing,
            )
            extras = later.result()
    if args.json:
        doc = scores.to_json()
        doc.update(extras_json(extras))
        print(json.dumps(doc, ensure_ascii=False, indent=2))
        return 0
    print_scores(scores)
    print_extras(extras)
    return 0


def _indexing(answers: int) -> None:
    """Before the columnar copy of many answers is written (the first ``scores`` on a database
    that holds many, once), on stderr: stdout keeps the scores and ``--json``."""
    from genaicompare.store.columns import indexing_message

    print(f"genaicompare: {indexing_message(answers)}", file=sys.stderr, flush=True)


def _console() -> Console:
    from rich.console import Console

    return Console(
        highlight=False,
        soft_wrap=False,
        force_terminal=None if sys.stdout.isatty() else False,
        width=int(os.environ.get("COLUMNS", "0")) or None,
    )


def _t(s: object, limit: int = 40) -> Text:
    from rich.text import Text

    # Catalog names, aliases, raters, tags and metric names come from users: shown as text.
    return Text(one_line(str(s), limit))


def _label(s: ModelScore) -> str:
    return s.model if s.group is None else f"{s.model} · {s.group}"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _fit(out: Console, title: str, header: list[str], rows: list[list[Any]], **kw: Any) -> None:
    from genaicompare.core.tables import print_fitted

    cells = [[c if not isinstance(c, str) else _t(c, 60) for c in r] for r in rows]
    print_fitted(out, title, header, cells, **kw)


def section_headline(scores: Scores, out: Console) -> None:
    """Per model, ranked: answers, thumbs, 👍 rate, Bradley–Terry rating, latency, cost."""
    from genaicompare.scoring.results import headline

    header, rows = headline(scores)
    _fit(
        out,
        "per model, ranked (95% intervals; rated = the n of the 👍 rate)",
        header,
        rows,
        corner="figure",
    )


def section_metric_means(scores: Scores, out: Console) -> None:
    """Metric means as metrics × models, the reference metrics first."""
    from genaicompare.gate.reports import metric_text
    from genaicompare.gate.run_diff import metric_order

    models = scores.ranked()
    names = metric_order({n for s in models for n in s.metrics})
    if not names:
        return
    rows = []
    for name in names:
        row: list[Any] = [name]
        for s in models:
            m = s.metrics.get(name)
            row.append(
                "–"
                if not m
                else metric_text(name, m["mean"], m.get("lower"), m.get("upper"), int(m["n"] or 0))
            )
        rows.append(row)
    _fit(
        out,
        "metric means (95% bootstrap interval, n answers)",
        ["metric", *(s.model for s in models)],
        rows,
        corner="figure",
    )
    if scores.groups:
        group_rows = [
            [
                _label(g),
                *(
                    metric_text(
                        n,
                        g.metrics[n]["mean"],
                        g.metrics[n].get("lower"),
                        g.metrics[n].get("upper"),
                        int(g.metrics[n]["n"] or 0),
                    )
                    if n in g.metrics
                    else "–"
                    for n in names
                ),
            ]
            for g in scores.groups
        ]
        _fit(
            out,
            f"metric means by {scores.by}",
            ["model · " + str(scores.by), *names],
            group_rows,
            corner="metric",
        )


def section_groups(scores: Scores, out: Console) -> None:
    """``--by tag|task``: the thumbs-up rate within each group."""
    if not scores.groups:
        return
    rows = [
        [
            _label(g),
            str(g.responses),
            str(g.rated),
            rate_text(g.up_rate, g.up_lower, g.up_upper, g.rated) if g.rated else "no thumbs",
        ]
        for g in scores.groups
    ]
    _fit(
        out,
        f"by {scores.by} (95% Wilson interval)",
        [f"model · {scores.by}", "answers", "rated", "👍 rate"],
        rows,
        corner="figure",
    )


def section_answers(scores: Scores, out: Console) -> None:
    """What the figures are made of: answers, failures, judgements, timing spread, cost."""
    from genaicompare.scoring.results import money

    rows = []
    for s in scores.ranked():
        known = s.responses - s.cost_unknown
        cost = money(s.cost_per_answer)
        if s.cost_per_answer_lower is not None and s.cost_per_answer_upper is not None:
            cost += f" [{s.cost_per_answer_lower:.2g}–{s.cost_per_answer_upper:.2g}]"
        if s.cost_per_answer is not None:
            cost += f" n={known}"
        rows.append(
            [
                s.model,
                str(s.errors),
                str(s.cancelled),
                str(s.votes),
                f"{_num(s.latency_p50)}/{_num(s.latency_p95)} ms",
                f"{_num(s.ttft_p50)}/{_num(s.ttft_p95)} ms",
                cost,
                "unknown"
                if s.cost_total is None
                else f"${s.cost_total:.4f}"
                + (f" (+{s.cost_unknown} unknown)" if s.cost_unknown else ""),
            ]
        )
    _fit(
        out,
        "answers, timing and cost",
        [
            "model",
            "errors",
            "cancelled",
            "A/B votes",
            "latency p50/p95",
            "TTFT p50/p95",
            "cost/answer (95% CI)",
            "cost total",
        ],
        rows,
        corner="figure",
    )


def section_leaderboard(scores: Scores, out: Console) -> None:
    """The Bradley–Terry fit: how it was made, each rating's interval and battles, separation."""
    from rich.text import Text

    bt_result = scores.bt
    src = scores.battle_sources
    if bt_result is None:
        out.print(Text("no battles yet: rate two answers to one prompt (A/B or thumbs)"))
        return
    method = (
        f"MAP, prior sd {bt_result.prior_sd:.0f}"
        if bt_result.method == "map"
        else "FastChat's exact fit"
    )
    out.print(
        Text(
            f"Bradley–Terry ({method}; {bt_result.rounds} bootstrap rounds, seed {bt_result.seed}) "
            f"from {_count(src['preferences'], 'A/B vote')} + "
            f"{_count(src['thumbs'], 'same-prompt thumb pair')}"
            + _graded_note(src)
            + f"; {bt_result.status()}"
        )
    )
    sep = scores.separation
    if sep:
        top, second = one_line(sep["top"], 40), one_line(sep["second"], 40)
        if sep["separated"]:
            msg = f"{top} is ahead of {second}: their intervals do not overlap"
        elif not sep["enough"]:
            msg = ""  # the status said it: no extrapolation from a handful of votes
        elif sep["more_votes"] is None:
            msg = "the top two are tied: no number of votes is expected to separate them"
        else:
            msg = (
                f"{top} and {second} are not separated yet: about {sep['more_votes']:,} more "
                "votes would tell them apart (if the gap holds)"
            )
        if msg:
            out.print(Text(msg))


def section_head_to_head(scores: Scores, out: Console) -> None:
    names = scores.pairwise["models"]
    wins, ties = scores.pairwise["wins"], scores.pairwise["ties"]
    pairs = [
        (i, j)
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if wins[i][j] or wins[j][i] or ties[i][j]
    ]
    if not pairs:
        return
    rows = []
    for i, j in pairs:
        n = wins[i][j] + wins[j][i] + ties[i][j]
        rows.append(
            [f"{names[i]} vs {names[j]}", f"{wins[i][j]} · {ties[i][j]} · {wins[j][i]}", str(n)]
        )
    _fit(
        out,
        "head to head (one battle per judgement: first won · tied · second won)",
        ["pair", "won · tied · won", "battles"],
        rows,
        transposable=False,
    )


def section_rater_agreement(scores: Scores, out: Console) -> None:
    if not scores.kappa:
        return
    rows = []
    for k in scores.kappa[:30]:
        if not k.get("enough", True):
            agree = kappa = f"{TOO_SMALL} (n={k['shared']})"
        else:
            agree = rate_text(
                k["agreement"], k.get("agreement_lower"), k.get("agreement_upper"), k["shared"]
            )
            kappa = estimate_text(
                k["kappa"], k.get("kappa_lower"), k.get("kappa_upper"), k["shared"], digits=2
            )
        rows.append([f"{k['rater_a']} · {k['rater_b']}", agree, kappa])
    _fit(
        out,
        "agreement between raters (Cohen's κ on shared items, 95% interval)",
        ["raters", "agree", "κ"],
        rows,
        transposable=False,
    )


def section_metric_agreement(scores: Scores, out: Console) -> None:
    if not scores.metric_agreement:
        return
    rows = []
    for a in scores.metric_agreement:
        n = f"{a['n']} ({a['n_up']} up, {a['n_down']} down)"
        if not a.get("enough", True):
            finding = TOO_SMALL
        elif a["kind"] == "pass/fail":
            agree = rate_text(
                a.get("agreement"), a.get("agreement_lower"), a.get("agreement_upper"), a["n"]
            )
            kappa = estimate_text(
                a.get("kappa"), a.get("kappa_lower"), a.get("kappa_upper"), None, digits=2
            )
            finding = f"agree {agree}; κ {kappa}"
        else:
            finding = "AUC " + estimate_text(
                a.get("auc"), a.get("auc_lower"), a.get("auc_upper"), None, digits=2
            )
        rows.append([a["metric"], n, finding])
    _fit(
        out,
        "which metric tracks your thumbs (95% intervals)",
        ["metric", "answers", "agreement / κ or AUC"],
        rows,
        transposable=False,
    )


def section_fairness(scores: Scores, out: Console) -> None:
    from rich.text import Text

    fair = scores.fairness
    if not fair["segments"]:
        return
    rows, gaps = [], []
    for m in fair["models"]:
        for e in m["segments"]:
            rows.append(
                [
                    m["model"],
                    one_line(e["segment"], 30),
                    rate_text(e["up_rate"], e["up_lower"], e["up_upper"], e["rated"]),
                ]
            )
        gap = m["largest_gap"]
        if gap:
            n = {e["segment"]: e["rated"] for e in m["segments"]}
            n_high, n_low = n.get(gap["high"], 0), n.get(gap["low"], 0)
            head = (
                f"{one_line(m['model'], 30)}: {one_line(gap['high'], 20)} − "
                f"{one_line(gap['low'], 20)}"
            )
            if min(n_high, n_low) < MIN_N:
                gaps.append(f"{head}: {TOO_SMALL} (n={n_high} vs {n_low})")
            else:
                gaps.append(
                    f"{head} = {pct(gap['gap'])} [{pct(gap['lower'])}, {pct(gap['upper'])}] "
                    f"n={n_high} vs {n_low}"
                    + (" (the interval excludes 0)" if gap["significant"] else " (could be 0)")
                )
    _fit(
        out,
        "fairness across segments (thumbs-up rate, 95% Wilson)",
        ["model", "segment", "thumbs up"],
        rows,
        transposable=False,
    )
    for line in gaps:
        out.print(Text("largest gap · " + line))


def section_trends(scores: Scores, out: Console) -> None:
    for key, heading, what in (("per_run", "per run", "run_id"), ("per_day", "per day", "day")):
        entries = scores.trends[key]
        if not entries:
            continue
        rows = []
        for r in entries[-30:]:
            rows.append(
                [
                    str(r[what]),
                    str(r.get("responses", 0)),
                    rate_text(r["up_rate"], r["up_lower"], r["up_upper"], r["rated"]),
                    estimate_text(
                        r.get("mean_length"),
                        r.get("mean_length_lower"),
                        r.get("mean_length_upper"),
                        r.get("mean_length_n"),
                        digits=0,
                    ),
                    estimate_text(
                        r.get("mean_latency_ms"),
                        r.get("mean_latency_ms_lower"),
                        r.get("mean_latency_ms_upper"),
                        r.get("mean_latency_ms_n"),
                        digits=0,
                    ),
                    str(r.get("safety_flags", 0)),
                ]
            )
        _fit(
            out,
            f"{heading} (95% intervals)",
            [heading.split()[1], "answers", "thumbs up", "mean length", "latency ms", "flags"],
            rows,
            corner="figure",
        )


def section_rubric(scores: Scores, out: Console) -> None:
    """Per rubric criterion and model: a scale's mean [bootstrap 95%] n, a pass-fail criterion's
    pass rate [Wilson 95%] n; "n too small" below MIN_N scores."""
    criteria = (scores.rubric or {}).get("criteria") or []
    if not criteria:
        return
    rows: list[list[Any]] = []
    for c in criteria:
        for m in c["models"]:
            if c["kind"] == "pass-fail":
                figure = rate_text(m["pass_rate"], m["lower"], m["upper"], m["n"])
                what = "pass rate"
            else:
                figure = estimate_text(m["mean"], m["lower"], m["upper"], m["n"])
                what = "mean"
            rows.append([c["criterion"], m["model"], what, figure])
    _fit(
        out,
        "rubric, per criterion (95% intervals: bootstrap for a scale's mean, Wilson for a pass rate)",
        ["criterion", "model", "", "score"],
        rows,
        corner="figure",
    )


SECTIONS: list[Callable[[Scores, Console], None]] = [
    section_headline,
    section_metric_means,
    section_groups,
    section_answers,
    section_leaderboard,
    section_head_to_head,
    section_rater_agreement,
    section_metric_agreement,
    section_fairness,
    section_trends,
    section_rubric,
]
"""``scores``' sections in order: each prints one part (a table or a few lines) or nothing.
A new section is a function of (scores, console) added here."""


def _num(x: float | None, digits: int = 0) -> str:
    return number(x, digits)


def print_scores(scores: Scores, out: Console | None = None) -> None:
    """The scores as tables that fit the terminal (:func:`~genaicompare.core.tables.print_fitted`):
    every rate, mean, rating and κ with n and a 95% interval; "not enough votes" / "n too small"
    where the data cannot say."""
    from rich.text import Text

    out = out or _console()
    out.print(Text(f"scores — {one_line(scores.catalog or 'all catalogs', 80)}"))
    if not scores.models:
        out.print(Text("no responses or ratings for this catalog yet"))
        return
    for section in SECTIONS:
        section(scores, out)


def extras_json(extras: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` keys of issue 14 §5–§7: ``style_control``, ``judge_card``, ``rater_agreement``."""
    return {
        "style_control": extras["style"],
        "judge_card": extras["judge"],
        "rater_agreement": extras["agreement"],
    }


def _ci(e: dict[str, Any] | None, digits: int = 2, key: str = "value") -> str:
    """``0.41 [0.12–0.66]`` from a dict with the value and its interval ("–" when missing)."""
    if not e or missing(e.get(key)):
        return "–"
    return estimate_text(e[key], e.get("lower"), e.get("upper"), None, digits=digits)


def _share(e: dict[str, Any], n_word: str = "n") -> str:
    """A share with its interval and n, or "n too small" below its minimum."""
    if not e.get("enough", True):
        return f"{TOO_SMALL} ({n_word}={e['n']})"
    return rate_text(e.get("rate"), e.get("lower"), e.get("upper"), e["n"])


def print_extras(extras: dict[str, Any]) -> None:
    """The style-controlled leaderboard, the judge's report card and agreement between people,
    each figure with n and a 95% interval (or "n too small")."""
    from rich.table import Table
    from rich.text import Text

    out = _console()

    def t(s: object, limit: int = 40) -> Text:
        return Text(one_line(str(s), limit))

    def table(title: str, *columns: str) -> Table:
        tab = Table(title=Text(title), title_justify="left")
        for i, col in enumerate(columns):
            tab.add_column(col, justify="left" if i == 0 else "right", overflow="fold")
        return tab

    style = extras["style"]
    if style["n"]:
        if not style["enough"]:
            out.print(
                Text(
                    f"style-controlled ratings: {TOO_SMALL} ({style['n']} A/B votes, "
                    f"{style['min_battles']} needed)"
                )
            )
        else:
            st = table(
                f"style-controlled Bradley–Terry ({style['n']} A/B votes; 95% intervals"
                + (
                    ")"
                    if style.get("interval", "bootstrap") == "bootstrap"
                    else f", normal approximation: rounds × votes over {style['boot_budget']:,})"
                ),
                "model",
                "raw",
                "style-adjusted",
            )
            for m in sorted(style["models"], key=lambda m: -m["adjusted"]["rating"]):
                st.add_row(
                    t(m["model"]),
                    _ci(m["raw"], 0, "rating"),
                    _ci(m["adjusted"], 0, "rating"),
                )
            out.print(st)
            ct = table("style coefficients (logit per standard deviation)", "feature", "coef")
            for c in style["coefficients"]:
                ct.add_row(t(c["feature"]), _ci(c, 2, "coef") if c["varies"] else "no variation")
            out.print(ct)
        out.print(
            Text("the longer answer won " + _share(style["longer_won"]) + " of decisive votes")
        )

    for card in extras["judge"]:
        jt = table(
            f"judge report card — {one_line(card['judge'], 60)} ({card['comparisons']} comparisons)",
            "figure",
            "value (95% interval)",
        )
        jt.add_row(Text("order flips (the two orders disagree)"), _share(card["order_flip"]))
        jt.add_row(Text("first-shown answer wins"), _share(card["first_position_win"], "verdicts"))
        jt.add_row(Text("longer answer wins"), _share(card["longer_won"]))
        slope = card["length_slope"]
        jt.add_row(
            Text("length slope (style-control logit)"),
            _ci(slope, 2, "coef") + f" n={slope['n']}"
            if slope["enough"]
            else f"{TOO_SMALL} (n={slope['n']})",
        )
        same = [e["model"] for e in card["same_provider"] if e["same"]]
        jt.add_row(
            Text("same provider as the judge"),
            t(", ".join(same) if same else "none", 60),
        )
        ha = card["human_agreement"]
        jt.add_row(
            Text("κ with human A/B votes"),
            f"{TOO_SMALL} (n={ha['n']})"
            if not ha["enough"]
            else estimate_text(ha["kappa"], ha["lower"], ha["upper"], ha["n"], digits=2),
        )
        for tag in card["human_agreement_by_tag"][:20]:
            jt.add_row(
                t(f"  κ · tag {tag['tag']}"),
                f"{TOO_SMALL} (n={tag['n']})"
                if not tag["enough"]
                else estimate_text(tag["kappa"], tag["lower"], tag["upper"], tag["n"], digits=2),
            )
        out.print(jt)

    agreement = extras["agreement"]
    rows = [(k, agreement[k]) for k in ("thumbs", "preferences") if agreement[k]["n"]]
    if rows:
        at = table(
            "agreement between people (95% bootstrap intervals, n = items rated by 2+)",
            "ratings",
            "Krippendorff α",
            "Fleiss κ",
            "Gwet AC1",
        )
        for kind, e in rows:
            label = "thumbs" if kind == "thumbs" else "A/B votes"
            if not e["enough"]:
                at.add_row(Text(f"{label} (n={e['n']})"), TOO_SMALL, TOO_SMALL, TOO_SMALL)
                continue
            at.add_row(
                Text(f"{label} (n={e['n']}, {e['raters']} raters)"),
                _ci(e["krippendorff_alpha"]),
                _ci(e["fleiss_kappa"]),
                _ci(e["gwet_ac1"]),
            )
        out.print(at)
    bias = agreement["position_bias"]
    if bias["n"]:
        out.print(
            Text("A/B votes for the left pane: " + _share(bias) + " (50% = no position bias)")
        )


def _graded_note(src: dict[str, int | float]) -> str:
    """How strong votes and best-of-N picks entered the fit (only when there are some)."""
    out = ""
    if src.get("best_of_n_picks"):
        out += (
            f" + {_count(int(src['best_of_n']), 'battle')} from "
            f"{_count(int(src['best_of_n_picks']), 'best-of-N pick')} (a pick beats each other "
            "pane; resampled as one judgement)"
        )
    if src.get("strong_preferences"):
        out += (
            f"; {_count(int(src['strong_preferences']), 'strong vote')} (A≫B) weighted "
            f"×{src['strong_weight']:g}, resampled as one"
        )
    return out
