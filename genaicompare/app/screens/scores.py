"""``ScoresScreen`` (``S``): the scores table, then bar charts with their intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static

from genaicompare.core.sanitize import one_line


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
