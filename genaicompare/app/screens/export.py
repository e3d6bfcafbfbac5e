"""``ExportScreen`` (``E``): choose an export format; the file is written in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from genaicompare.core.sanitize import one_line, redact

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

    ``export`` writes one format and returns ``(path, lines, skipped)``; path None and 0 lines
    when nothing qualified (no file is left behind); ``skipped``: records left out, by reason
    (the screen says how many and why, e.g. DPO pairs with identical texts).
    """

    BINDINGS = [Binding("escape,q,E", "dismiss(None)", "Close")]

    def __init__(
        self, catalog_name: str, export: Callable[[str], tuple[str | None, int, dict[str, int]]]
    ) -> None:
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
            path, lines, skipped = await asyncio.to_thread(self.export, fmt)
        except (ValueError, OSError) as exc:  # ExportError is a ValueError
            self._say(one_line(f"{label} export failed: {redact(str(exc))}", 400), "bold red")
            return
        self.results.append((fmt, path, lines))
        left_out = "; ".join(f"skipped {n}: {why}" for why, n in skipped.items())
        if path is None or lines == 0:
            why = f"{left_out}." if left_out else f"{needs}."
            self._say(f"Nothing to export as {label}: {why} No file written.", "bold")
        else:
            wrote = f"Wrote {lines} {label} line(s) to {path}" + (
                f" ({left_out})" if left_out else ""
            )
            self._say(one_line(wrote, 1000), "bold green")
