"""``genaicompare diff RUN_A RUN_B``: what changed between two stored runs, most changed first.

Order: assertions that started failing (PASS→FAIL), then those that started passing; answers
that had a thumbs-up in RUN_A and are different now; then the least similar; then the largest
metric drops. Each changed answer is shown as a heading (why it ranks there), its metric changes
by importance (worse / better), and a word-level diff. The data and the similarity come from
:func:`genaicompare.gate.run_diff.diff_runs` and ``diff_similarity`` (the TUI's ``C`` uses both).
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
    from genaicompare.gate.run_diff import DiffReport, DiffRow


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
        "--semantic",
        action="store_true",
        help="similarity by the embedding model when it is available (default: lexical, as the "
        "TUI's C)",
    )
    parser.add_argument(
        "--lexical",
        action="store_true",
        help="lexical similarity (the default; kept for scripts that pass it)",
    )


def main(args: argparse.Namespace) -> int:
    # lazy: the gate imports genaicompare.metrics (numpy), and every command's parser imports
    # this module
    from genaicompare.gate.run_diff import diff_report, diff_runs, diff_similarity

    if args.limit < 0:
        raise UserError("--limit must be 0 or more")
    if args.semantic and args.lexical:
        raise UserError("--semantic and --lexical exclude each other")
    similarity = diff_similarity(semantic=args.semantic)
    with open_store(args) as store:
        if args.tui:
            rows = diff_runs(store, args.run_a, args.run_b, similarity, models=args.model)
        else:
            # One pass, a batch at a time: the rows shown, the counts and the paired tests
            # (two runs of 333,000 answers held 3.7 GB as a list of rows).
            report = diff_report(
                store,
                args.run_a,
                args.run_b,
                similarity,
                models=args.model,
                limit=args.limit,
                show_unchanged=args.all,
            )
    if args.tui:
        return _tui(rows, args.run_a, args.run_b, similarity.method, show_unchanged=args.all)
    if args.json:
        from genaicompare.gate.reports import diff_json, dumps

        print(dumps(diff_json(args.run_a, args.run_b, similarity.method, report)))
        return 0
    _print_table(report, args.run_a, args.run_b, similarity.method)
    return 0


def _tui(rows: list[DiffRow], run_a: int, run_b: int, method: str, *, show_unchanged: bool) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("--tui needs a terminal; without it the diff is printed as a table")
    from genaicompare.app.screens.run_diff import RunDiffApp
    from genaicompare.config import load_settings

    RunDiffApp(rows, run_a, run_b, method, load_settings(), show_unchanged=show_unchanged).run()
    return 0


def heading(row: DiffRow, run_a: int, run_b: int) -> str:
    """Why a changed answer ranks where it does, in one line (colour-independent)."""
    from genaicompare.core.sanitize import one_line

    bits = [f"{one_line(row.prompt_id, 60)} × {one_line(row.model_alias, 40)}"]
    if row.transition:
        bits.append(f"assertions {row.transition}")
    if row.state_a != row.state_b:
        bits.append(f"{row.state_a or '—'} → {row.state_b or '—'}")
    if row.thumbs_up_before and row.changed:
        bits.append(f"was 👍 in run {run_a}, now different")
    if row.text_a is None or row.text_b is None:
        bits.append("only in run " + (str(run_b) if row.text_a is None else str(run_a)))
    elif row.similarity is not None:
        bits.append(f"similarity {row.similarity:.3f}")
    if not row.changed:
        bits.append("unchanged")
    return " · ".join(bits)


def change_lines(row: DiffRow, limit: int = 6) -> list[str]:
    """The metrics that moved, by importance: ``rougeL 0.50 → 0.30 (worse)``."""
    from genaicompare.core.sanitize import one_line
    from genaicompare.gate.reports import metric_text

    moved = [c for c in row.changes() if c[3]]
    lines = [
        f"{one_line(name, 40)} {metric_text(name, va)} → {metric_text(name, vb)} ({verdict})"
        for name, va, vb, verdict in moved[:limit]
    ]
    if len(moved) > limit:
        lines.append(f"… {len(moved) - limit} more metrics moved (--json has all)")
    return lines


def _print_table(report: DiffReport, run_a: int, run_b: int, method: str) -> None:
    from rich.console import Console
    from rich.padding import Padding
    from rich.text import Text

    from genaicompare.core.sanitize import for_display
    from genaicompare.gate.reports import ci_safe, print_paired
    from genaicompare.gate.run_diff import word_diff

    tty = sys.stdout.isatty()
    buffer = io.StringIO()
    out = Console(
        file=sys.stdout if tty else buffer,
        highlight=False,
        force_terminal=None if tty else False,
        width=int(os.environ.get("COLUMNS", "0")) or (None if tty else 140),
    )
    rows, paired = report.rows, report.paired
    out.print(Text(f"run {run_a} → run {run_b} · similarity: {method}", style="bold"))
    # Counts over every answer compared, not over the rows shown (--limit).
    summary = f"{report.changed} of {report.total} answers changed"
    for what in ("PASS→FAIL", "FAIL→PASS"):
        if report.transitions.get(what):
            summary += f" · {report.transitions[what]} {what}"
    if len(rows) < report.listed:
        summary += f" · {len(rows)} of {report.listed} shown (--limit)"
    out.print(Text(summary))
    if not rows:
        out.print(Text("no answer changed"))
    for r in rows:
        out.print()
        style = "bold red" if r.transition == "PASS→FAIL" else "bold"
        out.print(Text(heading(r, run_a, run_b), style=style))
        for line in change_lines(r):
            out.print(Text("  " + line, style="red" if line.endswith("(worse)") else ""))
        diff = Text()
        if r.text_a is not None and r.text_b is not None and r.changed:
            for op, seg in word_diff(r.text_a[:4000], r.text_b[:4000]):
                # Untrusted text: sanitized, appended as plain Text (never parsed as markup).
                seg = for_display(seg)
                if op == "=":
                    diff.append(seg)
                elif op == "-":
                    diff.append("[-" + seg + "-]" if not tty else seg, style="red strike")
                else:
                    diff.append("{+" + seg + "+}" if not tty else seg, style="green")
        elif r.text_a is None or r.text_b is None:
            diff.append(for_display((r.text_b if r.text_a is None else r.text_a) or ""))
        if diff.plain:
            out.print(Padding(diff, (0, 0, 0, 2), expand=False))
    if paired:
        out.print()
    print_paired(paired, out)
    if not tty:
        sys.stdout.write(ci_safe(buffer.getvalue()))
        sys.stdout.flush()


__all__ = ["add_arguments", "main"]
