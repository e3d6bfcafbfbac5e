"""The one evaluation pipeline: stored answer → metrics → judge → pairs → store.

The TUI (through :class:`genaicompare.app.services.MetricsService`), the headless run and the
``metrics`` command all go through here, so one answer gets the same metrics whichever front end
scored it first (stored metrics are reused everywhere after that):

* :func:`metric_names` is THE metric-selection rule: the prompt's ``metrics``, else the
  catalog's defaults, else the caller's selection — plus every metric the prompt's assertions
  name, whatever the selection says.
* :class:`Scorer` computes one answer's metrics with a :class:`~genaicompare.metrics.MetricsEngine`
  built on first use, in whatever thread or process it lives (the headless run keeps it in a
  worker: :mod:`genaicompare.session.metrics_pool`). ``others`` (the other models' answers to
  the same prompt, for ``similarity_to:<alias>``) are passed wherever they are known.
* :class:`Evaluator` runs the judge on one event loop: each answer as it is stored (a cached
  answer reuses the verdicts an earlier copy got: :meth:`Store.metrics_for_content`), each pair
  once every model answered the prompt, one merged ``judge_error`` per answer, and the combined
  ``groundedness`` once both verdicts are stored. Results go to a :class:`MetricsSink`: the
  store itself (TUI), or the headless run's batches.

No Textual, no threads of its own: callers decide where the blocking parts run.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from genaicompare.catalog import JudgeSpec, Prompt
from genaicompare.core.records import FinishState, ResponseRecord

if TYPE_CHECKING:  # metrics pull numpy, the store sqlite-utils: not before a catalog error
    from genaicompare.metrics.engine import MetricsEngine, MetricValue
    from genaicompare.metrics.judge import Judge, JudgeRunner
    from genaicompare.store import Store

StoredMetric = tuple[float | None, Any, str]
"""One metric as the store takes it: (value, detail, version)."""

JUDGED = ("judge_score", "judge_groundedness", "judge_error")
"""An answer with any of these stored was judged already: it keeps its verdicts."""


def metric_names(
    prompt: Prompt, defaults: Sequence[str] | None, selection: Iterable[str] | None
) -> set[str] | None:
    """The metrics (or family names) to compute for an answer to ``prompt``; None: every one.

    The prompt's ``metrics`` win, then the catalog's ``defaults.metrics``, then ``selection``
    (the headless run's cheap default or ``--metrics``; the TUI's settings). Whatever the
    assertions test is computed too; text-check keys such as ``contains`` name no metric, and
    the engine ignores them.
    """
    named = prompt.metrics or defaults
    if named is not None:
        names: set[str] | None = set(named)
    else:
        names = set(selection) if selection is not None else None
    if prompt.assert_ and names is not None:
        names |= set(prompt.assert_)
    return names


class Scorer:
    """The metrics step in one thread or process: a metrics engine built on first use, the
    selection rule, and the store's shape. Not safe to call concurrently (the metric models
    are not); callers keep it to one worker."""

    def __init__(
        self, selection: frozenset[str] | None = None, defaults: Sequence[str] | None = None
    ) -> None:
        self.selection = selection
        """Metric or family names computed when neither the prompt nor the catalog names any."""
        self.defaults = list(defaults) if defaults is not None else None
        self.notices: list[str] = []
        self._engine: MetricsEngine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> MetricsEngine:
        """The metrics engine (safe to share: the TUI's live metrics use it too)."""
        with self._lock:
            if self._engine is None:
                from genaicompare.metrics.engine import MetricsConfig, MetricsEngine  # lazy: numpy

                self._engine = MetricsEngine(MetricsConfig(metrics=self.selection))
            return self._engine

    def score(
        self, record: ResponseRecord, prompt: Prompt, others: Mapping[str, str] | None = None
    ) -> dict[str, StoredMetric]:
        """Metrics for one answer as ``name → (value, detail, version)`` (the store's shape).

        Responses that produced no answer get no metrics (their assertions fail as "no answer").
        """
        if not _scored(record):
            return {}
        names = metric_names(prompt, self.defaults, self.selection)
        values = self.engine.full(record, prompt, others, names=names)
        for notice in self.engine.notices:
            if notice not in self.notices:
                self.notices.append(notice)
        return {name: value.as_store() for name, value in values.items()}

    def first_stage(self, record: ResponseRecord, prompt: Prompt) -> dict[str, StoredMetric]:
        """The part of :meth:`score` that loads no model (see ``metrics.engine.FIRST_STAGE``);
        safe to call beside :meth:`score`."""
        if not _scored(record):
            return {}
        names = metric_names(prompt, self.defaults, self.selection)
        values = self.engine.first_stage(record, prompt, names=names)
        return {name: value.as_store() for name, value in values.items()}


class MetricsSink(Protocol):
    """Where the evaluator's values go, and what it knows is there already."""

    def known(self, response_id: int) -> Mapping[str, Any]:
        """Metric name → value of what is stored (or queued) for ``response_id``."""
        ...

    def queue(self, response_id: int, values: dict[str, StoredMetric]) -> bool:
        """Store ``values`` (now or with the next batch); True when a batch is due."""
        ...

    def save_pending(self) -> None:
        """Store whatever is queued (blocking: SQLite)."""
        ...


class StoreSink:
    """Every value straight into the store (the TUI: one answer at a time, on a worker thread)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def known(self, response_id: int) -> Mapping[str, Any]:
        return {k: v["value"] for k, v in self.store.metrics_for(response_id).items()}

    def queue(self, response_id: int, values: dict[str, StoredMetric]) -> bool:
        self.store.save_metrics(response_id, values)
        return False

    def save_pending(self) -> None:
        return None


class Evaluator:
    """Metrics and the catalog's LLM judge for stored answers, the same for every front end.

    ``selection`` / ``defaults`` feed :func:`metric_names`; ``judge`` is the catalog's judge
    (None: no judge), narrowed to ``judge_selection`` (an explicit ``--metrics``); ``models``
    are the aliases whose answers make a complete set for pairwise judging; at most
    ``concurrency`` judge calls run at once per event loop. ``store`` None (the ``metrics``
    command) keeps nothing and reuses nothing.

    Judge methods are coroutines for one event loop at a time; every judge failure is a
    ``judge_error`` value (value None, the reason in the detail), never an exception.
    """

    def __init__(
        self,
        store: Store | None,
        *,
        selection: frozenset[str] | None = None,
        defaults: Sequence[str] | None = None,
        judge: JudgeSpec | None = None,
        judge_selection: Iterable[str] | None = None,
        models: Sequence[str] = (),
        concurrency: int = 4,
        sink: MetricsSink | None = None,
    ) -> None:
        self.store = store
        self.scorer = Scorer(selection, defaults)
        self.sink: MetricsSink | None = (
            sink if sink is not None else (StoreSink(store) if store is not None else None)
        )
        self.judge_spec = judge
        self.models = list(models)
        self.concurrency = concurrency
        self.tasks: frozenset[str] = frozenset()
        if judge is not None:
            from genaicompare.metrics.judge import judge_tasks  # lazy: numpy (metrics)

            self.tasks = judge_tasks(judge.mode, judge_selection)
        self._judge: Judge | None = None
        self._runners: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, JudgeRunner] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._score_lock = threading.Lock()
        """One answer's metrics at a time: the metric models are not safe to share."""
        self._groups: dict[tuple[str, int], dict[str, ResponseRecord]] = {}
        self._pairs_running: set[tuple[int, ...]] = set()
        self._errors: dict[int, list[tuple[str, Any]]] = {}
        self._spawned: set[asyncio.Task[Any]] = set()
        self._saving: asyncio.Task[None] | None = None

    @property
    def judging(self) -> bool:
        """True when there is a judge with something to do."""
        return bool(self.tasks)

    @property
    def notices(self) -> list[str]:
        return list(self.scorer.notices)

    # -- metrics ---------------------------------------------------------------------------------
    def metrics(
        self,
        record: ResponseRecord,
        prompt: Prompt,
        others: Mapping[str, str] | None = None,
        first: Callable[[dict[str, float | None]], None] | None = None,
    ) -> dict[str, float | None]:
        """The metrics of a stored answer, computed and stored unless it has some already (a
        stored answer keeps the numbers it was scored with). Blocking: call off the UI thread.

        ``first``: when they must be computed, it gets the ones that load no model at once
        (milliseconds; the same values, not stored separately), before this waits for the
        metric models, which another answer may be loading."""
        if record.id is not None and self.store is not None:
            stored = self.store.metrics_for(record.id)
            if stored:
                return {k: v["value"] for k, v in stored.items()}
        if first is not None:
            early = self.scorer.first_stage(record, prompt)
            if early:
                first({k: v[0] for k, v in early.items()})
        with self._score_lock:
            values = self.scorer.score(record, prompt, others)
        if record.id is not None and values and self.sink is not None:
            self.sink.queue(record.id, values)
        return {k: v[0] for k, v in values.items()}

    # -- the judge -------------------------------------------------------------------------------
    def _runner(self) -> JudgeRunner:
        from genaicompare.metrics.judge import Judge, JudgeRunner  # lazy: numpy (metrics)

        assert self.judge_spec is not None
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._judge is None:
                self._judge = Judge(self.judge_spec)
            runner = self._runners.get(loop)
            if runner is None:
                # Its semaphore belongs to one event loop (the TUI runs one per judge call).
                runner = JudgeRunner(self._judge, self.tasks, self.concurrency)
                self._runners[loop] = runner
            return runner

    @property
    def version(self) -> str:
        """The judge's metric version (``1:<model>``)."""
        from genaicompare.metrics.judge import VERSION  # lazy: numpy (metrics)

        assert self.judge_spec is not None
        return (
            self._judge.version if self._judge is not None else f"{VERSION}:{self.judge_spec.model}"
        )

    async def verdicts(self, record: ResponseRecord, prompt: Prompt) -> dict[str, MetricValue]:
        """The judge's per-answer verdicts (score, groundedness for prompts with context), not
        stored: ``{}`` without a judge or for an answer the judge does not see."""
        if not self.judging:
            return {}
        try:
            return await self._runner().response(record, prompt)
        except Exception as exc:  # the runner reports failures as values; this is a backstop
            return {"judge_error": self._failure(exc)}

    async def judge_answer(self, record: ResponseRecord, prompt: Prompt) -> dict[str, float | None]:
        """Judge a stored answer and store the verdicts; an answer judged already keeps its
        verdicts, and a cached one reuses those an earlier copy got. Returns name → value."""
        if not self.judging or record.id is None:
            return {}
        known = self._known(record.id)  # headless: in memory; TUI: its own worker thread
        if any(k in known for k in JUDGED):
            return {k: v for k, v in known.items() if k.startswith("judge_")}
        if record.from_cache:
            # The same answer to the same request, judged by the same judge before: reuse its
            # verdicts rather than pay for them again (re-running after changing one model).
            reused = await asyncio.to_thread(self._stored_verdicts, record, prompt)
            if reused:
                return self._store(record.id, reused)
        return self._store(record.id, await self.verdicts(record, prompt))

    def _known(self, response_id: int) -> Mapping[str, Any]:
        return self.sink.known(response_id) if self.sink is not None else {}

    def _stored_verdicts(
        self, record: ResponseRecord, prompt: Prompt
    ) -> dict[str, MetricValue] | None:
        """The per-answer verdicts (score, groundedness) this judge gave an earlier copy of
        ``record``'s answer, or None unless every one this answer needs is there."""
        from genaicompare.metrics.engine import MetricValue  # lazy: numpy
        from genaicompare.metrics.judge import TASK_METRICS

        if self.store is None:
            return None
        needed = []
        if "score" in self.tasks:
            needed.append("judge_score")
        if "groundedness" in self.tasks and prompt.context_passages:
            needed.append("judge_groundedness")
        if not needed:
            return None
        names = [n for task in ("score", "groundedness") for n in TASK_METRICS[task]]
        version = self.version
        copies = self.store.metrics_for_content(record.content_hash, names, version, record.id)
        for stored in copies.values():  # newest first
            values = {k: MetricValue(v["value"], v["detail"], version) for k, v in stored.items()}
            if all(values.get(n) is not None and values[n].value is not None for n in needed):
                return values
        return None

    def complete_group(self, record: ResponseRecord) -> list[ResponseRecord] | None:
        """Note ``record`` as its model's answer to its prompt (and sample); once every model
        answered and the set was not judged pairwise yet, the set to judge (once)."""
        if "pairwise" not in self.tasks or len(self.models) < 2:
            return None
        with self._lock:
            group = self._groups.setdefault((record.prompt_id, record.sample_index), {})
            group[record.model_alias] = record  # a regenerated answer replaces the old one
            if not all(a in group for a in self.models):
                return None
            pair = [group[a] for a in self.models]
            key = _key(pair)
            if key in self._pairs_running:
                return None
            self._pairs_running.add(key)
        judged = [r.id is not None and "judge_pairwise" in self._known(r.id) for r in pair]
        if all(judged) or not any(r.ok for r in pair):
            with self._lock:
                self._pairs_running.discard(key)
            return None
        return pair

    async def judge_pairs(
        self, prompt: Prompt, pair: list[ResponseRecord]
    ) -> dict[str, dict[str, float | None]]:
        """Pairwise verdicts for a complete set (from :meth:`complete_group`), stored on each
        answer: model alias → name → value."""
        try:
            by_alias = await self._runner().pairs(prompt, pair)
        except Exception as exc:
            error = self._failure(exc)
            by_alias = {r.model_alias: {"judge_error": error} for r in pair if r.ok}
        finally:
            with self._lock:
                self._pairs_running.discard(_key(pair))
        out: dict[str, dict[str, float | None]] = {}
        for record in pair:
            if record.id is not None and record.model_alias in by_alias:
                out[record.model_alias] = self._store(record.id, by_alias[record.model_alias])
        return out

    async def judge(
        self, record: ResponseRecord, prompt: Prompt
    ) -> dict[str, dict[str, float | None]]:
        """One answer's verdicts, then its prompt's pairs if this answer completed the set, then
        the combined groundedness (for callers whose metrics are stored before the judge runs):
        model alias → name → value."""
        out: dict[str, dict[str, float | None]] = {}
        if not self.judging or record.id is None:
            return out
        values = await self.judge_answer(record, prompt)
        if values:
            out[record.model_alias] = dict(values)
        if "judge_groundedness" in values:
            combined = await asyncio.to_thread(self.combine_groundedness, [record.id])
            if record.id in combined:
                out[record.model_alias]["groundedness"] = combined[record.id].value
        pair = self.complete_group(record)
        if pair is not None:
            for alias, pair_values in (await self.judge_pairs(prompt, pair)).items():
                out.setdefault(alias, {}).update(pair_values)
        return out

    def submit(self, record: ResponseRecord, prompt: Prompt) -> None:
        """Judge ``record`` and, when it completes its prompt's set, the set's pairs, in tasks
        on the running loop (the headless run: its answers keep streaming meanwhile)."""
        if not self.judging or record.id is None:
            return
        self._spawn(self.judge_answer(record, prompt))
        pair = self.complete_group(record)
        if pair is not None:
            self._spawn(self.judge_pairs(prompt, pair))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def drain(self) -> None:
        """Wait for every judge call :meth:`submit` started, and for their batch to be stored."""
        while self._spawned:
            await asyncio.gather(*list(self._spawned), return_exceptions=True)
        if self._saving is not None:
            await asyncio.gather(self._saving, return_exceptions=True)

    def _failure(self, exc: BaseException) -> MetricValue:
        from genaicompare.core.sanitize import one_line, redact
        from genaicompare.metrics.engine import MetricValue  # lazy: numpy

        why = f"{type(exc).__name__}: {one_line(redact(str(exc)), 300)}"
        return MetricValue(None, {"error": why}, self.version)

    def _store(self, response_id: int, values: dict[str, MetricValue]) -> dict[str, float | None]:
        from genaicompare.metrics.judge import merge_errors  # lazy: numpy (metrics)

        values = dict(values)
        error = values.pop("judge_error", None)
        if error is not None:
            # One judge_error row per answer: it collects every failed task's reason, this
            # session's and those stored before.
            with self._lock:
                seen = self._errors.get(response_id)
            if seen is None:
                seen = self._stored_error(response_id)
            with self._lock:
                seen = self._errors.setdefault(response_id, seen)
                seen.append(("judge", error))
                merged = merge_errors(seen)
            if merged is not None:
                values["judge_error"] = merged
        if not values or self.sink is None:
            return {k: v.value for k, v in values.items()}
        if self.sink.queue(response_id, {k: v.as_store() for k, v in values.items()}):
            self._save_soon()
        return {k: v.value for k, v in values.items()}

    def _stored_error(self, response_id: int) -> list[tuple[str, Any]]:
        if self.store is None:
            return []
        old = self.store.metrics_for(response_id).get("judge_error")
        return [("judge", old["detail"])] if old and old.get("detail") else []

    def _save_soon(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self.sink is not None and (self._saving is None or self._saving.done()):
            # SQLite writes stay off the loop that streams the answers.
            self._saving = loop.create_task(asyncio.to_thread(self.sink.save_pending))

    # -- after the judge -------------------------------------------------------------------------
    def combine_groundedness(self, response_ids: Iterable[int]) -> dict[int, MetricValue]:
        """Where an answer has both the embedding ``groundedness`` and ``judge_groundedness``
        stored, ``groundedness`` becomes the share of sentences both call supported (see
        :func:`genaicompare.metrics.judge.combine_groundedness`), stored. Blocking (SQLite)."""
        from genaicompare.metrics.judge import combine_groundedness  # lazy: numpy (metrics)

        if self.store is None:
            return {}
        out: dict[int, MetricValue] = {}
        for rid in response_ids:
            stored = self.store.metrics_for(rid)
            if "groundedness" in stored and "judge_groundedness" in stored:
                value = combine_groundedness(stored["groundedness"], stored["judge_groundedness"])
                if value is not None:
                    out[rid] = value
        if out:
            self.store.save_metrics_many(
                [(rid, {"groundedness": v.as_store()}) for rid, v in out.items()]
            )
        return out


def with_combined_groundedness(values: dict[str, MetricValue]) -> dict[str, MetricValue]:
    """``values`` with ``groundedness`` combined with ``judge_groundedness`` when both are there
    (for values that are not stored: the ``metrics`` command)."""
    if "groundedness" not in values or "judge_groundedness" not in values:
        return values
    from genaicompare.metrics.judge import combine_groundedness  # lazy: numpy (metrics)

    both = combine_groundedness(values["groundedness"], values["judge_groundedness"])
    return {**values, "groundedness": both} if both is not None else values


def _scored(record: ResponseRecord) -> bool:
    """Responses that produced no answer get no metrics (their assertions fail as "no answer")."""
    return record.ok or record.state is FinishState.content_filter


def _key(pair: Sequence[ResponseRecord]) -> tuple[int, ...]:
    return tuple(sorted(r.id or -1 for r in pair))
