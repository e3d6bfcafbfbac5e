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
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static

from genaicompare.app.widgets.stream_view import DisplayText, Line, StreamView
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.core.sanitize import for_display, one_line

if TYPE_CHECKING:
    from textual.widget import AwaitMount
    from textual.widgets import Markdown

    from genaicompare.session.streaming import LiveTiming

_FAILED = (FinishState.error, FinishState.timeout)

# At most one repaint of a streaming pane per interval: batches arriving in between merge.
FLUSH_INTERVAL = float(os.environ.get("GENAICOMPARE_PANE_INTERVAL", "0.1"))
# Live status lines and metrics: a few times a second is enough to read them.
PROGRESS_INTERVAL = 0.25

STATE_LABELS = {
    "idle": "waiting",
    # Until the engine says more (``starting local model …``, ``waiting for first token``).
    "queued": "connecting…",
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
    ResponsePane .pane-correction { display: none; }
    ResponsePane.-corrected .pane-correction { display: block; }
    ResponsePane.-corrected Markdown { display: none; }
    ResponsePane.-error > .pane-status { color: $error; }
    /* The answer's last line ends the view: no blank margin below it at the end of the scroll. */
    ResponsePane Markdown { margin-bottom: 0; padding-bottom: 0; }
    /* MarkdownBlock, not `*`: an order rule ending in `*` marks every widget as order-styled,
       and Textual then restyles each one's whole subtree after every mount (≈0.2 s of the
       main screen's first frame). */
    ResponsePane Markdown > MarkdownBlock:last-child { margin-bottom: 0; }
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
        self.phase: str | None = None
        """What the request waits for before its first token (the engine's words)."""
        self.timing: LiveTiming | None = None
        """The streaming answer's own TTFT and decode time, measured where it streams."""
        self._display = DisplayText()
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._generation = 0
        self._writer: asyncio.Task[None] | None = None
        self._last_progress = 0.0
        self._rendering = 0
        self._status_due = False
        self._render_task: asyncio.Task[None] | None = None
        self._markdown: Markdown | None = None
        self._markdown_mounted: AwaitMount | None = None

    def compose(self) -> ComposeResult:
        yield Line(classes="pane-header")
        # The Markdown widget is mounted with the first finished answer: importing it (markdown_it,
        # Pygments: ≈0.1 s) is then off the path to the main screen (see preload_markdown).
        yield VerticalScroll(classes="-hidden")
        yield StreamView()
        yield Line(classes="pane-status")

    @property
    def markdown(self) -> Markdown | None:
        """The finished answer's Markdown widget; None until the pane's first one."""
        return self._markdown

    @property
    def stream_view(self) -> StreamView:
        return self.query_one(StreamView)

    @property
    def showing_markdown(self) -> bool:
        return not self.query_one(VerticalScroll).has_class("-hidden")

    def _show_stream(self) -> None:
        scroll = self.query_one(VerticalScroll)
        scroll.anchor(False)
        scroll.add_class("-hidden")
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
        self.phase = None
        self.timing = None
        self._display = DisplayText()
        self._pending.clear()
        self.remove_class("-error", "-corrected")
        self.stream_view.clear()
        self._show_stream()
        markdown = self.markdown
        if markdown is not None and markdown.source:
            markdown.update("")
        self._refresh_header()
        self._refresh_status()

    def set_title(self, title: str) -> None:
        self.title = title
        self._refresh_header()

    def set_badge(self, badge: str) -> None:
        self.badge = badge
        self._refresh_header()

    def show_correction(self, texts: tuple[str, str] | None, markers: bool = False) -> None:
        """With ``(original, corrected)``: the body shows the rater's correction as a word diff
        of the answer (removed words struck, added ones bold); with None, the answer again."""
        if texts is None:
            self.remove_class("-corrected")
            return
        from genaicompare.app.screens.word_diff import word_diff  # lazy: the diff's difflib

        body = Text("✎ your correction (word diff against the answer):\n\n", style="dim")
        body.append_text(word_diff(texts[0], texts[1], markers=markers))
        # Mounted on the first correction only: a pane without one is laid out as before.
        found = self.query(".pane-correction")
        if found:
            found.first(Static).update(body)
        else:
            view = Static(body, classes="pane-correction", markup=False)
            self.query_one(VerticalScroll).mount(view, before=self.markdown)  # None: at the end
        self.add_class("-corrected")

    def set_blind(self, blind: bool) -> None:
        """Hide (or show again) what tells models apart besides their text: cost, stored or not."""
        if blind != self.blind:
            self.blind = blind
            self._refresh_status()

    def show_record(self, record: ResponseRecord, *, cached: bool) -> None:
        """Show a finished answer (streamed just now, or stored earlier)."""
        self.record = record
        if not self.is_attached:  # the app is closing: streams cancelled at exit end here
            return
        # The answer's own state (a stored ``length`` answer is "cut at max_tokens", not "cached").
        self.state = record.state.value
        self.cached = cached
        self._pending.clear()
        self._generation += 1
        if record.state not in (FinishState.complete, FinishState.length):
            self.error = record.error or record.error_type or record.state.value
            self.set_class(record.state is not FinishState.cancelled, "-error")
        if record.state in _FAILED:
            # The reason belongs in the body, where it can be read whole, after any text.
            self._show_plain(record.text, self._reason(record.error_type, record.error))
        else:
            self._show_whole(record.text)
            self._rendering += 1
            self._render_task = asyncio.get_running_loop().create_task(
                self._show_markdown(for_display(record.text), self._generation)
            )
        self._refresh_status()

    def _show_whole(self, text: str) -> None:
        """Until the Markdown rendering replaces it (a moment, longer on a busy machine), the
        stream shows the whole answer under the status that says so: words received but not
        drawn yet are drawn now, never dropped (they were: ``complete`` showed over a cut
        answer)."""
        if self.showing_markdown:
            return
        whole = for_display(text)
        view = self.stream_view
        have = view.text
        if whole.startswith(have):
            view.append(whole[len(have) :])
        else:  # the stored text differs from what was drawn (e.g. redacted): show it instead
            view.clear()
            view.append(whole)

    @staticmethod
    def _reason(error_type: str | None, error: str | None) -> str:
        head = f"{error_type}: " if error_type and error and error_type not in error else ""
        return f"{head}{error or error_type or 'failed'}"

    def _show_plain(self, text: str, reason: str) -> None:
        """Body: the text received (sanitized, plain) and then why the answer failed."""
        self._display = DisplayText()
        self._show_stream()
        view = self.stream_view
        view.clear()
        body = for_display(text).rstrip()
        view.append((body + "\n\n" if body else "") + "✗ " + for_display(reason))
        view.show_line(body.count("\n") + 2 if body else 0)

    # -- Sink -----------------------------------------------------------------------------------
    def stream_phase(self, phase: str) -> None:
        self.phase = phase
        self._refresh_status()

    def stream_text(self, text: str, chunks: int, timing: LiveTiming | None = None) -> None:
        now = time.perf_counter()
        self.state = "streaming"
        self.chunks += chunks
        if timing is not None:
            self.timing = timing
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

    def stream_cancelled(self, record: ResponseRecord | None = None) -> None:
        if record is not None:  # the stored text so far, with its own numbers
            self.show_record(record, cached=False)
            return
        self.state = FinishState.cancelled.value
        self._refresh_status()

    def stream_failed(self, message: str) -> None:
        self.state = FinishState.error.value
        self.error = message
        self.add_class("-error")
        self._generation += 1
        self._pending.clear()
        self._show_plain("".join(self._display.raw), message)
        self._refresh_status()

    def attach(self, slot: Any, title: str) -> None:
        """Show ``slot`` (a :class:`genaicompare.session.slots.Slot`) from what it holds so far."""
        self.reset(slot.alias, title, state=slot.state)
        self.phase = slot.phase
        if slot.parts and slot.record is None:
            self.stream_text("".join(slot.parts), slot.chunks, slot.timing)
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
            if self._markdown is None:
                from textual.widgets import Markdown

                # Mounted (placed in the DOM) at once, so a second render waits for the same one.
                self._markdown = Markdown(open_links=False)
                self._markdown_mounted = self.query_one(VerticalScroll).mount(self._markdown)
            assert self._markdown_mounted is not None
            await self._markdown_mounted
            await self._markdown.update(text)
            if generation != self._generation:
                return
            scroll = self.query_one(VerticalScroll)
            scroll.remove_class("-hidden")
            view.add_class("-hidden")
            view.clear()
            # A finished answer opens at its top, where it is read from (issue #13: a long
            # answer followed to its tail ended up showing its last lines with nothing saying
            # there was more above); the stream followed the tail while it grew.
            scroll.anchor(False)
            scroll.scroll_home(animate=False)
        finally:
            self._rendering -= 1

    # -- reading by keyboard ----------------------------------------------------------------------
    def _body(self) -> VerticalScroll | StreamView:
        return self.query_one(VerticalScroll) if self.showing_markdown else self.stream_view

    def scroll_answer(self, pages: int) -> None:
        """Scroll the answer by ``pages`` × most of a view (a few rows of context stay). Up,
        while streaming, stops following the tail; down to the end follows it again."""
        body = self._body()
        if isinstance(body, VerticalScroll):
            body.anchor(False)
        step = max(1, body.scrollable_content_region.height - 2)
        # From the target, not the current offset: presses arriving within one frame add up.
        body.scroll_to(y=body.scroll_target_y + pages * step, animate=False)

    def scroll_answer_to(self, *, end: bool) -> None:
        body = self._body()
        if isinstance(body, VerticalScroll):
            body.anchor(False)
        if end:
            body.scroll_end(animate=False)
        else:
            body.scroll_home(animate=False)

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
        """State and the answer's own numbers: the stored record's once there is one (a
        revisited, cached or cancelled answer too), else those measured where it streams."""
        label = STATE_LABELS.get(self.state, self.state)
        if self.state == "queued" and self.phase:
            label = self.phase
        parts = [label]
        if self.cached and not self.blind:
            parts.append("stored")
        r = self.record
        if r is not None:
            if r.state in _FAILED and r.error_type:
                parts.append(one_line(r.error_type, 40))  # the whole reason is in the body
            if r.ttft_ms is not None:
                parts.append(f"TTFT {r.ttft_ms / 1000:.2f}s")
            if r.tokens_per_s is not None:
                parts.append(f"{r.tokens_per_s:.0f} tok/s")
            if r.tokens_out is not None:
                parts.append(f"{r.tokens_out}{'~' if r.tokens_estimated else ''} tok")
            if r.latency_ms is not None:
                parts.append(f"{r.latency_ms / 1000:.2f}s")
            if (r.ok or r.tokens_out) and not self.blind:
                parts.append("cost unknown" if r.cost_usd is None else f"${r.cost_usd:.5f}")
        elif self.state == "streaming" and self.timing is not None:
            if self.timing.ttft_ms is not None:
                parts.append(f"TTFT {self.timing.ttft_ms / 1000:.2f}s")
            rate = self.timing.tokens_per_s(self.chunks)
            if rate is not None:
                parts.append(f"{rate:.0f} tok/s")
            parts.append(f"{self.chunks} tok")
        elif self.state == "streaming":
            parts.append(f"{self.chunks} tok")
        return " · ".join(parts)

    def _refresh_status(self) -> None:
        self.query_one(".pane-status", Line).set_text(
            Text(self.status_text(), no_wrap=True, overflow="ellipsis")
        )
