"""``genaicompare diff RUN_A RUN_B``: what changed between two stored runs, most changed first.

Order: answers that had a thumbs-up in RUN_A and are different now; then the least similar; then the
largest metric drops. Each changed answer is shown as a word-level diff. The data comes from
:func:`genaicompare.gate.run_diff.diff_runs` (the TUI's diff screen uses the same function).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from typing import TYPE_CHECKING

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError

if TYPE_CHECKING:
    from genaicompare.gate.paired import PairedFigure
    from genaicompare.gate.run_diff import DiffRow


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_a", type=int, metavar="RUN_A", help="the earlier run id")
    parser.add_argument("run_b", type=int, metavar="RUN_B", help="the later run id")
    parser.add_argument("--model", action="append", default=[], help="only these model aliases")
    parser.add_argument("--limit", type=int, default=50, help="rows to show (default 50; 0 = all)")
    parser.add_argument("--all", action="store_true", help="also list unchanged answers")
    parser.add_argument("--json", action="store_true", help="machine-readable rows")
    parser.add_argument(
        "--tui",
        action="store_true",
        help="browse the changes in a terminal screen (j/k to move, q to close) instead of a table",
    )
    parser.add_argument(
        "--lexical",
        action="store_true",
        help="use lexical similarity even when the embedding model is available",
    )


def main(args: argparse.Namespace) -> int:
    # lazy: the gate imports genaicompare.metrics (numpy), and every command's parser imports
    # this module
    from genaicompare.gate.run_diff import diff_paired, diff_runs
    from genaicompare.gate.similarity import get_similarity

    if args.limit < 0:
        raise UserError("--limit must be 0 or more")
    similarity = get_similarity(prefer_semantic=not args.lexical)
    with open_store(args) as store:
        rows = diff_runs(store, args.run_a, args.run_b, similarity)
        if args.model:
            rows = [r for r in rows if r.model_alias in set(args.model)]
        paired = [] if args.tui else diff_paired(store, args.run_a, args.run_b, rows)
    if args.model:
        paired = [f for f in paired if f.model in set(args.model)]
    if args.tui:
        return _tui(rows, args.run_a, args.run_b, similarity.method, show_unchanged=args.all)
    if not args.all:
        rows = [r for r in rows if r.changed]
    if args.limit:
        rows = rows[: args.limit]
    if args.json:
        from genaicompare.gate.reports import diff_json, dumps

        print(dumps(diff_json(args.run_a, args.run_b, similarity.method, rows, paired)))
        return 0
    _print_table(rows, args.run_a, args.run_b, similarity.method, paired)
    return 0


def _tui(rows: list[DiffRow], run_a: int, run_b: int, method: str, *, show_unchanged: bool) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("--tui needs a terminal; without it the diff is printed as a table")
    from genaicompare.app.screens.run_diff import RunDiffApp
    from genaicompare.config import load_settings

    RunDiffApp(rows, run_a, run_b, method, load_settings(), show_unchanged=show_unchanged).run()
    return 0


def _print_table(
    rows: list[DiffRow], run_a: int, run_b: int, method: str, paired: list[PairedFigure]
) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from genaicompare.core.sanitize import for_display, one_line
    from genaicompare.gate.reports import ci_safe
    from genaicompare.gate.run_diff import word_diff

    tty = sys.stdout.isatty()
    buffer = io.StringIO()
    out = Console(
        file=sys.stdout if tty else buffer,
        highlight=False,
        force_terminal=None if tty else False,
        width=int(os.environ.get("COLUMNS", "0")) or (None if tty else 140),
    )
    table = Table(
        title=Text(f"run {run_a} → run {run_b} · similarity: {method}"),
        title_justify="left",
        show_lines=True,
    )
    for col in ("prompt", "model", "was 👍", "similarity", "metric drops", "word diff"):
        table.add_column(col, overflow="fold")
    for r in rows:
        diff = Text()
        if r.text_a is None or r.text_b is None:
            diff.append("only in run " + (str(run_b) if r.text_a is None else str(run_a)))
        else:
            for op, seg in word_diff(r.text_a[:4000], r.text_b[:4000]):
                # Untrusted text: sanitized, appended as plain Text (never parsed as markup).
                seg = for_display(seg)
                if op == "=":
                    diff.append(seg)
                elif op == "-":
                    diff.append("[-" + seg + "-]" if not tty else seg, style="red strike")
                else:
                    diff.append("{+" + seg + "+}" if not tty else seg, style="green")
        drops = ", ".join(
            f"{k} −{v:.3g}" for k, v in sorted(r.metric_drops.items(), key=lambda kv: -kv[1])[:4]
        )
        states = "" if r.state_a == r.state_b else f" ({r.state_a} → {r.state_b})"
        table.add_row(
            Text(one_line(r.prompt_id, 60)),
            Text(one_line(r.model_alias, 30) + states),
            "yes" if r.thumbs_up_before else "",
            "–" if r.similarity is None else f"{r.similarity:.3f}",
            Text(drops),
            diff,
        )
    out.print(table)
    out.print(Text(f"{len(rows)} row(s)"))
    from genaicompare.gate.reports import print_paired

    print_paired(paired, out)
    if not tty:
        sys.stdout.write(ci_safe(buffer.getvalue()))
        sys.stdout.flush()


__all__ = ["add_arguments", "main"]
