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
    from genaicompare.scoring import Scores


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", help="catalog file, or the name of a catalog in the database")
    parser.add_argument("--by", choices=["tag", "task"], help="also break scores down by tag/task")
    parser.add_argument("--json", action="store_true", help="print machine-readable scores")
    parser.add_argument(
        "--rounds",
        type=int,
        default=100,
        help="bootstrap rounds for the Bradley-Terry intervals (default 100)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")


def main(args: argparse.Namespace) -> int:
    if args.rounds < 1:
        raise UserError("--rounds must be at least 1")
    from genaicompare.scoring import compute_scores
    from genaicompare.store import catalog_name  # lazy: sqlite-utils, only when the command runs

    with open_store(args) as store:
        name = catalog_name(args.catalog, store)
        scores = compute_scores(store, name, by=args.by, rounds=args.rounds, seed=args.seed)
    if args.json:
        print(json.dumps(scores.to_json(), ensure_ascii=False, indent=2))
        return 0
    print_scores(scores)
    return 0


def _missing(x: float | None) -> bool:
    return x is None or x != x  # NaN: an interval or κ that does not exist


def _pct(x: float | None) -> str:
    return "–" if _missing(x) else f"{100 * x:.1f}%"  # type: ignore[operator]


def _num(x: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if _missing(x) else f"{x:,.{digits}f}{unit}"


def print_scores(scores: Scores) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console(
        highlight=False,
        soft_wrap=False,
        force_terminal=None if sys.stdout.isatty() else False,
        width=int(os.environ.get("COLUMNS", "0")) or None,
    )

    def t(s: object, limit: int = 60) -> Text:
        # Catalog names, aliases, raters, tags and metric names come from users: shown as text.
        return Text(one_line(str(s), limit))

    title = Text(f"scores — {one_line(scores.catalog or 'all catalogs', 80)}")
    if not scores.models:
        out.print(title)
        out.print(Text("no responses or ratings for this catalog yet"))
        return
    metric_names = sorted({n for s in scores.models for n in s.metrics})
    table = Table(title=title, title_justify="left")
    for col in (
        "model",
        "rated",
        "thumbs up (95% CI)",
        *metric_names,
        "latency p50/p95",
        "TTFT p50/p95",
        "cost total / per answer",
    ):
        table.add_column(Text(one_line(col, 40)), justify="left" if col == "model" else "right")
    for s in [*scores.models, *scores.groups]:
        label = s.model if s.group is None else f"{s.model} · {s.group}"
        up = (
            "–"
            if s.up_rate is None
            else (f"{_pct(s.up_rate)} [{_pct(s.up_lower)}–{_pct(s.up_upper)}]")
        )
        mets = []
        for n in metric_names:
            m = s.metrics.get(n)
            mets.append(
                Text("–") if not m else Text(f"{m['mean']:.3g} / {m['median']:.3g} (n={m['n']})")
            )
        cost = (
            "unknown"
            if s.cost_total is None
            else (f"${s.cost_total:.4f} / ${s.cost_per_answer:.6f}")
        )
        if s.cost_unknown:
            cost += f" (+{s.cost_unknown} unknown)"
        table.add_row(
            t(label),
            str(s.rated),
            up,
            *mets,
            f"{_num(s.latency_p50)} / {_num(s.latency_p95)} ms",
            f"{_num(s.ttft_p50)} / {_num(s.ttft_p95)} ms",
            cost,
        )
    out.print(table)

    src = scores.battle_sources
    if scores.bt is not None:
        bt = Table(
            title=Text(
                f"Bradley–Terry (FastChat method; {scores.bt.rounds} bootstrap rounds, seed "
                f"{scores.bt.seed}) from {src['preferences']} A/B votes + {src['thumbs']} "
                "same-prompt thumb pairs"
            ),
            title_justify="left",
        )
        for col in ("rank", "model", "rating", "95% CI", "battles"):
            bt.add_column(col, justify="left" if col == "model" else "right")
        for r in scores.bt.rows():
            bt.add_row(
                str(r["rank"]),
                t(r["model"]),
                f"{r['rating']:.0f}",
                f"{r['lower']:.0f}–{r['upper']:.0f}",
                str(r["battles"]),
            )
        out.print(bt)
        sep = scores.separation
        if sep:
            if sep["separated"]:
                msg = (
                    f"{one_line(sep['top'], 40)} is ahead of {one_line(sep['second'], 40)}: "
                    "their intervals do not overlap"
                )
            elif sep["more_votes"] is None:
                msg = "the top two are tied: no number of votes is expected to separate them"
            else:
                msg = (
                    f"about {sep['more_votes']:,} more votes would separate "
                    f"{one_line(sep['top'], 40)} from {one_line(sep['second'], 40)} "
                    "(if the gap holds)"
                )
            out.print(Text(msg))
    else:
        out.print(Text("no battles yet: rate two answers to one prompt (A/B or thumbs)"))

    names = scores.pairwise["models"]
    if any(any(row) for row in scores.pairwise["wins"]) or any(
        any(row) for row in scores.pairwise["ties"]
    ):
        mat = Table(title=Text("wins / ties / losses (row vs column)"), title_justify="left")
        mat.add_column("")
        for n in names:
            mat.add_column(t(n, 20), justify="right")
        for i, a in enumerate(names):
            cells = []
            for j in range(len(names)):
                if i == j:
                    cells.append("·")
                else:
                    w = scores.pairwise["wins"][i][j]
                    ti = scores.pairwise["ties"][i][j]
                    lo = scores.pairwise["wins"][j][i]
                    cells.append(f"{w}/{ti}/{lo}")
            mat.add_row(t(a, 20), *cells)
        out.print(mat)

    if scores.kappa:
        kt = Table(
            title=Text("agreement between raters (Cohen's κ on shared items)"), title_justify="left"
        )
        for col in ("raters", "shared", "agree", "κ", "κ thumbs", "κ A/B"):
            kt.add_column(col, justify="left" if col == "raters" else "right")
        for k in scores.kappa[:30]:
            kt.add_row(
                t(f"{k['rater_a']} · {k['rater_b']}"),
                str(k["shared"]),
                _pct(k["agreement"]),
                _num(k["kappa"], 2),
                _num(k["kappa_thumbs"], 2),
                _num(k["kappa_preferences"], 2),
            )
        out.print(kt)
    if scores.metric_agreement:
        at = Table(title=Text("which metric tracks your thumbs"), title_justify="left")
        for col in ("metric", "answers", "agreement / κ (pass-fail)", "AUC (scores)"):
            at.add_column(col, justify="left" if col == "metric" else "right")
        for a in scores.metric_agreement:
            at.add_row(
                t(a["metric"]),
                str(a["n"]),
                f"{_pct(a.get('agreement'))} / {_num(a.get('kappa'), 2)}"
                if a["kind"] == "pass/fail"
                else "–",
                _num(a.get("auc"), 2) if a["kind"] == "score" else "–",
            )
        out.print(at)
    fair = scores.fairness
    if fair["segments"]:
        ft = Table(title=Text("fairness across segments (thumbs-up rate)"), title_justify="left")
        ft.add_column("model")
        for seg in fair["segments"]:
            ft.add_column(t(seg, 20), justify="right")
        ft.add_column("largest gap (95% CI)", justify="right")
        for m in fair["models"]:
            gap = m["largest_gap"]
            g = (
                "–"
                if not gap
                else (
                    f"{one_line(gap['high'], 20)}−{one_line(gap['low'], 20)}: {_pct(gap['gap'])} "
                    f"[{_pct(gap['lower'])}, {_pct(gap['upper'])}]"
                    + (" *" if gap["significant"] else "")
                )
            )
            ft.add_row(t(m["model"]), *[_pct(e["up_rate"]) for e in m["segments"]], Text(g))
        out.print(ft)
    runs = scores.trends["per_run"]
    if runs:
        rt = Table(title=Text("per run"), title_justify="left")
        for col in ("run", "responses", "thumbs up", "mean length", "mean latency", "safety flags"):
            rt.add_column(col, justify="right")
        for r in runs[-20:]:
            rt.add_row(
                str(r["run_id"]),
                str(r["responses"]),
                f"{_pct(r['up_rate'])} (n={r['rated']})",
                _num(r["mean_length"]),
                _num(r["mean_latency_ms"], 0, " ms"),
                str(r["safety_flags"]),
            )
        out.print(rt)
    days = scores.trends["per_day"]
    if days:
        dt = Table(title=Text("per day"), title_justify="left")
        for col in (
            "day",
            "rated",
            "thumbs up",
            "responses",
            "mean length",
            "mean latency",
            "safety flags",
        ):
            dt.add_column(col, justify="right")
        for d in days[-30:]:
            dt.add_row(
                t(d["day"]),
                str(d["rated"]),
                _pct(d["up_rate"]),
                str(d.get("responses", 0)),
                _num(d.get("mean_length")),
                _num(d.get("mean_latency_ms"), 0, " ms"),
                str(d.get("safety_flags", 0)),
            )
        out.print(dt)
