"""The answer panes' area: a grid shaped for the number of panes and the room there is, or tabs.

2 panes side by side, 3 in a row, 4 as 2×2, 5–6 as 3×2 (stacked instead when that is what fits).
When no grid gives every pane :data:`MIN_WIDTH` × :data:`MIN_HEIGHT` cells, the panes become tabs:
one pane fills the area and a tab line names the others (the pane keys switch). Zoom shows the
focused pane alone the same way. The grid re-arranges itself whenever its size changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.containers import Grid
from textual.message import Message

from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.app.widgets.stream_view import Line
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from textual import events

MIN_WIDTH = 30
"""Narrowest readable pane, border included: about four words a row."""
MIN_HEIGHT = 7
"""Shortest readable pane, border, header and status line included: three rows of answer."""
GUTTER = 1
"""Columns between two panes side by side (``grid-gutter`` in the stylesheet)."""

SHAPES: dict[int, tuple[tuple[int, int], ...]] = {
    # (columns, rows), the preferred first; a shape that leaves a row mostly empty is not offered.
    1: ((1, 1),),
    2: ((2, 1), (1, 2)),
    3: ((3, 1), (1, 3)),
    4: ((2, 2), (4, 1), (1, 4)),
    5: ((3, 2), (2, 3), (5, 1)),
    6: ((3, 2), (2, 3), (6, 1)),
}


def grid_shape(panes: int, width: int, height: int) -> tuple[int, int] | None:
    """The first of the pane count's shapes whose cells are all readable at ``width`` × ``height``
    (the area's size in cells), or None: show tabs."""
    for columns, rows in SHAPES.get(panes, ((3, -(-panes // 3)),)):
        cell_width = (width - GUTTER * (columns - 1)) // columns
        if cell_width >= MIN_WIDTH and height // rows >= MIN_HEIGHT:
            return columns, rows
    return None


class TabLine(Line):
    """The tabs: ``1 name │ 2 name │ …`` with the shown pane highlighted."""

    def __init__(self) -> None:
        super().__init__(classes="pane-tabs")


class PaneGrid(Grid):
    """Holds the :class:`~genaicompare.app.widgets.response_pane.ResponsePane` widgets (and the
    tab line, docked at its top); shows them as a grid, as tabs, or the current one zoomed."""

    class Arranged(Message):
        """The panes are shown another way (grid shape, tabs, zoom)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.current = 0
        self.zoomed = False
        self.mode = "grid"
        """``grid``, ``tabs`` (too small for a grid) or ``zoom``; what :meth:`fit` chose."""
        self.shape: tuple[int, int] = (1, 1)
        self._titles: list[str] = []

    @property
    def panes(self) -> list[ResponsePane]:
        return [child for child in self.children if isinstance(child, ResponsePane)]

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def set_current(self, index: int) -> None:
        self.current = index
        self.fit()

    def set_zoom(self, zoomed: bool) -> None:
        self.zoomed = zoomed
        self.fit()

    def fit(self) -> None:
        panes = self.panes
        if not panes:
            return
        width, height = self.size
        shape = None if self.zoomed else grid_shape(len(panes), width, height)
        if shape is None and not self.zoomed and (width == 0 or height == 0):
            shape = SHAPES.get(len(panes), ((3, 2),))[0]  # not laid out yet
        mode = "zoom" if self.zoomed else ("grid" if shape is not None else "tabs")
        columns, rows = shape if shape is not None else (1, 1)
        if (mode, (columns, rows)) != (self.mode, self.shape):
            self.mode, self.shape = mode, (columns, rows)
            self.post_message(self.Arranged())
        if (self.styles.grid_size_columns, self.styles.grid_size_rows) != (columns, rows):
            self.styles.grid_size_columns = columns
            self.styles.grid_size_rows = rows
        for i, pane in enumerate(panes):
            shown = shape is not None or i == self.current
            if pane.display != shown:
                pane.display = shown
        tabs = self.query_one(TabLine)
        tabs.display = shape is None
        if shape is None:
            self.refresh_tabs()

    def refresh_tabs(self, titles: list[str] | None = None) -> None:
        """Redraw the tab line (with new pane titles when given)."""
        if titles is not None:
            self._titles = titles
        tabs = self.query_one(TabLine)
        if not tabs.display:
            return
        count = len(self.panes)
        titles = self._titles if len(self._titles) == count else [""] * count
        # The shown tab keeps its name (up to half the line); the others share what is left.
        room = max(1, self.size.width - 2)
        current = one_line(titles[self.current], max(4, room // 2)) if titles else ""
        left = room - len(current) - 3 * count
        share = max(0, left // max(1, count - 1) - 2)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, title in enumerate(titles):
            if i:
                text.append(" │ ", style="dim")
            if i == self.current:
                text.append(f"{i + 1} {current}", style="reverse bold")
            elif share >= 4:
                text.append(f"{i + 1} {one_line(title, share)}")
            else:
                text.append(str(i + 1))
        hint = "  f: all panes" if self.mode == "zoom" else f"  ←/→ or 1–{count}"
        if text.cell_len + len(hint) <= room:
            text.append(hint, style="dim italic")
        tabs.set_text(text)
