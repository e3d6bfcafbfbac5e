"""One stream's state, whether or not a pane shows it (prefetched prompts have no pane yet).

A :class:`Slot` is the engine's sink. It keeps what arrived and forwards to the pane attached to
it, so moving to a prefetched prompt shows what streamed so far and then keeps streaming.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from genaicompare.core.records import FinishState, ResponseRecord


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
        self.metrics: dict[str, float | None] = {}
        """Latest metric values for this answer (cheap while streaming, then full)."""
        self.full_metrics = False
        """The full metrics (and the judge) were started for this answer."""
        self._on_finish = on_finish

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
    def stream_text(self, text: str, chunks: int) -> None:
        self.parts.append(text)
        self.chunks += chunks
        self.state = "streaming"
        if self.pane is not None:
            self.pane.stream_text(text, chunks)

    def stream_done(self, record: ResponseRecord) -> None:
        self.record = record
        self.state = record.state.value
        if self.pane is not None:
            self.pane.stream_done(record)
        self._on_finish(self)

    def stream_cancelled(self) -> None:
        self.state = FinishState.cancelled.value
        if self.pane is not None:
            self.pane.stream_cancelled()
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
