"""One model's answer: header, body, live status line.

The pane is a :class:`genaicompare.session.streaming.Sink`. Text arrives already batched by the engine
(≈50 ms). While an answer streams, the body is a :class:`StreamView`: plain word-wrapped text where
an append costs in proportion to the appended text, not the answer. Once the answer is complete it
is rendered once as Markdown (re-rendering a growing Markdown document on every batch was what
made streaming cost most of a core). Model output is sanitized
(:func:`genaicompare.core.sanitize.for_display`) and shown as Markdown/Text — never as Textual markup.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Markdown

from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.core.sanitize import for_display, one_line

# Introducers of escape sequences that may be split across batches (ESC and 8-bit C1 forms).
_INTRODUCERS = "\x1b\x9b\x9d\x90\x98\x9e\x9f"
_MAX_CARRY = 4096
# At most one repaint of a streaming pane per interval: batches arriving in between merge.
FLUSH_INTERVAL = float(os.environ.get("GENAICOMPARE_PANE_INTERVAL", "0.1"))
# Live status lines and metrics: a few times a second is enough to read them.
PROGRESS_INTERVAL = 0.25
_TOKEN = re.compile(r"\S+\s*|\s+")

STATE_LABELS = {
    "idle": "waiting",
    "queued": "queued",
    "streaming": "streaming",
    "cached": "stored answer",
    FinishState.complete.value: "complete",
    FinishState.length.value: "cut at max_tokens",
    FinishState.content_filter.value: "content filter",
    FinishState.error.value: "error",
    FinishState.timeout.value: "timeout",
    FinishState.cancelled.value: "cancelled",
}


def until_tick(after: float = 0.0) -> float:
    """Seconds from ``after`` seconds from now to the next shared repaint tick (see
    :meth:`ResponsePane._write_loop`): updates made on a tick share one screen update."""
    loop = asyncio.get_running_loop()
    return FLUSH_INTERVAL - (loop.time() + after) % FLUSH_INTERVAL


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
        if width != self._wrap_width:
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
        else:
            self.refresh_lines(first, len(self._rows) - first)

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


class ResponsePane(Vertical):
    """A pane; ``slot`` is its position on screen (0-based)."""

    DEFAULT_CSS = """
    ResponsePane { border: round $panel; height: 1fr; }
    ResponsePane.-current { border: round $primary; }
    ResponsePane > .pane-header { height: 1; text-style: bold; padding: 0 1; }
    ResponsePane > .pane-status { height: 1; color: $text-muted; padding: 0 1; }
    ResponsePane > VerticalScroll { height: 1fr; }
    ResponsePane > VerticalScroll.-hidden, ResponsePane > StreamView.-hidden { display: none; }
    ResponsePane.-error > .pane-status { color: $error; }
    """

    class Progress(Message):
        """Posted at most a few times a second while streaming (for live metrics)."""

        def __init__(self, pane: ResponsePane) -> None:
            self.pane = pane
            super().__init__()

    def __init__(self, slot: int) -> None:
        super().__init__(id=f"pane-{slot}")
        self.slot = slot
        self.alias = ""
        self.title = ""
        self.badge = ""
        self.state = "idle"
        self.record: ResponseRecord | None = None
        self.error: str | None = None
        self.chunks = 0
        self.started = 0.0
        self.first_at: float | None = None
        self._display = DisplayText()
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._generation = 0
        self._writer: asyncio.Task[None] | None = None
        self._last_progress = 0.0
        self._rendering = 0
        self._status_due = False
        self._render_task: asyncio.Task[None] | None = None

    def compose(self) -> ComposeResult:
        yield Line(classes="pane-header")
        with VerticalScroll(classes="-hidden"):
            yield Markdown(open_links=False)
        yield StreamView()
        yield Line(classes="pane-status")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    @property
    def stream_view(self) -> StreamView:
        return self.query_one(StreamView)

    @property
    def showing_markdown(self) -> bool:
        return not self.query_one(VerticalScroll).has_class("-hidden")

    def _show_stream(self) -> None:
        self.query_one(VerticalScroll).add_class("-hidden")
        self.stream_view.remove_class("-hidden")

    @property
    def text(self) -> str:
        """The raw text received so far (or the stored answer)."""
        if self.record is not None:
            return self.record.text
        return "".join(self._display.raw)

    def on_mount(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def on_unmount(self) -> None:
        for task in (self._writer, self._render_task):
            if task is not None:
                task.cancel()

    # -- what the screen calls ------------------------------------------------------------------
    def reset(self, alias: str, title: str, state: str = "idle") -> None:
        """Show a new prompt's pane: empty body, new header."""
        self._generation += 1
        self.alias = alias
        self.title = title
        self.badge = ""
        self.state = state
        self.record = None
        self.error = None
        self.chunks = 0
        self.first_at = None
        self.started = time.perf_counter()
        self._display = DisplayText()
        self._pending.clear()
        self.remove_class("-error")
        self.stream_view.clear()
        self._show_stream()
        if self.markdown.source:
            self.markdown.update("")
        self._refresh_header()
        self._refresh_status()

    def set_title(self, title: str) -> None:
        self.title = title
        self._refresh_header()

    def set_badge(self, badge: str) -> None:
        self.badge = badge
        self._refresh_header()

    def show_record(self, record: ResponseRecord, *, cached: bool) -> None:
        """Show a finished answer (streamed just now, or stored earlier)."""
        self.record = record
        self.state = "cached" if cached else record.state.value
        self._pending.clear()
        self._generation += 1
        self._rendering += 1
        self._render_task = asyncio.get_running_loop().create_task(
            self._show_markdown(for_display(record.text), self._generation)
        )
        if record.state not in (FinishState.complete, FinishState.length):
            self.error = record.error or record.error_type or record.state.value
            self.set_class(record.state is not FinishState.cancelled, "-error")
        self._refresh_status()

    # -- Sink -----------------------------------------------------------------------------------
    def stream_text(self, text: str, chunks: int) -> None:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        self.state = "streaming"
        self.chunks += chunks
        shown = self._display.feed(text)
        if shown:
            self._pending.append(shown)
            self._wake.set()
        if now - self._last_progress > PROGRESS_INTERVAL:
            self._last_progress = now
            self._status_due = True
            self._wake.set()

    def stream_done(self, record: ResponseRecord) -> None:
        self.show_record(record, cached=False)

    def stream_cancelled(self) -> None:
        self.state = FinishState.cancelled.value
        self._refresh_status()

    def stream_failed(self, message: str) -> None:
        self.state = FinishState.error.value
        self.error = message
        self.add_class("-error")
        self._refresh_status()

    def attach(self, slot: Any, title: str) -> None:
        """Show ``slot`` (a :class:`genaicompare.session.slots.Slot`) from what it holds so far."""
        self.reset(slot.alias, title, state=slot.state)
        self.started = slot.started
        if slot.parts and slot.record is None:
            self.stream_text("".join(slot.parts), slot.chunks)
        if slot.record is not None:
            self.show_record(slot.record, cached=slot.cached)
        elif slot.error is not None:
            self.stream_failed(slot.error)
        elif slot.state == FinishState.cancelled.value:
            self.stream_cancelled()
        slot.pane = self

    # -- rendering ------------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        # One repaint per interval at most: batches arriving meanwhile merge into one append.
        # Every pane wakes on the same clock ticks, so the panes' updates share one screen frame
        # instead of each pane costing a frame of its own.
        while True:
            await self._wake.wait()
            await asyncio.sleep(until_tick())
            self._wake.clear()
            if self._pending:
                batch = "".join(self._pending)
                self._pending.clear()
                self.stream_view.append(batch)
            if self._status_due:
                self._status_due = False
                self._refresh_status()
                self.post_message(self.Progress(self))

    async def _show_markdown(self, text: str, generation: int) -> None:
        """Render the finished answer as Markdown once, then show it in place of the stream."""
        try:
            view = self.stream_view
            was_at_end = view.is_vertical_scroll_end and view.max_scroll_y > 0
            await self.markdown.update(text)
            if generation != self._generation:
                return
            scroll = self.query_one(VerticalScroll)
            scroll.remove_class("-hidden")
            view.add_class("-hidden")
            view.clear()
            if was_at_end:
                # Keep following the end of the answer, as the stream did.
                scroll.call_after_refresh(scroll.scroll_end, animate=False)
            else:
                scroll.scroll_home(animate=False)
        finally:
            self._rendering -= 1

    @property
    def idle(self) -> bool:
        """Nothing waiting to be rendered (tests and benchmarks wait for this)."""
        return not self._pending and not self._rendering

    def _refresh_header(self) -> None:
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(f"{self.slot + 1} ", style="dim")
        header.append(one_line(self.title, 80))
        if self.badge:
            header.append("  " + self.badge, style="bold")
        self.query_one(".pane-header", Line).set_text(header)

    def status_text(self) -> str:
        parts = [STATE_LABELS.get(self.state, self.state)]
        r = self.record
        if r is not None:
            if r.ttft_ms is not None:
                parts.append(f"TTFT {r.ttft_ms / 1000:.2f}s")
            if r.tokens_per_s is not None:
                parts.append(f"{r.tokens_per_s:.0f} tok/s")
            if r.tokens_out is not None:
                parts.append(f"{r.tokens_out}{'~' if r.tokens_estimated else ''} tok")
            if r.latency_ms is not None:
                parts.append(f"{r.latency_ms / 1000:.2f}s")
            parts.append("cost unknown" if r.cost_usd is None else f"${r.cost_usd:.5f}")
        elif self.first_at is not None:
            elapsed = max(1e-6, time.perf_counter() - self.first_at)
            parts.append(f"TTFT {self.first_at - self.started:.2f}s")
            parts.append(f"{self.chunks / elapsed:.0f} tok/s")
            parts.append(f"{self.chunks} tok")
        if self.error and self.state not in ("complete", "length", "cached"):
            parts.append(one_line(self.error, 300))
        return " · ".join(parts)

    def _refresh_status(self) -> None:
        self.query_one(".pane-status", Line).set_text(
            Text(self.status_text(), no_wrap=True, overflow="ellipsis")
        )
