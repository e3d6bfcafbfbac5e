"""One model's answer: header, Markdown body that grows as batches arrive, live status line.

The pane is a :class:`genaicompare.app.engine.Sink`. Text arrives already batched by the engine
(≈50 ms); the pane appends to its Markdown through one background loop, so when rendering is slower
than the stream, batches merge instead of queueing one repaint each. Model output is sanitized
(:func:`genaicompare.sanitize.for_display`) and shown as Markdown/Text — never as Textual markup.
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
from textual.widget import Widget
from textual.widgets import Markdown

from genaicompare.providers.events import FinishState
from genaicompare.records import ResponseRecord
from genaicompare.sanitize import for_display, one_line

# Introducers of escape sequences that may be split across batches (ESC and 8-bit C1 forms).
_INTRODUCERS = "\x1b\x9b\x9d\x90\x98\x9e\x9f"
_MAX_CARRY = 4096
FLUSH_INTERVAL = 0.05
CHARS_PER_SECOND = float(os.environ.get("GENAICOMPARE_RENDER_CHARS", "8000"))
MAX_SIZE_DELAY = 1.0
RENDER_BACKOFF = float(os.environ.get("GENAICOMPARE_RENDER_BACKOFF", "3"))

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
    """One line of sanitized text. Updating repaints it without a layout pass (unlike Static,
    whose ``update`` re-lays out the screen: several times a second per pane adds up)."""

    DEFAULT_CSS = "Line { height: 1; }"

    def __init__(self, classes: str) -> None:
        super().__init__(classes=classes)
        self._text = Text()

    def set_text(self, text: Text) -> None:
        self._text = text
        self.refresh()

    def render(self) -> Text:
        return self._text


class ResponsePane(Vertical):
    """A pane; ``slot`` is its position on screen (0-based)."""

    DEFAULT_CSS = """
    ResponsePane { border: round $panel; height: 1fr; }
    ResponsePane.-current { border: round $primary; }
    ResponsePane > .pane-header { height: 1; text-style: bold; padding: 0 1; }
    ResponsePane > .pane-status { height: 1; color: $text-muted; padding: 0 1; }
    ResponsePane > VerticalScroll { height: 1fr; }
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
        self._appending = False
        self._shown_chars = 0

    def compose(self) -> ComposeResult:
        yield Line(classes="pane-header")
        with VerticalScroll():
            yield Markdown(open_links=False)
        yield Line(classes="pane-status")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    @property
    def text(self) -> str:
        """The raw text received so far (or the stored answer)."""
        if self.record is not None:
            return self.record.text
        return "".join(self._display.raw)

    def on_mount(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def on_unmount(self) -> None:
        if self._writer is not None:
            self._writer.cancel()

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
        self._shown_chars = 0
        self.remove_class("-error")
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
        streamed = "".join(self._display.raw)
        self.record = record
        self.state = "cached" if cached else record.state.value
        if record.text != streamed:
            self._pending.clear()
            self._generation += 1
            self.markdown.update(for_display(record.text))
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
        if now - self._last_progress > 0.25:
            self._last_progress = now
            self._refresh_status()
            self.post_message(self.Progress(self))

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
        """Show ``slot`` (a :class:`genaicompare.app.slots.Slot`) from what it holds so far."""
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
        # Markdown re-parses the last block on each append, so a long paragraph costs more each
        # time: wait at least 3× the last append's cost (and one flush interval) before the next,
        # so rendering never takes more than about a quarter of the UI's time per pane.
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                continue
            generation = self._generation
            batch = "".join(self._pending)
            self._pending.clear()
            if generation != self._generation:
                continue
            self._appending = True
            started = time.perf_counter()
            try:
                await self.markdown.append(batch)
            finally:
                self._appending = False
            cost = time.perf_counter() - started
            # Re-rendering the growing last block also costs in the compositor, outside the
            # append: space appends out in proportion to the text's size as well.
            self._shown_chars += len(batch)
            by_size = min(MAX_SIZE_DELAY, self._shown_chars / CHARS_PER_SECOND)
            await asyncio.sleep(max(FLUSH_INTERVAL, RENDER_BACKOFF * cost, by_size))

    @property
    def idle(self) -> bool:
        """Nothing waiting to be rendered (tests and benchmarks wait for this)."""
        return not self._pending and not self._appending

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
