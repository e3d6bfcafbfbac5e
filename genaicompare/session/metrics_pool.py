"""The headless run's metrics step, off its event loop: one worker thread (or process) runs the
evaluator's :class:`~genaicompare.session.evaluation.Scorer` on each answer as it arrives, and
the values are stored in batches. It is also the :class:`~.evaluation.MetricsSink` the run's
:class:`~.evaluation.Evaluator` (the judge) writes through.
"""

from __future__ import annotations

import concurrent.futures
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from genaicompare.catalog import Catalog, Prompt
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.session.evaluation import Scorer, StoredMetric

if TYPE_CHECKING:  # the store pulls sqlite-utils (and pandas): not before a catalog error
    from collections.abc import Mapping

    from genaicompare.store import Store

Scored = tuple[dict[str, StoredMetric], list[str]]
"""One answer's metrics and the scorer's notices so far."""

_CHILD_SCORER: Scorer | None = None


def _child_init() -> None:
    # Ctrl-C is the parent's to handle; the worker must not die with a traceback of its own.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _compute_in_child(
    selection: frozenset[str] | None,
    default_metrics: list[str] | None,
    record: ResponseRecord,
    prompt: Prompt,
    others: dict[str, str] | None = None,
) -> Scored:
    global _CHILD_SCORER
    if _CHILD_SCORER is None:
        _CHILD_SCORER = Scorer(selection, default_metrics)
    return _CHILD_SCORER.score(record, prompt, others), list(_CHILD_SCORER.notices)


def _warm_child(selection: frozenset[str] | None, default_metrics: list[str] | None) -> None:
    """Load what the selected metrics need (WordNet, phone-number tables…) before answers come."""
    record, prompt = _warm_up_pair()
    _compute_in_child(selection, default_metrics, record, prompt)


def _warm_up_pair() -> tuple[ResponseRecord, Prompt]:
    record = ResponseRecord(
        prompt_id="warm-up",
        model_alias="warm-up",
        model="warm-up",
        params={},
        messages=[{"role": "user", "content": "warm up"}],
        text="Warm up the metrics, call +1 555 0100.",
        state=FinishState.complete,
    )
    prompt = Prompt(id="warm-up", prompt="warm up", reference="The metrics are warm.")
    return record, prompt


