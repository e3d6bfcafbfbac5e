"""One stream's state, whether or not a pane shows it (prefetched prompts have no pane yet).

A :class:`Slot` is the engine's sink. It keeps what arrived and forwards to the pane attached to
it, so moving to a prefetched prompt shows what streamed so far and then keeps streaming.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from genaicompare.core.records import FinishState, ResponseRecord

if TYPE_CHECKING:
    from genaicompare.session.streaming import LiveTiming


class Slot:
    def __init__(self, prompt_index: int, alias: str, on_finish: Callable[[Slot], None]) -> None:
        self.prompt_index = prompt_index
        self.alias = alias
        self.parts: list[str] = []
        self.chunks = 0
        self.record: ResponseRecord | None = None
        self.cached = False
        self.state = "queued"
        self.error: str | None = None
        self.started = time.perf_counter()
        self.job: Any = None
        self.pane: Any = None
        self.phase: str | None = None
        """What the request waits for before its first token, in words (None: nothing yet)."""
        self.timing: LiveTiming | None = None
        """The streaming answer's own TTFT and decode time so far (None before the first text)."""
        self._metrics: dict[str, float | None] = {}
        self.full_metrics = False
        """The full metrics (and the judge) were started for this answer."""
        self.metrics_arrived = False
        """The finished answer's metrics are in :attr:`metrics` (until then: computing)."""
        self.first_metrics: dict[str, float | None] = {}
        """The finished answer's metrics that load no model, shown until :attr:`metrics`
        arrive (lexical, PII, operational: see ``metrics.engine.FIRST_STAGE``)."""
        self._on_finish = on_finish

    @property
    def metrics(self) -> dict[str, float | None]:
        """Latest metric values for this answer (cheap while streaming, then full)."""
        return self._metrics

    @metrics.setter
    def metrics(self, values: dict[str, float | None]) -> None:
        self._metrics = values
        # Values set once the answer is finished are its full metrics (live ones are only
        # ever set while it streams).
        if self.record is not None:
            self.metrics_arrived = True

    @property
    def metrics_pending(self) -> bool:
        """The finished answer's metrics are being computed (the table says so)."""
        r = self.record
        return self.full_metrics and not self.metrics_arrived and r is not None and r.ok

    @property
    def busy(self) -> bool:
        return self.job is not None and not self.job.finished

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "streaming")

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()

    # Sink
    def stream_phase(self, phase: str) -> None:
        self.phase = phase
        if self.pane is not None:
            self.pane.stream_phase(phase)

    def stream_text(self, text: str, chunks: int, timing: LiveTiming) -> None:
        self.parts.append(text)
        self.chunks += chunks
        self.state = "streaming"
        self.timing = timing
        if self.pane is not None:
            self.pane.stream_text(text, chunks, timing)

    def stream_done(self, record: ResponseRecord) -> None:
        self.record = record
        self.state = record.state.value
        if self.pane is not None:
            self.pane.stream_done(record)
        self._on_finish(self)

    def stream_cancelled(self, record: ResponseRecord | None = None) -> None:
        # The stored record (the text so far, with its own numbers) is what the pane shows,
        # now and when the prompt is visited again.
        self.record = record
        self.state = FinishState.cancelled.value
        if self.pane is not None:
            self.pane.stream_cancelled(record)
        self._on_finish(self)

    def stream_failed(self, message: str) -> None:
        self.state = FinishState.error.value
        self.error = message
        if self.pane is not None:
            self.pane.stream_failed(message)
        self._on_finish(self)

    def show_cached(self, record: ResponseRecord) -> None:
        self.record = record
        self.cached = True
        self.state = "cached"
        if self.pane is not None:
            self.pane.show_record(record, cached=True)
        self._on_finish(self)
