"""The app's narrow doors into the domain (ratings, metrics, scores). No widgets here.

Each call is synchronous and may touch SQLite or compute; the app runs them in threads. Keeping
them in one module keeps the integration points with the domain packages small.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Literal, cast

from genaicompare.catalog import JudgeSpec, Prompt
from genaicompare.core.records import ResponseRecord
from genaicompare.ratings import PREFERENCES as PAIR_VALUES
from genaicompare.ratings import THUMBS as THUMB_VALUES
from genaicompare.ratings import RatingContext
from genaicompare.ratings import blind_order as blind_order  # the main screen imports it from here

if TYPE_CHECKING:
    from genaicompare.store import Store


class RatingService:
    """Thin wrapper over :class:`genaicompare.ratings.Ratings`; every method returns after COMMIT."""

    def __init__(self, store: Store) -> None:
        from genaicompare.ratings import Ratings

        self.ratings = Ratings(store)

    def thumb(self, record: ResponseRecord, value: str, ctx: RatingContext) -> Any:
        assert value in THUMB_VALUES
        return self.ratings.thumb(
            record,
            cast("Literal['up', 'down']", value),
            rater=ctx.rater,
            catalog_name=ctx.catalog_name,
            blind=ctx.blind,
            pane_order=ctx.pane_order,
            shuffle_seed=ctx.shuffle_seed,
            time_to_rate_ms=ctx.time_to_rate_ms,
        )

    def prefer(self, a: ResponseRecord, b: ResponseRecord, value: str, ctx: RatingContext) -> Any:
        assert value in PAIR_VALUES
        return self.ratings.prefer(
            a,
            b,
            cast("Literal['a', 'b', 'tie', 'both_bad']", value),
            rater=ctx.rater,
            catalog_name=ctx.catalog_name,
            blind=ctx.blind,
            pane_order=ctx.pane_order,
            shuffle_seed=ctx.shuffle_seed,
            time_to_rate_ms=ctx.time_to_rate_ms,
        )

    def comment(self, rating: Any, text: str) -> Any:
        return self.ratings.comment(rating.uid, text)

    def undo(self, rater: str) -> Any:
        return self.ratings.undo(rater)

    def for_prompt(self, catalog_name: str | None, prompt_id: str, rater: str) -> list[Any]:
        return list(self.ratings.for_prompt(catalog_name, prompt_id, rater=rater))

    def rated_prompts(self, catalog_name: str | None, rater: str) -> set[str]:
        """Prompt ids this rater has a rating in force on (marks in the prompt list)."""
        rows = self.ratings.current("r.rater = ? AND r.catalog_name IS ?", [rater, catalog_name])
        return {r.prompt_id for r in rows}


class MetricsService:
    """Live (cheap, lexical) and full metrics through :mod:`genaicompare.metrics`.

    ``names``: metric or family names to compute (None = every available one). Full metrics are
    saved to the store, so scores and exports see what the screen showed.

    ``judge``: the catalog's LLM judge; :meth:`judge` asks it about a finished answer, and about
    each pair once every model in ``models`` answered the prompt.
    """

    def __init__(
        self,
        store: Store,
        names: list[str] | None = None,
        *,
        judge: JudgeSpec | None = None,
        models: list[str] | None = None,
    ) -> None:
        self.store = store
        self.names = names
        self.judge_spec = judge
        self.models = list(models or [])
        self._engine: Any = None
        self._judge: Any = None
        self._lock = threading.Lock()
        self._full_lock = threading.Lock()
        """One answer's full metrics at a time: the metric models are not safe to share."""
        self._groups: dict[str, dict[str, ResponseRecord]] = {}
        self._pairs_running: set[tuple[int, ...]] = set()

    def _get(self) -> Any:
        with self._lock:
            if self._engine is None:
                from genaicompare.metrics import MetricsConfig, MetricsEngine

                config = MetricsConfig(
                    metrics=frozenset(self.names) if self.names is not None else None
                )
                self._engine = MetricsEngine(config)
            return self._engine

    def cheap(self, text: str, reference: str | None) -> dict[str, float | None]:
        if reference is None:
            return {}
        return dict(self._get().cheap(text, reference))

    def full(
        self, record: ResponseRecord, prompt: Prompt, others: dict[str, str]
    ) -> dict[str, float | None]:
        if record.id is not None:
            stored = self.store.metrics_for(record.id)
            if stored:  # a stored answer keeps the numbers it was scored with
                return {k: v["value"] for k, v in stored.items()}
        with self._full_lock:
            values = self._get().full(record, prompt, others)
        if record.id is not None and values:
            self.store.save_metrics(record.id, {k: v.as_store() for k, v in values.items()})
        return {k: v.value for k, v in values.items()}

    # -- LLM judge ------------------------------------------------------------------------------
    def _runner(self) -> Any:
        from genaicompare.metrics.judge import Judge, JudgeRunner, judge_tasks

        assert self.judge_spec is not None
        with self._lock:
            if self._judge is None:
                self._judge = Judge(self.judge_spec)
        # A runner per call: its semaphore belongs to the event loop of that call's thread.
        return JudgeRunner(self._judge, judge_tasks(self.judge_spec.mode), concurrency=4)

    def judge(self, record: ResponseRecord, prompt: Prompt) -> dict[str, dict[str, float | None]]:
        """The judge's verdicts for a finished answer, and for the prompt's pairs once every
        model answered it: model alias → judge metric → value (``{}`` without a judge).

        Blocking (model calls): run it off the UI thread. Stored answers keep their verdicts.
        A failure is a ``judge_error`` value (None), never an exception.
        """
        if self.judge_spec is None or record.id is None:
            return {}
        import asyncio

        out: dict[str, dict[str, float | None]] = {}
        stored = self.store.metrics_for(record.id)
        if any(k in stored for k in ("judge_score", "judge_groundedness", "judge_error")):
            out[record.model_alias] = _judge_values(stored)
        else:
            values = asyncio.run(self._runner().response(record, prompt))
            if "groundedness" in stored and "judge_groundedness" in values:
                from genaicompare.metrics.judge import combine_groundedness

                both = combine_groundedness(stored["groundedness"], values["judge_groundedness"])
                if both is not None:  # with a judge, groundedness needs both verdicts
                    values["groundedness"] = both
            self._save_judge(record.id, values)
            out[record.model_alias] = {k: v.value for k, v in values.items()}
        pair = self._complete_group(record, prompt)
        if pair is not None:
            key = tuple(sorted(r.id or -1 for r in pair))
            try:
                by_alias = asyncio.run(self._runner().pairs(prompt, pair))
            finally:
                with self._lock:
                    self._pairs_running.discard(key)
            for other in pair:
                values = by_alias.get(other.model_alias)
                if values and other.id is not None:
                    self._save_judge(other.id, values)
                    out.setdefault(other.model_alias, {}).update(
                        {k: v.value for k, v in values.items()}
                    )
        return out

    def _complete_group(
        self, record: ResponseRecord, prompt: Prompt
    ) -> list[ResponseRecord] | None:
        """The prompt's answers, once per complete set that was not judged pairwise yet."""
        if len(self.models) < 2:
            return None
        with self._lock:
            group = self._groups.setdefault(prompt.id, {})
            group[record.model_alias] = record  # a regenerated answer replaces the old one
            if not all(a in group for a in self.models):
                return None
            pair = [group[a] for a in self.models]
            key = tuple(sorted(r.id or -1 for r in pair))
            if key in self._pairs_running:
                return None
            self._pairs_running.add(key)
        judged = [
            r.id is not None and "judge_pairwise" in self.store.metrics_for(r.id) for r in pair
        ]
        if all(judged) or not any(r.ok for r in pair):
            with self._lock:
                self._pairs_running.discard(key)
            return None
        return pair

    def _save_judge(self, response_id: int, values: dict[str, Any]) -> None:
        from genaicompare.metrics.judge import merge_errors

        if "judge_error" in values:
            # One judge_error row per answer: it keeps the reasons of earlier failed tasks.
            old = self.store.metrics_for(response_id).get("judge_error")
            parts = [("judge", old["detail"])] if old and old.get("detail") else []
            values = {
                **values,
                "judge_error": merge_errors([*parts, ("judge", values["judge_error"])]),
            }
        if values:
            self.store.save_metrics(response_id, {k: v.as_store() for k, v in values.items()})


def _judge_values(stored: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    return {k: v["value"] for k, v in stored.items() if k.startswith("judge_")}
