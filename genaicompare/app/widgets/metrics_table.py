"""The live metrics table under the panes: one row per pane, the judge's verdicts first.

Redrawn a few times a second while answers stream: a redraw updates only the cells that changed
(rebuilding the table re-measures it and re-lays out the screen).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from genaicompare.app.widgets.response_pane import STATE_LABELS
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from genaicompare.session.slots import Slot

COLUMNS = ("model", "state", "TTFT s", "tok/s", "tokens", "latency s", "cost", "metrics")


class MetricsTable(DataTable[Text]):
    """A :class:`DataTable` of :func:`metrics_row` rows, drawn with :meth:`draw`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=True)
        self._cells: list[list[str]] | None = None

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def draw(self, rows: list[list[Text]]) -> None:
        drawn = self._cells
        self._cells = [[cell.plain for cell in row] for row in rows]
        if drawn is None or len(drawn) != len(rows) or self.row_count != len(rows):
            self.clear()
            for row in rows:
                self.add_row(*row)
            return
        # Only the cells that changed: rebuilding the table re-measures and re-lays it out.
        for y, (row, old) in enumerate(zip(rows, drawn, strict=True)):
            for x, (cell, before) in enumerate(zip(row, old, strict=True)):
                if cell.plain != before:
                    # Re-measuring a column re-lays out the screen: only when it must widen.
                    wider = cell.cell_len > self.ordered_columns[x].content_width
                    self.update_cell_at(Coordinate(y, x), cell, update_width=wider)


def metrics_row(
    title: str, slot: Slot | None, chunks: int, blind: Mapping[str, str] | None = None
) -> list[Text]:
    """One pane's row: ``chunks`` is the token count shown while its answer streams.

    ``blind`` (alias → pane letter) while names are hidden: no cost, no "stored", and metric names
    that hold an alias (``similarity_to:<alias>``) name the letter instead."""
    values = slot.metrics if slot is not None else {}
    r = slot.record if slot is not None else None
    if blind is not None:
        values = {_unnamed(k, blind): v for k, v in values.items()}
    # The judge's verdicts first: they are what a judged catalog is read for.
    shown = ", ".join(
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
        for k, v in sorted(values.items(), key=_metric_order)
        if v is not None
    )
    if "judge_error" in values:
        shown = "judge_error" + (", " + shown if shown else "")
    if not shown and slot is not None and slot.metrics_pending:
        shown = "computing metrics…"  # a finished answer's first metrics can take seconds
    return [
        Text(one_line(title, 40)),
        Text(_state(slot, blind is not None)),
        _num(r.ttft_ms / 1000 if r and r.ttft_ms is not None else None),
        _num(r.tokens_per_s if r else None, 0),
        Text(str(r.tokens_out) if r and r.tokens_out is not None else str(chunks)),
        _num(r.latency_ms / 1000 if r and r.latency_ms is not None else None),
        Text(
            ""
            if blind is not None
            else "unknown"
            if r is not None and r.cost_usd is None
            else (f"${r.cost_usd:.5f}" if r is not None and r.cost_usd is not None else "")
        ),
        Text(one_line(shown, 300)),
    ]


def _state(slot: Slot | None, blind: bool) -> str:
    if slot is None:
        return ""
    if slot.record is None:
        return "waiting" if slot.state == "queued" else slot.state
    label = STATE_LABELS.get(slot.record.state.value, slot.record.state.value)
    return f"{label} · stored" if slot.cached and not blind else label


def _unnamed(name: str, letters: Mapping[str, str]) -> str:
    base, sep, alias = name.partition(":")
    return f"{base}:{letters[alias]}" if sep and alias in letters else name


def _metric_order(item: tuple[str, Any]) -> tuple[int, str]:
    name = item[0]
    return (0 if name in ("judge_score", "judge_pairwise") else 1, name)


def _num(value: float | None, digits: int = 2) -> Text:
    return Text("" if value is None else f"{value:.{digits}f}")
