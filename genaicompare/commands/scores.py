"""``genaicompare scores CATALOG``: thumbs-up rates, metric means, the Bradley–Terry leaderboard."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
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
    from genaicompare.scoring import compute_scores
    from genaicompare.store import catalog_name  # lazy: sqlite-utils, only when the command runs

    with open_store(args) as store:
        name = catalog_name(args.catalog, store)
        scores = compute_scores(
            store,
            name,
            by=args.by,
            rounds=args.rounds,
            seed=args.seed,
            method=args.method,
            min_battles=args.min_battles,
        )
    if args.json:
        print(json.dumps(scores.to_json(), ensure_ascii=False, indent=2))
        return 0
    print_scores(scores)
    return 0


TOO_SMALL = "n too small"


def _missing(x: float | None) -> bool:
    return x is None or x != x  # NaN: an interval or κ that does not exist


def _pct(x: float | None) -> str:
    return "–" if _missing(x) else f"{100 * x:.1f}%"  # type: ignore[operator]


def _num(x: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if _missing(x) else f"{x:,.{digits}f}{unit}"


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


def _rate(p: float | None, lo: float | None, hi: float | None, n: int) -> str:
    """A rate with its 95% interval and n: ``50.0% [9.5–90.5] n=2``."""
    if _missing(p):
        return f"– n={n}"
    ci = "" if _missing(lo) or _missing(hi) else f" [{100 * lo:.1f}–{100 * hi:.1f}]"  # type: ignore[operator]
    return f"{_pct(p)}{ci} n={n}"


def _est(
    x: float | None, lo: float | None, hi: float | None, n: int | None, digits: int, unit: str = ""
) -> str:
    """A mean (or κ, AUC) with its 95% interval and n: ``0.65 [0.52–0.78] n=4``."""
    if _missing(x):
        return "–" if n is None else f"– n={n}"
    ci = "" if _missing(lo) or _missing(hi) else f" [{_num(lo, digits)}–{_num(hi, digits)}]"
    return f"{_num(x, digits)}{unit}{ci}" + ("" if n is None else f" n={n}")


def _digits(values: list[float]) -> int:
    """Decimals enough for the metric's scale (scores in [0, 1]: 2)."""
    finite = [abs(v) for v in values if not _missing(v)]
    return 2 if not finite or max(finite) < 10 else 0


