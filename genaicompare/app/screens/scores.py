"""``ScoresScreen`` (``S``): the scores table, ranked, then bar charts with their intervals in
the same order. A table too wide for the screen is shown in parts (each repeating the model
column), never scrolled sideways past its figures or squeezed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
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

    def _inner_width(self) -> int:
        # .dialog.wide is 90% of the screen, less its border (2), padding (4) and scrollbar (2).
        return max(40, int(self.app.size.width * 0.9) - 8)

    def compose(self) -> ComposeResult:
        from genaicompare.app.widgets.bars import bar_chart
        from genaicompare.core.tables import group_columns

        cells = [[one_line(_fmt(c), 200) for c in row] for row in self.rows]
        # A DataTable column is its widest cell plus one cell of padding on each side.
        widths = [
            max([cell_len(col), *(cell_len(r[i]) for r in cells)]) + 2
            for i, col in enumerate(self.columns)
        ]
        self.parts = group_columns(widths, self._inner_width(), gap=0) if self.columns else []
        with Vertical(classes="dialog wide"):
            yield Label(Text(self.title_text, style="bold"))
            with VerticalScroll():
                for k, _part in enumerate(self.parts):
                    yield DataTable[Text](
                        zebra_stripes=True, cursor_type="row", id=f"scores-{k}", classes="scores"
                    )
                if self.note:
                    yield Static(Text(self.note), classes="note")
                for series in self.charts:
                    yield Static(bar_chart(series, total=self._inner_width()), classes="chart")

    def on_mount(self) -> None:
        for k, part in enumerate(self.parts):
            table = self.query_one(f"#scores-{k}", DataTable)
            cols = [0, *part]
            table.add_columns(*(self.columns[c] for c in cols))
            for row in self.rows:
                table.add_row(*(Text(one_line(_fmt(row[c]), 200)) for c in cols))


def _fmt(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
