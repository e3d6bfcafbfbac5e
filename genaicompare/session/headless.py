"""Headless run: every prompt × model, a progress bar on stderr, a summary, everything stored.

No Textual. ``run_headless`` does the work and returns a :class:`RunOutcome`; the ``run`` command
formats it, and :mod:`genaicompare.gate` judges it (assertions, baselines, ``--fail-on``).

Each answer goes through the one evaluation pipeline (:mod:`genaicompare.session.evaluation`):
its metrics on one background worker as answers arrive (:mod:`.metrics_pool`; the event loop
never waits for them), the judge on the run's event loop, everything stored in batches;
assertions are evaluated after metrics. ``resume_run`` continues an interrupted run: every (prompt, model, sample) that already
has an answer in that run is skipped, so nothing is asked twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaicompare.catalog import Catalog
from genaicompare.core.errors import StoreError, UserError
from genaicompare.core.paths import cache_file
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.providers.backends import litellm_pool
from genaicompare.providers.events import Timeouts
from genaicompare.session.batch_writer import BatchWriter
from genaicompare.session.comparison import Comparison
from genaicompare.session.evaluation import Evaluator
from genaicompare.session.metrics_pool import MetricsWorker
from genaicompare.session.summary import ModelSummary, RunOutcome, judge_summary

if TYPE_CHECKING:  # the store pulls sqlite-utils (and pandas): not before a catalog error
    from genaicompare.store import Store

# Headless default when the catalog names no metrics: the families that cost ≈1 ms of CPU per
# answer. Embeddings and toxicity (≈0.3–0.5 s per answer here) and readability (its dictionary
# takes 4–12 s to load) run when the catalog or an assertion names them, or with --metrics.
DEFAULT_HEADLESS_METRICS = frozenset({"lexical", "ops", "pii"})
# States a resumed run keeps; anything else (error, timeout, cancelled) is asked again.
KEEP_ON_RESUME = frozenset({FinishState.complete, FinishState.length, FinishState.content_filter})


ProgressCallback = Callable[[ResponseRecord, int, int], None]

__all__ = [
    "DEFAULT_HEADLESS_METRICS",
    "KEEP_ON_RESUME",
    "ModelSummary",
    "ProgressCallback",
    "RunOutcome",
    "run_headless",
]


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
    resume_run: int | None = None,
    metrics: bool = True,
    metric_selection: frozenset[str] | None = DEFAULT_HEADLESS_METRICS,
    judge: bool = True,
    judge_selection: frozenset[str] | None = None,
) -> RunOutcome:
    """Run the whole catalog; Ctrl-C keeps every finished response (the run is ``interrupted``).

    With the catalog's ``judge:``, ``judge`` True and ``metrics`` True, the LLM judge runs too;
    ``judge_selection`` (an explicit metric selection, e.g. ``--metrics``) narrows its tasks.
    """
    catalog_id = store.record_catalog(catalog, catalog_path)
    kept: list[ResponseRecord] = []
    if resume_run is not None:
        run_id = resume_run
        kept = _resumable(store, catalog, catalog_id, resume_run, repeat)
        store.reopen_run(run_id)
    else:
        run_id = store.start_run(catalog_id, catalog, "headless", concurrency, options)
    writer = BatchWriter(store, run_id, catalog_id)
    comparison = Comparison(
        catalog,
        store,
        timeouts=timeouts or Timeouts(),
        concurrency=concurrency,
        use_cache=use_cache,
        run_id=run_id,
        catalog_id=catalog_id,
        save=writer.save,
    )
    summaries = {m.id: ModelSummary(m.id, m.model) for m in catalog.models}
    worker = MetricsWorker(catalog, store, enabled=metrics, selection=metric_selection)
    # The judge's side of the one pipeline; the metrics themselves run in the worker.
    evaluator = Evaluator(
        store,
        selection=metric_selection,
        defaults=catalog.defaults.metrics,
        judge=catalog.judge if metrics and judge else None,
        judge_selection=judge_selection,
        models=[m.id for m in catalog.models],
        concurrency=concurrency,
        sink=worker,
    )
    judging = evaluator.judging
    records: list[ResponseRecord] = list(kept)
    for r in kept:
        summaries[r.model_alias].add(r)
    worker.load_existing([r.id for r in kept if r.id is not None])
    for r in kept:
        if r.id is not None and r.id not in worker.values:
            worker.submit(r)  # interrupted before its metrics were stored
    total = len(catalog.prompts) * len(catalog.models) * max(1, repeat)
    skip = {(r.prompt_id, r.model_alias, r.sample_index) for r in kept}

    def collect(record: ResponseRecord) -> None:
        records.append(record)
        summaries[record.model_alias].add(record)
        worker.submit(record)
        evaluator.submit(record, catalog.prompt(record.prompt_id))
        if on_progress is not None:
            on_progress(record, len(records), total)

    storage_error: str | None = None

    async def main() -> None:
        nonlocal storage_error
        _cancel_on_sigterm(received)
        try:
            for r in kept:  # judged only where their verdicts are missing
                evaluator.submit(r, catalog.prompt(r.prompt_id))
            # litellm's streams (≈0.5–0.8 ms of CPU a chunk) in worker processes: every core.
            async with litellm_pool.serving(
                _litellm_workers(catalog, concurrency), cache_file("litellm-worker.log")
            ):
                await comparison.run_many(catalog.iter_pairs(), collect, repeat=repeat, skip=skip)
                await evaluator.drain()
        except StoreError as exc:
            # The store failed mid-run (disk full, …): stop asking models whose answers cannot
            # be kept; what was stored stays, and the run can be resumed once there is room.
            storage_error = str(exc)
        finally:
            with contextlib.suppress(StoreError):
                writer.flush_now()

    started = time.perf_counter()
    interrupted = False
    received: list[str] = []
    try:
        with _restoring_sigterm():
            try:
                _run_loop(main())
            except KeyboardInterrupt:
                interrupted = True
            except asyncio.CancelledError:
                if not received:  # not our SIGTERM: someone else's cancellation
                    raise
                interrupted = True
    finally:
        stopped = interrupted or storage_error is not None
        try:
            # On Ctrl-C, do not wait for metrics still queued: the answers are stored, the
            # metrics can be computed again on --resume.
            try:
                worker.close(wait=not stopped)
            except StoreError as exc:  # the metrics could not be stored (disk full, …)
                storage_error = storage_error or str(exc)
                stopped = True
            if judging and not stopped:
                both = [
                    rid
                    for rid, values in worker.values.items()
                    if values.get("groundedness") is not None
                    and values.get("judge_groundedness") is not None
                ]
                for rid, value in evaluator.combine_groundedness(both).items():
                    worker.values[rid]["groundedness"] = value.value
        finally:
            try:
                store.finish_run(run_id, "interrupted" if stopped else "finished")
            except StoreError:
                # A full disk cannot record it; the run stays 'running', which --resume takes.
                if storage_error is None:
                    raise
    return RunOutcome(
        run_id,
        catalog,
        store.path,
        records,
        summaries,
        time.perf_counter() - started,
        interrupted,
        metrics=worker.values,
        resumed=len(kept),
        metrics_error=worker.error,
        notices=list(worker.notices),
        judge=judge_summary(catalog, worker.values, records) if judging else None,
        signal=(received[0] if received else "SIGINT") if interrupted else None,
        storage_error=storage_error,
    )


def _cancel_on_sigterm(received: list[str]) -> None:
    """SIGTERM (what CI sends on cancel) cancels the run's main task (the calling task), as
    Ctrl-C does: finished answers are kept, the run is marked interrupted, ``received`` gets
    ``"SIGTERM"``. Through the loop, not through SIGINT: a shell's background job (``genaicompare
    run … &`` in a CI script) inherits SIGINT ignored, asyncio then installs no Ctrl-C handler,
    and a SIGTERM passed on as SIGINT was ignored with it (the run went on to the end). Where
    the loop takes no signals (Windows, another thread) there is no SIGTERM to catch."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_term() -> None:
        received.append("SIGTERM")
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGTERM, on_term)