class MetricsWorker:
    """Computes and stores metrics for each response as it arrives; the event loop never waits.

    One worker, because the metric models load once and are not safe to call concurrently. A
    thread by default; ``GENAICOMPARE_METRICS_WORKER=process`` uses a worker process on the other
    core instead. Measured on the P3 batch with references (quiet 2-core box, 13:24 UTC): 200 × 2
    answers, thread 6.08 s vs process 6.52 s; 20 × 2, thread 1.00 s vs process 1.96 s. The
    lexical metrics cost ≈1–2 ms an answer and loading what they need (WordNet index, nltk's
    stemmer, phone-number tables) ≈0.8 s, started when the run starts; a process adds its own
    interpreter and imports, which this work never pays back.
    """

    def __init__(
        self,
        catalog: Catalog,
        store: Store,
        enabled: bool = True,
        selection: frozenset[str] | None = None,
        processes: bool | None = None,
    ) -> None:
        if processes is None:
            processes = os.environ.get("GENAICOMPARE_METRICS_WORKER", "thread") == "process"
        self.catalog = catalog
        self.store = store
        self.enabled = enabled
        self.selection = selection
        """Metric or family names computed when the catalog names none (None: every one)."""
        self.notices: list[str] = []
        self.values: dict[int, dict[str, Any]] = {}
        self.error: str | None = None
        self._pool: concurrent.futures.Executor | None = None
        self._processes = processes
        self._scorer = Scorer(selection, catalog.defaults.metrics)
        self._models = len(catalog.models)
        self._answers: dict[tuple[str, int], dict[str, str]] = {}
        """(prompt, sample) → the answers so far, passed as ``others`` (until the set is full)."""
        self._futures: list[concurrent.futures.Future[Any]] = []
        self._lock = threading.Lock()
        self._unsaved: list[tuple[int, dict[str, StoredMetric]]] = []
        self._saved_at = time.monotonic()
        if enabled and any(p.reference for p in catalog.prompts):
            # Load the metric models (WordNet, the stemmer, phone-number tables: ≈1 s) while the
            # first requests wait for their first token, not after the first answer.
            if processes:
                self._executor().submit(_warm_child, selection, catalog.defaults.metrics)
            else:
                self._executor().submit(self._compute_here, *_warm_up_pair())

    def _executor(self) -> concurrent.futures.Executor:
        if self._pool is None:
            if self._processes:
                import multiprocessing

                self._pool = concurrent.futures.ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init
                )
            else:
                self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="metrics")
        return self._pool

    def submit(self, record: ResponseRecord) -> None:
        if not self.enabled or record.id is None:
            return
        prompt = self.catalog.prompt(record.prompt_id)
        others = self._others(record)
        pool = self._executor()
        if self._processes:
            future = pool.submit(
                _compute_in_child,
                self.selection,
                self.catalog.defaults.metrics,
                record,
                prompt,
                others,
            )
        else:
            future = pool.submit(self._compute_here, record, prompt, others)
        future.add_done_callback(lambda f, r=record: self._done(r, f))  # type: ignore[misc]
        self._futures.append(future)
        # Keep the list short on long runs (memory stays flat with the catalog size).
        if len(self._futures) > 256:
            self._futures = [f for f in self._futures if not f.done()]

    def _others(self, record: ResponseRecord) -> dict[str, str]:
        """The other models' answers to this prompt (and sample) that arrived before it."""
        key = (record.prompt_id, record.sample_index)
        seen = self._answers.setdefault(key, {})
        others = {a: t for a, t in seen.items() if a != record.model_alias}
        seen[record.model_alias] = record.text
        if len(seen) >= self._models:
            del self._answers[key]
        return others

    def _compute_here(
        self, record: ResponseRecord, prompt: Prompt, others: dict[str, str] | None = None
    ) -> Scored:
        return self._scorer.score(record, prompt, others), list(self._scorer.notices)

    def _done(self, record: ResponseRecord, future: concurrent.futures.Future[Any]) -> None:
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:  # a metric failing must not lose the run; it is reported
            from genaicompare.core.sanitize import one_line, redact

            self.error = f"metrics failed: {type(exc).__name__}: {one_line(redact(str(exc)), 300)}"
            return
        values, notices = future.result()
        for notice in notices:
            if notice not in self.notices:
                self.notices.append(notice)
        if values and record.id is not None:
            self.add(record.id, values)

    def add(self, response_id: int, values: dict[str, StoredMetric], save: bool = True) -> bool:
        """Record metrics, stored with the next batch (now when one is due and ``save``).
        True when a batch is due."""
        with self._lock:
            # update, not replace: the judge's values and the engine's arrive in either order.
            self.values.setdefault(response_id, {}).update({k: v[0] for k, v in values.items()})
            self._unsaved.append((response_id, values))
            due = len(self._unsaved) >= 64 or time.monotonic() - self._saved_at > 0.5
        if due and save:
            self._save_pending()
        return due

    # -- the evaluator's sink (the judge's values, on the run's event loop) ----------------------
    def known(self, response_id: int) -> Mapping[str, Any]:
        return self.values.get(response_id, {})

    def queue(self, response_id: int, values: dict[str, StoredMetric]) -> bool:
        # Stored off the loop: the evaluator saves the batch in a thread when one is due.
        self.add(response_id, values, save=False)
        return self.pending() >= 64

    def pending(self) -> int:
        with self._lock:
            return len(self._unsaved)

    def save_pending(self) -> None:
        self._save_pending()

    def _save_pending(self) -> None:
        # Batched for the same reason as responses: one fsync per batch, not per answer.
        with self._lock:
            items, self._unsaved = self._unsaved, []
            self._saved_at = time.monotonic()
        self.store.save_metrics_many(items)

    def load_existing(self, response_ids: list[int]) -> None:
        for rid in response_ids:
            stored = self.store.metrics_for(rid)
            if stored:
                self.values[rid] = {k: v["value"] for k, v in stored.items()}

    def close(self, wait: bool = True) -> None:
        if wait:
            concurrent.futures.wait(self._futures)
        if self._pool is not None:
            # Ctrl-C: drop what is queued, finish the metric in progress, store what was computed.
            self._pool.shutdown(wait=True, cancel_futures=not wait)
        self._save_pending()
