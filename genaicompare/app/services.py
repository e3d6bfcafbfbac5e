"""The app's narrow doors into the domain (ratings, metrics, scores). No widgets here.

Each call is synchronous and may touch SQLite or compute; the app runs them in threads. Keeping
them in one module keeps the integration points with the domain packages small.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from genaicompare.catalog import JudgeSpec, Prompt
from genaicompare.core.errors import KnownError
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.ratings import PREFERENCES as PAIR_VALUES
from genaicompare.ratings import THUMBS as THUMB_VALUES
from genaicompare.ratings import RatingContext
from genaicompare.ratings import blind_order as blind_order  # the main screen imports it from here

if TYPE_CHECKING:
    from genaicompare.store import Store

T = TypeVar("T")

GONE = "this answer was deleted by forget; regenerate with r"


class RatingRefused(KnownError):
    """A rating the store would not take, said for the rater (e.g. the answer was forgotten)."""


class RatingService:
    """Thin wrapper over :class:`genaicompare.ratings.Ratings`; every method returns after COMMIT."""

    def __init__(self, store: Store) -> None:
        from genaicompare.ratings import Ratings

        self.ratings = Ratings(store)
        # The TUI is where ratings are given: what an earlier session left pending is written now.
        self.ratings.pending.replay()

    def _saving(self, records: list[ResponseRecord], save: Callable[[], T]) -> T:
        """``save()``, with a deleted answer (``genaicompare forget`` ran while the TUI showed
        it) said as such instead of ``IntegrityError: FOREIGN KEY constraint failed``."""
        try:
            return save()
        except sqlite3.IntegrityError:
            if any(r.id is None or self.ratings.store.response(r.id) is None for r in records):
                raise RatingRefused(GONE) from None
            raise

    def thumb(self, record: ResponseRecord, value: str, ctx: RatingContext) -> Any:
        assert value in THUMB_VALUES
        return self._saving([record], lambda: self._thumb(record, value, ctx))

    def _thumb(self, record: ResponseRecord, value: str, ctx: RatingContext) -> Any:
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
        return self._saving([a, b], lambda: self._prefer(a, b, value, ctx))

    def _prefer(
        self,
        a: ResponseRecord,
        b: ResponseRecord,
        value: str,
        ctx: RatingContext,
        strength: int = 1,
    ) -> Any:
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
            strength=strength,
        )

    def prefer_graded(
        self, a: ResponseRecord, b: ResponseRecord, value: str, strength: int, ctx: RatingContext
    ) -> Any:
        """A pair vote with its strength (2: A≫B) — issue 16."""
        assert value in PAIR_VALUES
        return self._saving([a, b], lambda: self._prefer(a, b, value, ctx, strength))

    def best(self, winner: ResponseRecord, others: list[ResponseRecord], ctx: RatingContext) -> Any:
        """Best of N: ``winner`` beat each of ``others`` (one judgement) — issue 13."""
        return self._saving(
            [winner, *others],
            lambda: self.ratings.best(
                winner,
                others,
                rater=ctx.rater,
                catalog_name=ctx.catalog_name,
                blind=ctx.blind,
                pane_order=ctx.pane_order,
                shuffle_seed=ctx.shuffle_seed,
                time_to_rate_ms=ctx.time_to_rate_ms,
            ),
        )

    def rubric(
        self,
        record: ResponseRecord,
        criterion: str,
        value: str,
        allowed: Sequence[str],
        ctx: RatingContext,
    ) -> Any:
        """One rubric criterion scored on one answer — issue 16."""
        return self._saving(
            [record],
            lambda: self.ratings.rubric(
                record,
                criterion,
                value,
                allowed,
                rater=ctx.rater,
                blind=ctx.blind,
                pane_order=ctx.pane_order,
                catalog_name=ctx.catalog_name,
            ),
        )

    def correct(self, record: ResponseRecord, text: str, ctx: RatingContext) -> Any:
        """The rater's corrected text of one answer — issue 16."""
        return self._saving(
            [record],
            lambda: self.ratings.correct(
                record, text, rater=ctx.rater, catalog_name=ctx.catalog_name
            ),
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

    def answered_prompts(self, catalog_name: str, aliases: Iterable[str]) -> set[str]:
        """Prompt ids of the catalog with a stored answer from every one of ``aliases`` (the ✓
        marks of the prompt list, from the first screen on, not only for prompts visited)."""
        wanted = set(aliases)
        rows = self.ratings.store.query(
            "SELECT DISTINCT r.prompt_id, r.model_alias FROM responses r "
            "JOIN catalogs c ON c.id = r.catalog_id WHERE c.name = ? AND r.state IN (?, ?)",
            [catalog_name, FinishState.complete.value, FinishState.length.value],
        )
        seen: dict[str, set[str]] = {}
        for row in rows:
            seen.setdefault(row["prompt_id"], set()).add(row["model_alias"])
        return {p for p, got in seen.items() if wanted <= got}


class MetricsService:
    """The TUI's door to the one evaluation pipeline (:class:`genaicompare.session.evaluation.
    Evaluator`): live (cheap, lexical) metrics while a pane streams, then the full metrics and
    the catalog's LLM judge for each stored answer, exactly as the headless run computes them.

    ``names``: metric or family names to compute when neither the prompt nor the catalog names
    any (None = every available one). Everything is saved to the store, so scores and exports
    see what the screen showed.

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
        from genaicompare.session.evaluation import Evaluator

        self.store = store
        self.names = names
        self.judge_spec = judge
        self.models = list(models or [])
        # The catalog's default metrics arrive as ``names`` (the app passes the settings' or the
        # catalog's): the rule puts the prompt's own first, then these.
        self.evaluator = Evaluator(
            store,
            selection=frozenset(names) if names is not None else None,
            judge=judge,
            models=self.models,
        )

    def cheap(self, text: str, reference: str | Sequence[str] | None) -> dict[str, float | None]:
        if not reference:
            return {}
        return dict(self.evaluator.scorer.engine.cheap(text, reference))

    def full(
        self,
        record: ResponseRecord,
        prompt: Prompt,
        others: dict[str, str],
        first: Callable[[dict[str, float | None]], None] | None = None,
    ) -> dict[str, float | None]:
        """The answer's metrics (stored ones if it has any), computed and stored otherwise;
        ``first`` gets those that load no model first (see ``Evaluator.metrics``)."""
        return self.evaluator.metrics(record, prompt, others, first)

    def judge(self, record: ResponseRecord, prompt: Prompt) -> dict[str, dict[str, float | None]]:
        """The judge's verdicts for a finished answer, and for the prompt's pairs once every
        model answered it: model alias → judge metric → value (``{}`` without a judge).

        Blocking (model calls): run it off the UI thread. Stored answers keep their verdicts.
        A failure is a ``judge_error`` value (None), never an exception.
        """
        if not self.evaluator.judging or record.id is None:
            return {}
        import asyncio

        return asyncio.run(self.evaluator.judge(record, prompt))
