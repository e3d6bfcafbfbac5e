"""Small modal screens: link confirmation, rating comment, word diff, scores, catalog picker,
export format chooser.

Every piece of untrusted text here is rendered as ``rich.text.Text`` (never markup).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from genaicompare.core.sanitize import for_display, one_line, redact


def safe_link(url: str) -> bool:
    """Only http(s) links with a host may be opened (no file:, javascript:, custom schemes)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ConfirmLink(ModalScreen[bool]):
    """Shows the full URL; opens nothing unless the user says yes."""

    BINDINGS = [Binding("escape,n", "dismiss(False)", "Cancel"), Binding("y", "yes", "Open")]

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.allowed = safe_link(url)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            if self.allowed:
                yield Label("Open this link in your browser?")
            else:
                yield Label("This link will not be opened (only http and https links are).")
            yield Static(Text(one_line(self.url, 4000), style="bold"), classes="url")
            with Horizontal(classes="buttons"):
                if self.allowed:
                    yield Button("Open (y)", id="yes", variant="warning")
                yield Button("Cancel (n)", id="no", variant="primary")

    def action_yes(self) -> None:
        self.dismiss(self.allowed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes" and self.allowed)


class CommentScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(f"Comment on {one_line(self.what, 200)} (Enter saves, Esc cancels)"))
            yield Input(placeholder="comment", id="comment")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)


def word_diff(left: str, right: str) -> Text:
    """Word-level diff of two answers: removed words struck red, added words green."""
    from genaicompare.gate.regression import word_diff as segments

    styles = {"=": "", "-": "strike red", "+": "bold green"}
    out = Text()
    for op, segment in segments(for_display(left), for_display(right)):
        out.append(segment, style=styles[op])
    return out


class DiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,D", "dismiss(None)", "Close")]

    def __init__(self, left_title: str, left: str, right_title: str, right: str) -> None:
        super().__init__()
        self.left_title, self.left, self.right_title, self.right = (
            left_title,
            left,
            right_title,
            right,
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            title = Text()
            title.append(one_line(self.left_title, 80), style="strike red")
            title.append("  →  ")
            title.append(one_line(self.right_title, 80), style="bold green")
            yield Label(title)
            with VerticalScroll():
                yield Static(word_diff(self.left, self.right))


class ScoresScreen(ModalScreen[None]):
    """The scoring module's table, then bar charts with their intervals (plain text cells)."""

    BINDINGS = [Binding("escape,q,S", "dismiss(None)", "Close")]

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[object]],
        note: str = "",
        charts: Sequence[dict[str, Any]] = (),
    ) -> None:
        super().__init__()
        self.title_text = title
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]
        self.note = note
        self.charts = list(charts)

    def compose(self) -> ComposeResult:
        from genaicompare.app.widgets.bars import bar_chart

        with Vertical(classes="dialog wide"):
            yield Label(Text(self.title_text, style="bold"))
            with VerticalScroll():
                table: DataTable[Text] = DataTable(zebra_stripes=True, cursor_type="row")
                yield table
                if self.note:
                    yield Label(Text(self.note))
                for series in self.charts:
                    yield Static(bar_chart(series), classes="chart")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*self.columns)
        for row in self.rows:
            table.add_row(*(Text(one_line(_fmt(c), 200)) for c in row))


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


class CatalogPicker(ModalScreen[str | None]):
    """``genaicompare`` alone: recent catalogs and the bundled samples (quickstart first)."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Quit")]

    def __init__(self, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Open a catalog (Enter), Esc quits")
            yield OptionList(
                *(
                    Option(Text(one_line(label, 200)), id=str(i))
                    for i, (label, _) in enumerate(self.choices)
                ),
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])


# (format, label, what it holds, what it needs when nothing qualifies)
EXPORT_FORMATS: list[tuple[str, str, str, str]] = [
    (
        "rated",
        "rated",
        "every answer with its ratings (loads back as a catalog)",
        "no answers are stored for this catalog yet",
    ),
    ("sft", "SFT", "chats from answers rated 👍", "it takes answers rated 👍"),
    (
        "dpo",
        "DPO",
        "chosen/rejected pairs",
        "it takes an A/B preference (a or b), or a 👍 and a 👎 on the same prompt",
    ),
    ("kto", "KTO", "answers labelled by their 👍/👎", "it takes answers rated 👍 or 👎"),
]


class ExportScreen(ModalScreen[None]):
    """``E``: choose a format with the keys (Enter exports, Esc closes); the file is written in a
    thread and the screen shows where, and how many lines — or why nothing qualified.

    ``export`` writes one format and returns ``(path, lines)``; ``(None, 0)`` when nothing
    qualified (no file is left behind).
    """

    BINDINGS = [Binding("escape,q,E", "dismiss(None)", "Close")]

    def __init__(self, catalog_name: str, export: Callable[[str], tuple[str | None, int]]) -> None:
        super().__init__()
        self.catalog_name = catalog_name
        self.export = export
        self.results: list[tuple[str, str | None, int]] = []
        """(format, path, lines) of each export done here (tests read it)."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Label(
                Text(f"Export {one_line(self.catalog_name, 80)} — Enter exports, Esc closes")
            )
            options = []
            for fmt, label, holds, _ in EXPORT_FORMATS:
                prompt = Text()
                prompt.append(f"{label:<6}", style="bold")
                prompt.append(holds)
                options.append(Option(prompt, id=fmt))
            yield OptionList(*options, id="export-formats")
            yield Static(Text(""), id="export-result")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def _say(self, text: str, style: str = "") -> None:
        self.query_one("#export-result", Static).update(Text(text, style=style))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        fmt = event.option.id or "rated"
        self._say(f"exporting {fmt} …")
        self._run(fmt)

    @work(group="export", exclusive=True, exit_on_error=False)
    async def _run(self, fmt: str) -> None:
        label, needs = next((lab, need) for f, lab, _, need in EXPORT_FORMATS if f == fmt)
        try:
            path, lines = await asyncio.to_thread(self.export, fmt)
        except (ValueError, OSError) as exc:  # ExportError is a ValueError
            self._say(one_line(f"{label} export failed: {redact(str(exc))}", 400), "bold red")
            return
        self.results.append((fmt, path, lines))
        if path is None or lines == 0:
            self._say(f"Nothing to export as {label}: {needs}. No file written.", "bold")
        else:
            self._say(one_line(f"Wrote {lines} {label} line(s) to {path}", 1000), "bold green")
