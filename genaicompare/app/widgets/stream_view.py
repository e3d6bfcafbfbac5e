"""The streaming body of a pane (:class:`StreamView`) and its pieces: :class:`DisplayText` (the
display form of a stream, fed batch by batch), :func:`wrap_rows` (the word wrap an append extends)
and :class:`Line` (one line drawn through the Line API: the pane's header and status).

Text here is already sanitized and drawn as plain :class:`~rich.text.Text`: never parsed as
markup or Markdown.
"""

from __future__ import annotations

import re

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

from genaicompare.core.sanitize import for_display

# Introducers of escape sequences that may be split across batches (ESC and 8-bit C1 forms).
_INTRODUCERS = "\x1b\x9b\x9d\x90\x98\x9e\x9f"
_MAX_CARRY = 4096
_TOKEN = re.compile(r"\S+\s*|\s+")


class DisplayText:
    """Incremental display form of a stream: escape sequences split across batches stay inert."""

    def __init__(self) -> None:
        self.raw: list[str] = []
        self._carry = ""

    def feed(self, chunk: str) -> str:
        self.raw.append(chunk)
        text = self._carry + chunk
        self._carry = ""
        cut = max(text.rfind(c) for c in _INTRODUCERS)
        if cut >= 0 and len(text) - cut <= _MAX_CARRY and for_display(text[cut:]) == "":
            # Possibly an unfinished sequence: hold it until the next batch shows where it ends.
            text, self._carry = text[:cut], text[cut:]
        return for_display(text)


class Line(Widget):
    """One line of sanitized text, drawn through the Line API.

    Updating repaints this line only, without a layout pass (unlike ``Static.update``), and the
    line is rendered straight to a :class:`Strip` (``render()``'s general Visual pipeline cost
    ≈4× as much, and the status lines change several times a second).
    """

    DEFAULT_CSS = "Line { height: 1; }"

    def __init__(self, classes: str) -> None:
        super().__init__(classes=classes)
        self._text = Text()
        self._strip: Strip | None = None

    def set_text(self, text: Text) -> None:
        if text == self._text:
            return  # an unchanged line costs no repaint
        self._text = text
        self._strip = None
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strip = None

    def on_resize(self) -> None:
        self._strip = None

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        style = self.rich_style
        if y:
            return Strip.blank(width, style)
        if self._strip is None or self._strip.cell_length != width:
            console = self.app.console
            text = self._text.copy()
            text.no_wrap, text.overflow, text.end = True, "ellipsis", ""
            segments = Segment.apply_style(
                console.render(text, console.options.update_width(max(1, width))), style
            )
            line = [s for s in segments if s.text != "\n"]
            self._strip = Strip(line).crop_extend(0, width, style)
        return self._strip


def wrap_rows(line: str, start: int, width: int) -> list[tuple[int, int]]:
    """Greedy word wrap of ``line[start:]`` into ``(start, end)`` rows of at most ``width`` cells.

    Whitespace after a word stays on its row (and is cropped when drawn), so the rows before the
    last never change when text is appended: appending re-wraps from the last row only.
    """
    width = max(1, width)
    rows: list[tuple[int, int]] = []
    row_start, col = start, 0
    for match in _TOKEN.finditer(line, start):
        token = match.group()
        word = token.rstrip()
        word_cells = cell_len(word)
        if col and col + word_cells > width:
            rows.append((row_start, match.start()))
            row_start, col = match.start(), 0
        if word_cells <= width:
            col += cell_len(token)
            continue
        # A word wider than the row: cut it wherever the row is full.
        pos = match.start()
        for char in word:
            cells = cell_len(char)
            if col and col + cells > width:
                rows.append((row_start, pos))
                row_start, col = pos, 0
            col += cells
            pos += len(char)
        col += cell_len(token[len(word) :])
    rows.append((row_start, len(line)))
    return rows


