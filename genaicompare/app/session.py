"""The TUI's bundle of domain services, handed to each screen in its constructor.

harlequin passes its adapter to what needs the database; the screens here get a :class:`Session`
the same way, instead of reaching into the App for its attributes. Nothing here imports Textual,
pydantic or sqlite-utils: the App builds a session before its first paint.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genaicompare.app.services import MetricsService, RatingService
    from genaicompare.catalog import Catalog
    from genaicompare.config import Settings
    from genaicompare.session.comparison import Comparison
    from genaicompare.session.streaming import Engine
    from genaicompare.store import Store

ScoresTable = tuple[str, Sequence[str], Sequence[Sequence[object]], str, list[dict[str, Any]]]
"""(title, columns, rows, note, charts) for the scores screen."""
RunDiff = tuple[int, int, str, list[Any]]
"""(run A, run B, similarity method, rows) for the run diff screen."""


class Session:
    """The TUI's bundle of domain services: catalog, store, comparison runner, streaming engine,
    metrics and rating services, settings — and the view state the screens share.

    ``settings``, ``catalog`` and ``blind`` are there from the first paint. ``store``,
    ``comparison``, ``engine`` and ``metrics_service`` exist once :meth:`open` ran, after the
    first paint (sqlite-utils drags in pandas, the engine litellm); ``ready`` is set then.
    ``rating_service`` is made on first use.
    """

    store: Store
    comparison: Comparison
    engine: Engine
    metrics_service: MetricsService

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        scores_table: Callable[[], ScoresTable],
        latest_run_diff: Callable[[], RunDiff | None],
        export_format: Callable[[str], tuple[str | None, int, dict[str, int]]],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.blind = settings.blind
        """Blind mode: panes show letters in a per-prompt shuffled order (``B`` toggles it)."""
        self.ready = asyncio.Event()
        """Set once the store, the comparison runner and the engine exist."""
        # The App's report methods (scores, run diff, export), each run in a thread.
        self.scores_table = scores_table
        self.latest_run_diff = latest_run_diff
        self.export_format = export_format
        self._rating_service: RatingService | None = None

    def open(
        self, store: Store, comparison: Comparison, engine: Engine, metrics: MetricsService
    ) -> None:
        """The services that load after the first paint are up: screens may use them now."""
        self.store, self.comparison, self.engine = store, comparison, engine
        self.metrics_service = metrics
        self.ready.set()

    @property
    def rating_service(self) -> RatingService:
        if self._rating_service is None:
            # lazy: services imports the catalog's pydantic models, off the first paint
            from genaicompare.app.services import RatingService

            self._rating_service = RatingService(self.store)
        return self._rating_service
