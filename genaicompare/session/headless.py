"""Headless run: every prompt × model, a progress bar on stderr, a summary, everything stored.

No Textual. ``run_headless`` does the work and returns a :class:`RunOutcome`; the ``run`` command
formats it, and :mod:`genaicompare.gate.regression` judges it (assertions, baselines, ``--fail-on``).

Metrics are computed per response on one background thread as responses arrive (the event loop
never waits for them) and stored with :meth:`Store.save_metrics`; assertions are evaluated after
metrics. ``resume_run`` continues an interrupted run: every (prompt, model, sample) that already
has an answer in that run is skipped, so nothing is asked twice.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaicompare.catalog import Catalog, Prompt
from genaicompare.core.errors import UserError
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.providers.events import Timeouts
from genaicompare.session.batch_writer import BatchWriter
from genaicompare.session.comparison import Comparison
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


class _EngineHolder:
    """One metrics engine, built on first use where the metrics are computed."""

    def __init__(self, selection: frozenset[str] | None, default_metrics: list[str] | None) -> None:
        self.selection = selection
        self.default_metrics = default_metrics
        self.engine: Any = None
        self.notices: list[str] = []


_CHILD_ENGINE: _EngineHolder | None = None


def _child_init() -> None:
    # Ctrl-C is the parent's to handle; the worker must not die with a traceback of its own.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _compute_in_child(
    selection: frozenset[str] | None,
    default_metrics: list[str] | None,
    record: ResponseRecord,
    prompt: Prompt,
) -> tuple[dict[str, tuple[float | None, Any, str]], list[str]]:
    global _CHILD_ENGINE
    if _CHILD_ENGINE is None:
        _CHILD_ENGINE = _EngineHolder(selection, default_metrics)
    return compute_metrics(_CHILD_ENGINE, record, prompt), list(_CHILD_ENGINE.notices)


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
        self._holder = _EngineHolder(selection, catalog.defaults.metrics)
        self._futures: list[concurrent.futures.Future[Any]] = []
        self._lock = threading.Lock()
        self._unsaved: list[tuple[int, dict[str, tuple[float | None, Any, str]]]] = []
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
        pool = self._executor()
        if self._processes:
            future = pool.submit(
                _compute_in_child, self.selection, self.catalog.defaults.metrics, record, prompt
            )
        else:
            future = pool.submit(self._compute_here, record, prompt)
        future.add_done_callback(lambda f, r=record: self._done(r, f))  # type: ignore[misc]
        self._futures.append(future)
        # Keep the list short on long runs (memory stays flat with the catalog size).
        if len(self._futures) > 256:
            self._futures = [f for f in self._futures if not f.done()]

    def _compute_here(
        self, record: ResponseRecord, prompt: Prompt
    ) -> tuple[dict[str, tuple[float | None, Any, str]], list[str]]:
        return compute_metrics(self._holder, record, prompt), list(self._holder.notices)

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

    def add(
        self, response_id: int, values: dict[str, tuple[float | None, Any, str]], save: bool = True
    ) -> None:
        """Record metrics computed elsewhere too (the judge's); stored with the next batch."""
        with self._lock:
            # update, not replace: the judge's values and the engine's arrive in either order.
            self.values.setdefault(response_id, {}).update({k: v[0] for k, v in values.items()})
            self._unsaved.append((response_id, values))
            due = len(self._unsaved) >= 64 or time.monotonic() - self._saved_at > 0.5
        if due and save:
            self._save_pending()

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


class HeadlessJudge:
    """The catalog's LLM judge over a headless run, on the run's event loop.

    Each stored answer is judged as it arrives (score, and groundedness for prompts with
    context); once every model answered a prompt (per sample), each pair of answers is judged in
    both orders. Calls run concurrently, at most ``concurrency`` at once, alongside the model
    requests — the run never waits for the judge until its last answer is in. Results go
    through the metrics worker's batched store; a failure is a ``judge_error`` row, never a
    score, never an exception.
    """

    def __init__(self, catalog: Catalog, worker: MetricsWorker, runner: Any) -> None:
        self.catalog = catalog
        self.worker = worker
        self.runner = runner
        self.models = [m.id for m in catalog.models]
        self._tasks: set[asyncio.Task[None]] = set()
        self._groups: dict[tuple[str, int], dict[str, ResponseRecord]] = {}
        self._errors: dict[int, list[tuple[str, Any]]] = {}
        self._saving: asyncio.Task[None] | None = None

    @classmethod
    def create(
        cls,
        catalog: Catalog,
        worker: MetricsWorker,
        selection: frozenset[str] | None,
        concurrency: int,
    ) -> HeadlessJudge | None:
        """None when the catalog has no judge or the selection leaves it nothing to do."""
        if catalog.judge is None:
            return None
        from genaicompare.metrics.judge import Judge, JudgeRunner, judge_tasks

        tasks = judge_tasks(catalog.judge.mode, selection)
        if not tasks:
            return None
        runner = JudgeRunner(Judge(catalog.judge), tasks, concurrency)
        return cls(catalog, worker, runner)

    def submit(self, record: ResponseRecord, fresh: bool = True) -> None:
        """Judge ``record`` (call on the loop). ``fresh`` False: a kept answer of a resumed run,
        judged only where its verdicts are missing."""
        if record.id is None:
            return
        stored = self.worker.values.get(record.id, {})
        prompt = self.catalog.prompt(record.prompt_id)
        if fresh or not any(k in stored for k in ("judge_score", "judge_error")):
            self._spawn(self._response(record, prompt))
        group = self._groups.setdefault((record.prompt_id, record.sample_index), {})
        group[record.model_alias] = record
        if len(group) == len(self.models):
            del self._groups[(record.prompt_id, record.sample_index)]
            done = [r for r in group.values() if r.id is not None]
            if any("judge_pairwise" not in self.worker.values.get(r.id or -1, {}) for r in done):
                self._spawn(self._pairs(prompt, list(group.values())))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _response(self, record: ResponseRecord, prompt: Prompt) -> None:
        assert record.id is not None
        if record.from_cache:
            # The same answer to the same request, judged by the same judge before: reuse its
            # verdicts rather than pay for them again (re-running after changing one model).
            reused = await asyncio.to_thread(self._stored_verdicts, record, prompt)
            if reused:
                self._store(record.id, reused)
                return
        try:
            values = await self.runner.response(record, prompt)
        except Exception as exc:  # the runner reports failures as values; this is a backstop
            values = {"judge_error": self._failure(exc)}
        self._store(record.id, values)

    def _stored_verdicts(self, record: ResponseRecord, prompt: Prompt) -> dict[str, Any] | None:
        """The per-answer verdicts (score, groundedness) this judge gave an earlier copy of
        ``record``'s answer, or None unless every one this answer needs is there."""
        from genaicompare.metrics import MetricValue
        from genaicompare.metrics.judge import TASK_METRICS

        needed = []
        if "score" in self.runner.tasks:
            needed.append("judge_score")
        if "groundedness" in self.runner.tasks and prompt.context_passages:
            needed.append("judge_groundedness")
        if not needed:
            return None
        names = [n for task in ("score", "groundedness") for n in TASK_METRICS[task]]
        version = self.runner.judge.version
        copies = self.worker.store.metrics_for_content(
            record.content_hash, names, version, record.id
        )
        for stored in copies.values():  # newest first
            values = {k: MetricValue(v["value"], v["detail"], version) for k, v in stored.items()}
            if all(values.get(n) is not None and values[n].value is not None for n in needed):
                return values
        return None

    async def _pairs(self, prompt: Prompt, records: list[ResponseRecord]) -> None:
        try:
            by_alias = await self.runner.pairs(prompt, records)
        except Exception as exc:
            error = self._failure(exc)
            by_alias = {r.model_alias: {"judge_error": error} for r in records if r.ok}
        for record in records:
            if record.id is not None and record.model_alias in by_alias:
                self._store(record.id, by_alias[record.model_alias])

    def _failure(self, exc: BaseException) -> Any:
        from genaicompare.core.sanitize import one_line, redact
        from genaicompare.metrics import MetricValue

        why = f"{type(exc).__name__}: {one_line(redact(str(exc)), 300)}"
        return MetricValue(None, {"error": why}, self.runner.judge.version)

    def _store(self, response_id: int, values: dict[str, Any]) -> None:
        from genaicompare.metrics.judge import merge_errors

        error = values.pop("judge_error", None)
        if error is not None:
            # One judge_error row per answer: it collects every failed task's reason.
            seen = self._errors.setdefault(response_id, [])
            seen.append(("judge", error))
            values["judge_error"] = merge_errors(seen)
        if not values:
            return
        self.worker.add(response_id, {k: v.as_store() for k, v in values.items()}, save=False)
        if self.worker.pending() >= 64 and (self._saving is None or self._saving.done()):
            # SQLite writes stay off the loop that streams the answers.
            self._saving = asyncio.get_running_loop().create_task(
                asyncio.to_thread(self.worker.save_pending)
            )

    def combine_groundedness(self, store: Store) -> None:
        """Where an answer has both the embedding ``groundedness`` and ``judge_groundedness``,
        ``groundedness`` becomes the share of sentences both call supported (see
        :func:`genaicompare.metrics.judge.combine_groundedness`). After the metrics are stored."""
        from genaicompare.metrics.judge import combine_groundedness

        both = [
            rid
            for rid, values in self.worker.values.items()
            if values.get("groundedness") is not None
            and values.get("judge_groundedness") is not None
        ]
        combined: list[tuple[int, dict[str, tuple[float | None, Any, str]]]] = []
        for rid in both:
            stored = store.metrics_for(rid)
            if "groundedness" in stored and "judge_groundedness" in stored:
                value = combine_groundedness(stored["groundedness"], stored["judge_groundedness"])
                if value is not None:
                    combined.append((rid, {"groundedness": value.as_store()}))
                    self.worker.values[rid]["groundedness"] = value.value
        if combined:
            store.save_metrics_many(combined)

    async def drain(self) -> None:
        """Wait for every judge call (after the last answer arrived)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._saving is not None:
            await asyncio.gather(self._saving, return_exceptions=True)


def compute_metrics(
    worker: _EngineHolder, record: ResponseRecord, prompt: Prompt
) -> dict[str, tuple[float | None, Any, str]]:
    """Metrics for one response as ``name → (value, detail, version)`` (the store's shape).

    The metrics package owns the metrics; this only adapts its engine to the store's shape.
    Responses that produced no answer get no metrics (their assertions fail as "no answer").
    """
    if not record.ok and record.state is not FinishState.content_filter:
        return {}
    try:
        from genaicompare.metrics import MetricsConfig, MetricsEngine
    except ImportError:
        return operational_metrics(record)
    if worker.engine is None:
        worker.engine = MetricsEngine(MetricsConfig(metrics=worker.selection))
    named = prompt.metrics or worker.default_metrics
    names: set[str] | None = set(named) if named is not None else None
    if prompt.assert_:
        # Whatever the assertions test is computed, whatever the selection says.
        # (Text-check keys such as ``contains: Paris`` name no metric; the engine ignores them.)
        wanted = set(prompt.assert_)
        base = names if names is not None else set(worker.selection or ())
        names = None if (names is None and worker.selection is None) else base | wanted
    results = worker.engine.full(record, prompt, names=names)
    for notice in getattr(worker.engine, "notices", ()):
        if notice not in worker.notices:
            worker.notices.append(notice)
    out: dict[str, tuple[float | None, Any, str]] = {}
    for name, result in results.items():
        if isinstance(result, tuple):
            out[name] = result
        else:
            out[name] = (
                getattr(result, "value", None),
                getattr(result, "detail", None),
                str(getattr(result, "version", "1")),
            )
    return out


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
    records: list[ResponseRecord] = list(kept)
    for r in kept:
        summaries[r.model_alias].add(r)
    worker.load_existing([r.id for r in kept if r.id is not None])
    for r in kept:
        if r.id is not None and r.id not in worker.values:
            worker.submit(r)  # interrupted before its metrics were stored
    total = len(catalog.prompts) * len(catalog.models) * max(1, repeat)
    skip = {(r.prompt_id, r.model_alias, r.sample_index) for r in kept}
    judging = (
        HeadlessJudge.create(catalog, worker, judge_selection, concurrency)
        if metrics and judge
        else None
    )

    def collect(record: ResponseRecord) -> None:
        records.append(record)
        summaries[record.model_alias].add(record)
        worker.submit(record)
        if judging is not None:
            judging.submit(record)
        if on_progress is not None:
            on_progress(record, len(records), total)

    async def main() -> None:
        try:
            if judging is not None:
                for r in kept:
                    judging.submit(r, fresh=False)
            await comparison.run_many(catalog.iter_pairs(), collect, repeat=repeat, skip=skip)
            if judging is not None:
                await judging.drain()
        finally:
            writer.flush_now()

    started = time.perf_counter()
    interrupted = False
    try:
        _run_loop(main())
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # On Ctrl-C, do not wait for metrics still queued: the answers are stored, the metrics
        # can be computed again on --resume.
        worker.close(wait=not interrupted)
        if judging is not None and not interrupted:
            judging.combine_groundedness(store)
        store.finish_run(run_id, "interrupted" if interrupted else "finished")
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
        judge=judge_summary(catalog, worker.values, records) if judging is not None else None,
    )


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


def operational_metrics(record: ResponseRecord) -> dict[str, tuple[float | None, Any, str]]:
    """The operational metrics (issue 5's names), for when the metrics package is unavailable."""
    version = "ops-1"
    return {
        "ttft_ms": (record.ttft_ms, None, version),
        "latency_ms": (record.latency_ms, None, version),
        "tokens_in": (record.tokens_in, {"estimated": record.tokens_estimated}, version),
        "tokens_out": (record.tokens_out, {"estimated": record.tokens_estimated}, version),
        "tokens_per_s": (record.tokens_per_s, None, version),
        "cost_usd": (record.cost_usd, None if record.cost_usd is not None else "unknown", version),
        "chars": (float(len(record.text)), None, version),
        "words": (float(len(record.text.split())), None, version),
    }