class StreamView(ScrollView, can_focus=False):
    """Append-only, word-wrapped plain text for an answer while it streams.

    An append re-wraps from the last screen row on and repaints only the rows that changed; the
    compositor asks for visible rows only. Text (already sanitized) is drawn as plain
    :class:`~rich.text.Text`: never parsed as markup or Markdown.
    """

    DEFAULT_CSS = "StreamView { height: 1fr; overflow-x: hidden; scrollbar-gutter: stable; }"

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[str] = [""]
        # Screen rows as (logical line, start, end); the last logical line's rows come last.
        self._rows: list[tuple[int, int, int]] = [(0, 0, 0)]
        self._wrap_width = 0
        self._strips: dict[int, Strip] = {}
        self._style: Style | None = None

    @property
    def text(self) -> str:
        return "\n".join(self._lines)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    def _width(self) -> int:
        return self.scrollable_content_region.width or 80

    def clear(self) -> None:
        self._lines = [""]
        self._rows = [(0, 0, 0)]
        self._strips.clear()
        self.virtual_size = Size(0, 1)
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def append(self, text: str) -> None:
        if not text:
            return
        following = self.is_vertical_scroll_end
        width = self._width()
        pieces = text.split("\n")
        rows_before, offset_before = len(self._rows), self.scroll_offset.y
        rewrapped = width != self._wrap_width
        if rewrapped:
            self._lines[-1] += pieces[0]
            self._lines.extend(pieces[1:])
            self._rewrap(width)
            first = 0
        else:
            index = len(self._lines) - 1
            _, start, _ = self._rows.pop()
            first = len(self._rows)
            self._lines[-1] += pieces[0]
            self._rows.extend((index, a, b) for a, b in wrap_rows(self._lines[-1], start, width))
            for piece in pieces[1:]:
                self._lines.append(piece)
                index += 1
                self._rows.extend((index, a, b) for a, b in wrap_rows(piece, 0, width))
            for row in range(first, len(self._rows)):
                self._strips.pop(row, None)
        grew = self._set_virtual_height(width)
        if following and grew:
            # Scrolling repaints every row of the view; between steps only the new rows are.
            # ``force``: right after the scrollbar appeared the layout has not shown it yet, and
            # the tail must not drop out of sight for a frame; the bar learns its position then.
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True, immediate=True)
            if not self.show_vertical_scrollbar:
                self.call_after_refresh(self._place_scrollbar)
        if rewrapped or self.scroll_offset.y != offset_before:
            # Every row moved: a rewrap at another width may also leave fewer rows than were
            # drawn, and rows below the new tail must be cleared too.
            self.refresh()
        else:
            # Repaint the rows this append changed: a scroll that does not move (the text still
            # fits the view, or the tail is already in sight) repaints nothing, and the words
            # appended to a row drawn earlier never reached the screen (issue 12).
            self.refresh_lines(first, max(len(self._rows), rows_before) - first)

    def show_line(self, index: int) -> None:
        """Scroll up to line ``index`` of the text when following the end left its start above
        the view: a long failure reason is read from its first word, the text above it a scroll
        away; one that fits below the text stays where following left it."""
        row = next((r for r, (line, _a, _b) in enumerate(self._rows) if line == index), None)
        if row is None:
            return

        def scroll() -> None:
            if row < self.scroll_offset.y:
                self.scroll_to(y=row, animate=False, force=True, immediate=True)

        self.call_after_refresh(scroll)

    def _place_scrollbar(self) -> None:
        self.vertical_scrollbar.position = self.scroll_offset.y

    def _padded_height(self) -> int:
        """The scrollable height: once the text is taller than the view, the rows rounded up to
        a step of most of a view. Following the tail then turns a page at a time, keeping a
        few rows of context, and the appends in between repaint only the rows they change;
        scrolling a row per append repainted the whole view (and its scrollbar) every batch."""
        rows = len(self._rows)
        view = self.scrollable_content_region.height
        if rows <= view or view < 2:
            return rows
        step = max(1, view - max(2, view // 4))
        return -(-rows // step) * step

    def _set_virtual_height(self, width: int) -> bool:
        """Set the scrollable size; True if it changed."""
        size = Size(width, self._padded_height())
        if size == self.virtual_size:
            return False
        bar = self.vertical_scrollbar
        if self.show_vertical_scrollbar or size.height <= self.scrollable_content_region.height:
            # Assigning ``virtual_size`` re-lays out and repaints the whole screen. When the
            # scrollbar's visibility does not change, the layout is unaffected: set the size
            # without the layout pass and update the scrollbar's own reactives.
            self.set_reactive(StreamView.virtual_size, size)
            bar.window_virtual_size = size.height
            bar.window_size = self.scrollable_content_region.height
        else:
            self.virtual_size = size  # the scrollbar appears: a layout pass, once per answer
        return True

    def _rewrap(self, width: int) -> None:
        self._wrap_width = width
        self._strips.clear()
        self._rows = [
            (index, a, b)
            for index, line in enumerate(self._lines)
            for a, b in wrap_rows(line, 0, width)
        ]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None
        self._strips.clear()

    def on_resize(self) -> None:
        self._strips.clear()
        width = self._width()
        if width != self._wrap_width:
            self._rewrap(width)
        self.virtual_size = Size(width, self._padded_height())
        self.refresh()

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.size.width
        if self._style is None:
            # ``rich_style`` walks every ancestor's styles: once per style change, not per row.
            self._style = self.rich_style
        style = self._style
        if row >= len(self._rows):
            return Strip.blank(width, style)
        strip = self._strips.get(row)
        if strip is None:
            index, start, end = self._rows[row]
            text = Text(self._lines[index][start:end], no_wrap=True, end="")
            text.stylize(style)
            segments = [s for s in text.render(self.app.console) if s.text != "\n"]
            strip = Strip(segments).crop_extend(0, width, style)
            self._strips[row] = strip
        return strip.apply_offsets(0, row)
