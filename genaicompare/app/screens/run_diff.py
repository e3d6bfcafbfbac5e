"""The run diff screen: what changed between two stored runs, most changed first.

Left, the changed answers in :func:`genaicompare.gate.run_diff.diff_runs` order (assertions
PASS→FAIL, then FAIL→PASS, then previously thumbs-up and now different, then the least similar,
then the largest metric drop), each with why it ranks there. Right, the word-level diff of the two
answers and every metric's change, by importance, worse or better.

Opened by ``genaicompare diff RUN_A RUN_B --tui`` (:class:`RunDiffApp`) and by ``C`` on the main
screen (the two latest headless runs of the catalog). Answers are untrusted: they are sanitized
before diffing and rendered as ``rich.text.Text``, never markup.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from genaicompare.app.keys import RUN_DIFF_KEYS, key_bindings
from genaicompare.app.themes import STYLESHEET, apply_settings, discover_themes_or_error
from genaicompare.core.sanitize import for_display, one_line

if TYPE_CHECKING:
    from textual.theme import Theme

    from genaicompare.config import Settings
    from genaicompare.gate.run_diff import DiffRow


DIFF_CHARS = 8_000
"""Each answer is diffed up to this many characters: difflib is quadratic in the worst case
(measured: two unrelated 8,000-character answers ≈ 0.9 s, 20,000 ≈ 8 s)."""
INLINE_CHARS = 2_000
"""Answers up to this size (together) are diffed at once (≤ 0.07 s); longer ones in a thread."""


def _markers_by_default(theme: str) -> bool:
    # Colour alone must not carry the diff: without colour (NO_COLOR) or in the high-contrast
    # theme, insertions and deletions are also bracketed, as `git diff --word-diff` does.
    return bool(os.environ.get("NO_COLOR")) or "high-contrast" in theme


def rank_reason(row: DiffRow) -> str:
    """Why a row sits where it does, in words (colour-independent)."""
    if row.text_a is None or row.text_b is None:
        return "only in one run"
    from genaicompare.gate.reports import metric_text

    parts = []
    if row.transition:
        parts.append(f"assertions {row.transition}")
    if row.thumbs_up_before and row.changed:
        parts.append("was 👍, now different")
    if row.similarity is not None:
        parts.append(f"similarity {row.similarity:.3f}")
    worse = [c for c in row.changes() if c[3] == "worse"][:2]
    parts += [
        f"{one_line(name, 30)} {metric_text(name, vb - va, signed=True)} (worse)"
        for name, va, vb, _ in worse
    ]
    if not row.changed:
        parts.append("unchanged")
    return " · ".join(parts)


def row_label(row: DiffRow) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")
    if row.transition:
        out.append(row.transition + " ", style="bold")
    elif row.thumbs_up_before and row.changed:
        out.append("👍≠ ", style="bold")
    out.append(one_line(row.prompt_id, 60), style="bold")
    out.append("  " + one_line(row.model_alias, 40))
    out.append("\n" + rank_reason(row), style="dim")
    return out


def diff_text(
    row: DiffRow,
    run_a: int,
    run_b: int,
    *,
    removed: Style,
    added: Style,
    markers: bool,
) -> Text:
    """The word diff of the two answers: removed words struck, added words underlined."""
    from genaicompare.gate.run_diff import word_diff

    if row.text_a is None or row.text_b is None:
        only, text = (run_b, row.text_b) if row.text_a is None else (run_a, row.text_a)
        out = Text(f"only in run {only}:\n\n", style="italic")
        out.append(for_display(text or ""))
        return out
    # Sanitized before the split, so an escape sequence cut by whitespace cannot survive in parts.
    a, b = for_display(row.text_a), for_display(row.text_b)
    note = ""
    if len(a) > DIFF_CHARS or len(b) > DIFF_CHARS:
        a, b = a[:DIFF_CHARS], b[:DIFF_CHARS]
        note = f"\n\n(diff of the first {DIFF_CHARS:,} characters of each answer)"
    out = Text()
    for op, segment in word_diff(a, b):
        if op == "=":
            out.append(segment)
        elif op == "-":
            out.append(f"[-{segment}-]" if markers else segment, style=removed)
        else:
            out.append(f"{{+{segment}+}}" if markers else segment, style=added)
    if note:
        out.append(note, style="dim italic")
    return out


def detail_header(row: DiffRow, run_a: int, run_b: int, method: str) -> Text:
    """Prompt, model, finish states, rank reason, similarity and every metric's delta."""
    out = Text()
    out.append(one_line(row.prompt_id, 200), style="bold")
    out.append("  ·  " + one_line(row.model_alias, 100) + "\n")
    out.append(f"run {run_a}: {row.state_a or '—'}  →  run {run_b}: {row.state_b or '—'}\n")
    if row.transition:
        out.append(f"assertions {row.transition}\n", style="bold")
    if row.thumbs_up_before:
        out.append(
            f"had a 👍 in run {run_a}" + (", now different\n" if row.changed else ", unchanged\n"),
            style="bold",
        )
    if row.similarity is not None:
        out.append(f"similarity {row.similarity:.3f} ({one_line(method, 80)})\n")
    from genaicompare.gate.reports import metric_text

    changes = row.changes()  # by importance: reference metrics first
    if changes:
        width = min(24, max(len(one_line(c[0], 24)) for c in changes))
        out.append(
            f"{'metric'.ljust(width)}  {f'run {run_a}':>10}  {f'run {run_b}':>10}  {'Δ':>9}\n",
            style="bold",
        )
        for name, va, vb, verdict in changes:
            line = (
                f"{one_line(name, 24).ljust(width)}  {metric_text(name, va):>10}  "
                f"{metric_text(name, vb):>10}  {metric_text(name, vb - va, signed=True):>9}"
            )
            out.append(line)
            out.append(f"  {verdict}\n" if verdict else "\n", style="bold" if verdict else "")
    return out


