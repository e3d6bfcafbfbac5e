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
import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown

from genaicompare.app.widgets.stream_view import DisplayText, Line, StreamView
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.core.sanitize import for_display, one_line

# At most one repaint of a streaming pane per interval: batches arriving in between merge.
FLUSH_INTERVAL = float(os.environ.get("GENAICOMPARE_PANE_INTERVAL", "0.1"))
# Live status lines and metrics: a few times a second is enough to read them.
PROGRESS_INTERVAL = 0.25

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
        self.cached = False
        """The answer shown came from the store (said in the status line, unless blind)."""
        self.blind = False
        """Blind and not yet revealed: the status line hides cost and where the answer came from."""
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
        self.cached = False
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

    def set_blind(self, blind: bool) -> None:
        """Hide (or show again) what tells models apart besides their text: cost, stored or not."""
        if blind != self.blind:
            self.blind = blind
            self._refresh_status()

    def show_record(self, record: ResponseRecord, *, cached: bool) -> None:
        """Show a finished answer (streamed just now, or stored earlier)."""
        self.record = record
        # The answer's own state (a stored ``length`` answer is "cut at max_tokens", not "cached").
        self.state = record.state.value
        self.cached = cached
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
        if self.cached and not self.blind:
            parts.append("stored")
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
            if not self.blind:
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
