"""Headless run: every prompt × model, a progress bar on stderr, a summary, everything stored.

No Textual. ``run_headless`` does the work and returns a :class:`RunOutcome`; the ``run`` command
formats it. Regression mode (assertions, baselines, reports) builds on the outcome.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genaicompare.catalog import Catalog
from genaicompare.comparison import Comparison
from genaicompare.providers.events import FinishState, Timeouts
from genaicompare.records import ResponseRecord
from genaicompare.store import Store


@dataclass
class ModelSummary:
    alias: str
    model: str
    done: int = 0
    errors: int = 0
    states: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    tokens_per_s: list[float] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_estimated: bool = False
    cost_usd: float = 0.0
    cost_unknown: int = 0
    from_cache: int = 0

    def add(self, r: ResponseRecord) -> None:
        self.done += 1
        self.states[r.state.value] = self.states.get(r.state.value, 0) + 1
        if r.state not in (FinishState.complete, FinishState.length):
            self.errors += 1
        if r.from_cache:
            self.from_cache += 1
        if r.latency_ms is not None:
            self.latency_ms.append(r.latency_ms)
        if r.ttft_ms is not None:
            self.ttft_ms.append(r.ttft_ms)
        if r.tokens_per_s is not None:
            self.tokens_per_s.append(r.tokens_per_s)
        self.tokens_in += r.tokens_in or 0
        self.tokens_out += r.tokens_out or 0
        self.tokens_estimated |= r.tokens_estimated
        if r.cost_usd is None:
            self.cost_unknown += 1
        else:
            self.cost_usd += r.cost_usd

    def as_dict(self) -> dict[str, Any]:
        def mean(xs: list[float]) -> float | None:
            return round(statistics.fmean(xs), 3) if xs else None

        return {
            "alias": self.alias,
            "model": self.model,
            "done": self.done,
            "errors": self.errors,
            "states": self.states,
            "from_cache": self.from_cache,
            "mean_latency_ms": mean(self.latency_ms),
            "mean_ttft_ms": mean(self.ttft_ms),
            "mean_tokens_per_s": mean(self.tokens_per_s),
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_estimated": self.tokens_estimated,
            # None when nothing had a price: unknown is not free.
            "cost_usd": round(self.cost_usd, 8) if self.cost_unknown < self.done else None,
            "cost_unknown": self.cost_unknown,
        }


@dataclass
class RunOutcome:
    run_id: int
    catalog: Catalog
    db_path: Path
    records: list[ResponseRecord]
    summaries: dict[str, ModelSummary]
    seconds: float
    interrupted: bool = False


ProgressCallback = Callable[[ResponseRecord, int, int], None]


def run_headless(
    catalog: Catalog,
    store: Store,
    *,
    catalog_path: str | Path | None = None,
    concurrency: int = 4,
    use_cache: bool = True,
    timeouts: Timeouts | None = None,
    repeat: int = 1,
    on_progress: ProgressCallback | None = None,
    options: dict[str, Any] | None = None,
) -> RunOutcome:
    """Run the whole catalog; Ctrl-C keeps every finished response (the run is ``interrupted``)."""
    catalog_id = store.record_catalog(catalog, catalog_path)
    run_id = store.start_run(catalog_id, catalog, "headless", concurrency, options)
    comparison = Comparison(
        catalog,
        store,
        timeouts=timeouts or Timeouts(),
        concurrency=concurrency,
        use_cache=use_cache,
        run_id=run_id,
        catalog_id=catalog_id,
    )
    summaries = {m.id: ModelSummary(m.id, m.model) for m in catalog.models}
    records: list[ResponseRecord] = []
    total = len(catalog.prompts) * len(catalog.models) * max(1, repeat)

    def collect(record: ResponseRecord) -> None:
        records.append(record)
        summaries[record.model_alias].add(record)
        if on_progress is not None:
            on_progress(record, len(records), total)

    started = time.perf_counter()
    interrupted = False
    try:
        asyncio.run(comparison.run_many(catalog.iter_pairs(), collect, repeat=repeat))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        store.finish_run(run_id, "interrupted" if interrupted else "finished")
    return RunOutcome(
        run_id, catalog, store.path, records, summaries, time.perf_counter() - started, interrupted
    )