class RunDiffScreen(Screen[None]):
    """Changed answers on the left (j/k), their word diff and metric deltas on the right."""

    BINDINGS: ClassVar[list[BindingType]] = key_bindings(RUN_DIFF_KEYS)

    def __init__(
        self,
        rows: Sequence[DiffRow],
        run_a: int,
        run_b: int,
        method: str,
        *,
        show_unchanged: bool = False,
        markers: bool | None = None,
    ) -> None:
        super().__init__()
        self.all_rows = list(rows)
        self.run_a, self.run_b, self.method = run_a, run_b, method
        self.show_unchanged = show_unchanged
        self._markers = markers
        self.shown: list[DiffRow] = []
        self._diffs: dict[tuple[int, bool, str], Text] = {}
        """Word diffs already computed, by (row, markers, theme)."""

    @property
    def markers(self) -> bool:
        if self._markers is None:
            return _markers_by_default(self.app.theme)
        return self._markers

    def compose(self) -> ComposeResult:
        yield Static(id="run-diff-title", markup=False)
        with Horizontal(id="run-diff"):
            yield OptionList(id="run-diff-rows")
            with Vertical(id="run-diff-side"):
                yield Static(id="run-diff-header", markup=False)
                with VerticalScroll(id="run-diff-scroll"):
                    yield Static(id="run-diff-body", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._fill()
        self.query_one(OptionList).focus()

    def _fill(self) -> None:
        changed = sum(1 for r in self.all_rows if r.changed)
        self.shown = [r for r in self.all_rows if r.changed or r.transition or self.show_unchanged]
        title = Text()
        title.append(f"run {self.run_a} → run {self.run_b}", style="bold")
        flips = [r.transition for r in self.all_rows if r.transition]
        title.append(
            f"  ·  {changed} of {len(self.all_rows)} answers changed"
            + "".join(
                f"  ·  {flips.count(t)} {t}" for t in ("PASS→FAIL", "FAIL→PASS") if t in flips
            )
            + f"  ·  similarity: {one_line(self.method, 80)}"
        )
        self.query_one("#run-diff-title", Static).update(title)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(row_label(r), id=str(i)) for i, r in enumerate(self.shown)])
        if self.shown:
            options.highlighted = 0
        self._show(0 if self.shown else None)

    def _styles(self) -> tuple[Style, Style]:
        theme: Theme | None = self.app.current_theme
        red = (theme.error if theme else None) or "red"
        green = (theme.success if theme else None) or "green"
        return Style(color=red, strike=True), Style(color=green, underline=True, bold=True)

    def _show(self, index: int | None) -> None:
        header = self.query_one("#run-diff-header", Static)
        body = self.query_one("#run-diff-body", Static)
        self.query_one("#run-diff-scroll", VerticalScroll).scroll_home(animate=False)
        if index is None or index >= len(self.shown):
            header.update(Text(f"no answer changed between run {self.run_a} and run {self.run_b}"))
            body.update(Text(""))
            return
        row = self.shown[index]
        header.update(detail_header(row, self.run_a, self.run_b, self.method))
        removed, added = self._styles()
        key = (id(row), self.markers, self.app.theme)
        cached = self._diffs.get(key)
        if cached is not None:
            body.update(cached)
        elif len(row.text_a or "") + len(row.text_b or "") <= INLINE_CHARS:
            self._diffs[key] = text = self._diff(row, removed, added)
            body.update(text)
        else:
            body.update(Text("computing the word diff …", style="dim italic"))
            self._diff_in_thread(row, key, removed, added)

    def _diff(self, row: DiffRow, removed: Style, added: Style) -> Text:
        return diff_text(
            row, self.run_a, self.run_b, removed=removed, added=added, markers=self.markers
        )

    @work(thread=True, exclusive=True, group="run-diff-body", exit_on_error=False)
    def _diff_in_thread(
        self, row: DiffRow, key: tuple[int, bool, str], removed: Style, added: Style
    ) -> None:
        # Long answers: the UI keeps moving while difflib works; a newer row supersedes this one.
        text = self._diff(row, removed, added)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._diff_ready, row, key, text)

    def _diff_ready(self, row: DiffRow, key: tuple[int, bool, str], text: Text) -> None:
        self._diffs[key] = text
        if self.current is row:
            self.query_one("#run-diff-body", Static).update(text)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    @property
    def current(self) -> DiffRow | None:
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_toggle_unchanged(self) -> None:
        keep = self.current
        self.show_unchanged = not self.show_unchanged
        self._fill()
        if keep is not None and keep in self.shown:
            self.query_one(OptionList).highlighted = self.shown.index(keep)

    def action_toggle_markers(self) -> None:
        self._markers = not self.markers
        options = self.query_one(OptionList)
        self._show(options.highlighted)

    def action_close(self) -> None:
        self.dismiss(None)


class RunDiffApp(App[None]):
    """``genaicompare diff RUN_A RUN_B --tui``: the run diff screen on its own."""

    CSS_PATH = STYLESHEET
    TITLE = "genaicompare diff"

    def __init__(
        self,
        rows: Sequence[DiffRow],
        run_a: int,
        run_b: int,
        method: str,
        settings: Settings | None = None,
        *,
        show_unchanged: bool = False,
    ) -> None:
        super().__init__()
        self.rows, self.run_a, self.run_b, self.method = list(rows), run_a, run_b, method
        self.settings = settings
        self.show_unchanged = show_unchanged

    def on_mount(self) -> None:
        if self.settings is not None:
            apply_settings(self, self.settings, *discover_themes_or_error())
        self.push_screen(
            RunDiffScreen(
                self.rows,
                self.run_a,
                self.run_b,
                self.method,
                show_unchanged=self.show_unchanged,
            ),
            lambda _: self.exit(),
        )