def print_scores(scores: Scores) -> None:
    """The scores as narrow tables (each fits 80 columns): every rate, mean, rating and κ with
    n and a 95% interval; "not enough to rank" / "n too small" where the data cannot say."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console(
        highlight=False,
        soft_wrap=False,
        force_terminal=None if sys.stdout.isatty() else False,
        width=int(os.environ.get("COLUMNS", "0")) or None,
    )

    def t(s: object, limit: int = 40) -> Text:
        # Catalog names, aliases, raters, tags and metric names come from users: shown as text.
        return Text(one_line(str(s), limit))

    def table(title: str, *columns: str) -> Table:
        tab = Table(title=Text(title), title_justify="left")
        for i, col in enumerate(columns):
            left = i == 0 or col in ("model", "pair", "metric", "segment")
            tab.add_column(col, justify="left" if left else "right", overflow="fold")
        return tab

    title = Text(f"scores — {one_line(scores.catalog or 'all catalogs', 80)}")
    out.print(title)
    if not scores.models:
        out.print(Text("no responses or ratings for this catalog yet"))
        return
    rows = [*scores.models, *scores.groups]

    def label(s: ModelScore) -> Text:
        return t(s.model if s.group is None else f"{s.model} · {s.group}")

    answers = table(
        "answers and judgements", "model", "answers", "errors", "cancelled", "thumbs", "A/B votes"
    )
    for s in rows:
        answers.add_row(
            label(s),
            str(s.responses),
            str(s.errors),
            str(s.cancelled),
            str(s.rated),
            str(s.votes) if s.group is None else "–",
        )
    out.print(answers)
    thumbs = table("thumbs-up rate (95% Wilson interval)", "model", "thumbs up")
    for s in rows:
        thumbs.add_row(label(s), _rate(s.up_rate, s.up_lower, s.up_upper, s.rated))
    out.print(thumbs)
    metric_names = sorted({n for s in rows for n in s.metrics})
    if metric_names:
        mt = table("metric means (95% bootstrap interval)", "model", "metric", "mean")
        for name in metric_names:
            digits = _digits(
                [float(s.metrics[name]["mean"] or 0) for s in rows if name in s.metrics]
            )
            for s in rows:
                m = s.metrics.get(name)
                if m:
                    mt.add_row(
                        label(s),
                        t(name),
                        _est(m["mean"], m.get("lower"), m.get("upper"), int(m["n"] or 0), digits),
                    )
        out.print(mt)
    speed = table("latency and cost", "model", "latency p50/p95", "TTFT p50/p95", "cost per answer")
    for s in rows:
        known = s.responses - s.cost_unknown
        cost = (
            "unknown"
            if s.cost_per_answer is None
            else f"${s.cost_per_answer:.6f}"
            + (
                ""
                if s.cost_per_answer_lower is None or s.cost_per_answer_upper is None
                else f" [{s.cost_per_answer_lower:.6f}–{s.cost_per_answer_upper:.6f}]"
            )
            + f" n={known}"
        )
        if s.cost_total is not None:
            cost += f" (total ${s.cost_total:.4f})"
        if s.cost_unknown:
            cost += f" (+{s.cost_unknown} unknown)"
        speed.add_row(
            label(s),
            f"{_num(s.latency_p50)}/{_num(s.latency_p95)} ms n={s.responses}",
            f"{_num(s.ttft_p50)}/{_num(s.ttft_p95)} ms",
            cost,
        )
    out.print(speed)

    src = scores.battle_sources
    bt_result = scores.bt
    if bt_result is not None:
        method = (
            f"MAP, prior sd {bt_result.prior_sd:.0f}"
            if bt_result.method == "map"
            else "FastChat's exact fit"
        )
        bt = table(
            f"Bradley–Terry ({method}; {bt_result.rounds} bootstrap rounds, seed "
            f"{bt_result.seed}) from {_count(src['preferences'], 'A/B vote')} + "
            f"{_count(src['thumbs'], 'same-prompt thumb pair')}" + _graded_note(src),
            "rank",
            "model",
            "rating",
            "95% CI",
            "battles",
        )
        for r in bt_result.rows():
            bt.add_row(
                "–" if r["rank"] is None else str(r["rank"]),
                t(r["model"]),
                f"{r['rating']:.0f}",
                f"{r['lower']:.0f}–{r['upper']:.0f}",
                str(r["battles"]) + ("" if r["enough_battles"] else " (too few)"),
            )
        out.print(bt)
        if not bt_result.rankable:
            out.print(Text(bt_result.status()))
        sep = scores.separation
        if sep:
            top, second = one_line(sep["top"], 40), one_line(sep["second"], 40)
            if sep["separated"]:
                msg = f"{top} is ahead of {second}: their intervals do not overlap"
            elif not sep["enough"]:
                msg = ""  # the status line said it: no extrapolation from a handful of votes
            elif sep["more_votes"] is None:
                msg = "the top two are tied: no number of votes is expected to separate them"
            else:
                msg = (
                    f"{top} and {second} are not separated yet: about {sep['more_votes']:,} more "
                    "votes would tell them apart (if the gap holds)"
                )
            if msg:
                out.print(Text(msg))
    else:
        out.print(Text("no battles yet: rate two answers to one prompt (A/B or thumbs)"))

    names = scores.pairwise["models"]
    wins, ties = scores.pairwise["wins"], scores.pairwise["ties"]
    pairs = [
        (i, j)
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if wins[i][j] or wins[j][i] or ties[i][j]
    ]
    if pairs:
        mat = table(
            "head to head (one battle per judgement)",
            "pair",
            "first won",
            "ties",
            "second won",
            "battles",
        )
        for i, j in pairs:
            n = wins[i][j] + wins[j][i] + ties[i][j]
            mat.add_row(
                t(f"{names[i]} vs {names[j]}", 50),
                str(wins[i][j]),
                str(ties[i][j]),
                str(wins[j][i]),
                str(n),
            )
        out.print(mat)

    if scores.kappa:
        kt = table(
            "agreement between raters (Cohen's κ on shared items, 95% interval)",
            "raters",
            "agree",
            "κ",
        )
        for k in scores.kappa[:30]:
            if not k.get("enough", True):
                agree = kappa = f"{TOO_SMALL} (n={k['shared']})"
            else:
                agree = _rate(
                    k["agreement"], k.get("agreement_lower"), k.get("agreement_upper"), k["shared"]
                )
                kappa = _est(k["kappa"], k.get("kappa_lower"), k.get("kappa_upper"), k["shared"], 2)
            kt.add_row(t(f"{k['rater_a']} · {k['rater_b']}"), agree, kappa)
        out.print(kt)
    if scores.metric_agreement:
        at = table(
            "which metric tracks your thumbs (95% intervals)",
            "metric",
            "answers",
            "agreement / κ or AUC",
        )
        for a in scores.metric_agreement:
            n = f"{a['n']} ({a['n_up']} up, {a['n_down']} down)"
            if not a.get("enough", True):
                finding = TOO_SMALL
            elif a["kind"] == "pass/fail":
                finding = (
                    f"agree {_rate(a.get('agreement'), a.get('agreement_lower'), a.get('agreement_upper'), a['n'])}; "
                    f"κ {_est(a.get('kappa'), a.get('kappa_lower'), a.get('kappa_upper'), None, 2)}"
                )
            else:
                finding = "AUC " + _est(
                    a.get("auc"), a.get("auc_lower"), a.get("auc_upper"), None, 2
                )
            at.add_row(t(a["metric"]), n, finding)
        out.print(at)
    fair = scores.fairness
    if fair["segments"]:
        ft = table(
            "fairness across segments (thumbs-up rate, 95% Wilson)", "model", "segment", "thumbs up"
        )
        gaps = []
        for m in fair["models"]:
            for e in m["segments"]:
                ft.add_row(
                    t(m["model"]),
                    t(e["segment"], 30),
                    _rate(e["up_rate"], e["up_lower"], e["up_upper"], e["rated"]),
                )
            gap = m["largest_gap"]
            if gap:
                gaps.append(
                    f"{one_line(m['model'], 30)}: {one_line(gap['high'], 20)} − "
                    f"{one_line(gap['low'], 20)} = {_pct(gap['gap'])} "
                    f"[{_pct(gap['lower'])}, {_pct(gap['upper'])}]"
                    + (" (the interval excludes 0)" if gap["significant"] else " (could be 0)")
                )
        out.print(ft)
        for line in gaps:
            out.print(Text("largest gap · " + line))
    for key, heading, what in (
        ("per_run", "per run", "run_id"),
        ("per_day", "per day", "day"),
    ):
        entries = scores.trends[key]
        if not entries:
            continue
        tt = table(
            f"{heading} (95% intervals)",
            heading.split()[1],
            "answers",
            "thumbs up",
            "mean length",
            "latency ms",
            "flags",
        )
        for r in entries[-30:]:
            tt.add_row(
                t(r[what]),
                str(r.get("responses", 0)),
                _rate(r["up_rate"], r["up_lower"], r["up_upper"], r["rated"]),
                _est(
                    r.get("mean_length"),
                    r.get("mean_length_lower"),
                    r.get("mean_length_upper"),
                    r.get("mean_length_n"),
                    0,
                ),
                _est(
                    r.get("mean_latency_ms"),
                    r.get("mean_latency_ms_lower"),
                    r.get("mean_latency_ms_upper"),
                    r.get("mean_latency_ms_n"),
                    0,
                ),
                str(r.get("safety_flags", 0)),
            )
        out.print(tt)


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