@contextlib.contextmanager
def _restoring_sigterm() -> Iterator[None]:
    """The caller's SIGTERM handler back after the run (the run's loop installs its own,
    :func:`_cancel_on_sigterm`, and asyncio resets it to the default when the loop closes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _litellm_workers(catalog: Catalog, concurrency: int) -> int:
    """Worker processes for the run's litellm requests (:func:`litellm_pool.workers_for`)."""
    from genaicompare.providers.backends import backend_for, litellm
    from genaicompare.session.comparison import build_request

    if not catalog.prompts:
        return 0
    try:
        requests = [build_request(catalog, catalog.prompts[0], m)[0] for m in catalog.models]
    except Exception:  # a prompt that does not render is reported by the run itself
        return 0
    if not any(backend_for(r) is litellm.stream for r in requests):
        return 0
    return litellm_pool.workers_for(concurrency)


def _run_loop(coro: Any) -> None:
    """``asyncio.run``, on uvloop when it is installed and not switched off
    (``GENAICOMPARE_UVLOOP=0``): the run's CPU goes to per-chunk loop overhead."""
    if os.environ.get("GENAICOMPARE_UVLOOP", "1") != "0":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            uvloop.run(coro)
            return
    asyncio.run(coro)


def _resumable(
    store: Store, catalog: Catalog, catalog_id: int, run_id: int, repeat: int
) -> list[ResponseRecord]:
    """The kept answers of run ``run_id``, after checking it is this catalog's run."""
    run = store.run(run_id)
    if run is None:
        raise UserError(f"--resume {run_id}: no such run in {store.path}")
    if run["catalog_id"] != catalog_id:
        raise UserError(
            f"--resume {run_id}: that run used a different catalog "
            f"({run['catalog_name']} {run['catalog_version']}) or this catalog changed since"
        )
    if run["status"] == "finished":
        raise UserError(f"--resume {run_id}: that run finished; nothing to resume")
    aliases = {m.id for m in catalog.models}
    latest: dict[tuple[str, str, int], ResponseRecord] = {}
    for r in store.run_responses(run_id):
        if r.model_alias in aliases and r.sample_index < max(1, repeat):
            latest[(r.prompt_id, r.model_alias, r.sample_index)] = r
    return [r for r in latest.values() if r.state in KEEP_ON_RESUME]
