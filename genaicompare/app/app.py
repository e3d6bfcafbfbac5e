"""The Textual app, :func:`make_app` (tests: catalog already loaded) and :func:`launch_app` (CLI).

First paint comes before anything heavy. The CLI's app paints a light loading screen first, then
reads the settings and the catalog (pydantic), the themes and the main screen's widgets in a
thread; the store (sqlite-utils → pandas) opens after the main screen is up; litellm (and the local
model, if a catalog uses it) is imported by the streaming engine — in a worker process for the
CLI. So this module imports only Textual's core, ``genaicompare.core.sanitize`` and the light
modules of this package (keys, themes, session, the loading screen).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme

from genaicompare.app.keys import APP_KEYS, KEYS, key_bindings
from genaicompare.app.screens.loading import LoadingScreen
from genaicompare.app.session import Session
from genaicompare.app.themes import (
    STYLESHEET,
    apply_settings,
    bundled_theme,
    discover_themes_or_error,
)
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line, redact

if TYPE_CHECKING:
    from genaicompare.app.widgets.prompt_list import Row
    from genaicompare.catalog import Catalog
    from genaicompare.config import Settings
    from genaicompare.session.streaming import Engine, ProcessEngine
    from genaicompare.store import Store


_T = TypeVar("_T")


@dataclass
class Launched:
    """What the CLI's loading thread hands to the app."""

    settings: Settings
    catalog: Catalog
    catalog_path: str | None = None


@dataclass
class _Loaded:
    launched: Launched
    themes: dict[str, Theme]
    theme_error: str | None
    rows: list[Row]


class GenaiCompareApp(App[None]):
    CSS_PATH = STYLESHEET  # absolute: subclasses elsewhere (tests) find it too
    TITLE = "genaicompare"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = key_bindings(APP_KEYS)

    def __init__(
        self,
        settings: Settings | None,
        catalog: Catalog | None,
        store: Store | Callable[[], Store],
        *,
        engine: Engine | None = None,
        in_process: bool = False,
        catalog_path: str | None = None,
        save_config: bool = True,
        launch: Callable[[], Launched] | None = None,
        first_theme: str | None = None,
        local_models: Sequence[str] = (),
        early_engine: ProcessEngine | None = None,
    ) -> None:
        super().__init__()
        if launch is None and (settings is None or catalog is None):
            raise TypeError("settings and catalog, or launch, are required")
        # Until the launch thread has run (CLI), these are None and the loading screen is shown.
        self.settings: Settings = settings  # type: ignore[assignment]
        self.catalog: Catalog = catalog  # type: ignore[assignment]
        self.catalog_path = catalog_path
        self.save_config = save_config
        self.session: Session | None = (
            self._new_session(settings, catalog)
            if settings is not None and catalog is not None
            else None
        )
        """What the screens work with; made once the settings and the catalog are read."""
        self._launch = launch
        self._first_theme = first_theme
        self.launch_error: BaseException | None = None
        """Why the launch thread failed (a bad catalog): the CLI reports it after the app exits."""
        self.in_process = in_process
        self._store_source = store
        self._engine_given = engine
        # Set by _open_services, after the first paint (sqlite-utils drags in pandas: ≈1 s).
        self.store: Store = None  # type: ignore[assignment]
        self._theme_applied = False
        self._gc_threshold: tuple[int, ...] | None = None
        self._local_models = list(local_models)
        """``local/…`` models the catalog names (read without parsing it): their servers start
        at the first paint, in the streaming worker, while the catalog loads."""
        self._early_engine: ProcessEngine | None = early_engine
        """The streaming worker, spawned by the CLI before Textual was imported (or at the
        first paint, :meth:`_prestart`)."""

    def _new_session(self, settings: Settings, catalog: Catalog) -> Session:
        return Session(
            settings,
            catalog,
            scores_table=self.scores_table,
            latest_run_diff=self.latest_run_diff,
            export_format=self.export_format,
        )

    async def _open_services(self) -> None:
        assert self.session is not None
        source = self._store_source
        store = source if not callable(source) else await asyncio.to_thread(source)
        from genaicompare.app.services import MetricsService
        from genaicompare.session.comparison import Comparison
        from genaicompare.session.streaming import InProcessEngine, ProcessEngine

        settings, catalog = self.settings, self.catalog
        comparison = Comparison(
            catalog,
            store,
            timeouts=settings.timeouts.to_timeouts(),
            concurrency=max(2, len(catalog.models) * (1 + settings.prefetch)),
        )
        engine = self._engine_given
        if engine is None and self.in_process:
            # The worker process records these for the CLI; in-process (tests, --in-process)
            # the app does it, so responses link to their catalog and run either way.
            comparison.catalog_id = await asyncio.to_thread(
                store.record_catalog, catalog, self.catalog_path
            )
            comparison.run_id = await asyncio.to_thread(
                store.start_run, comparison.catalog_id, catalog, "tui", comparison.concurrency
            )
            engine = InProcessEngine(comparison)
        elif engine is None:
            engine = self._early_engine or ProcessEngine(log_path=_worker_log())
            engine.configure(
                catalog,
                store,
                settings.timeouts.to_timeouts(),
                comparison.concurrency,
                catalog_path=self.catalog_path,
            )
        self.store = store
        metrics = MetricsService(
            store,
            settings.metrics if settings.metrics is not None else catalog.defaults.metrics,
            judge=catalog.judge,
            models=[m.id for m in catalog.models],
        )
        self.session.open(store, comparison, engine, metrics)
        engine.warm()

    # -- services -------------------------------------------------------------------------------
    @property
    def engine(self) -> Engine | None:
        """The streaming engine, once the services are open (benchmarks read its worker)."""
        session = self.session
        return session.engine if session is not None and session.ready.is_set() else None

    def scores_table(
        self,
    ) -> tuple[str, Sequence[str], Sequence[Sequence[object]], str, list[dict[str, Any]]]:
        """(title, columns, rows, note, charts) for the scores screen, from
        :mod:`genaicompare.scoring` (charts: bars with intervals, ``Scores.chart_data()``)."""
        from textual.notifications import Notification, Notify

        from genaicompare.scoring import scores_table  # lazy: numpy, off the first paint
        from genaicompare.store.columns import indexing_message

        shown: list[Notification] = []

        def indexing(answers: int) -> None:
            # Called on the scores thread: the toast is posted to the app's loop, and stays up
            # while the copy is written (a million answers: ≈ 33 s), not a fixed time.
            shown.append(Notification(indexing_message(answers), timeout=3600, markup=False))
            self.call_from_thread(self.post_message, Notify(shown[-1]))

        try:
            return scores_table(self.store, self.catalog.name, notice=indexing)
        finally:
            for note in shown:  # done: the scores screen replaces it
                self.call_from_thread(self._unnotify, note)

    def latest_run_diff(self) -> tuple[int, int, str, list[Any]] | None:
        """(run A, run B, similarity method, rows) for the two latest headless runs of this
        catalog, or None when there are fewer than two. Lexical similarity: loading an embedding
        model inside the TUI would cost seconds and memory for a quick look."""
        from genaicompare.gate.run_diff import latest_run_diff  # lazy: the gate imports numpy

        return latest_run_diff(self.store, self.catalog.name)

    def export_format(self, fmt: str) -> tuple[str | None, int, dict[str, int]]:
        """Write this catalog's ``fmt`` export (rated, sft, dpo, kto) to a new file in the data
        folder's ``exports/`` (named with the time: an earlier export is never overwritten) and
        return ``(path, lines, skipped)`` (see :func:`genaicompare.exports.export_file`)."""
        from genaicompare.exports import export_file  # lazy: sqlite-utils, after first paint

        return export_file(self.store, self.catalog.name, fmt)

    # -- lifecycle ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        # Each repaint allocates thousands of short-lived objects (strips, segments, styles):
        # at the default threshold (700) the collector ran ≈40 times a second while three panes
        # streamed, ≈15 % of the UI's CPU (measured: 1.7 s → 0.2–0.5 s of collection per run
        # of benchmarks/bench_streaming_ui.py's paced case). Garbage is collected all the same.
        # Process-wide: put back when the app unmounts (tests, the catalog picker, callers).
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(20_000, 20, 100)
        self._handle_signals()
        if self._launch is not None:
            theme = bundled_theme(self._first_theme) if self._first_theme else None
            if theme is not None:
                self.register_theme(theme)
                self.theme = theme.name
            name = Path(self.catalog_path).name if self.catalog_path else "catalog"
            self.push_screen(LoadingScreen(one_line(f"Loading {name} …", 200)))
            # The frame is queued before the thread starts competing for the GIL.
            self.call_after_refresh(
                lambda: self.run_worker(self._load(), group="launch", exit_on_error=False)
            )
            if not self.in_process and self._engine_given is None:
                self.call_after_refresh(self._prestart)
            return
        self._apply_settings(*discover_themes_or_error())
        from genaicompare.app.screens.main import MainScreen

        assert self.session is not None
        self.push_screen(MainScreen(self.session))
        # The store, and litellm (in a worker process for the CLI), load once the screen is up.
        self.call_after_refresh(lambda: self.run_worker(self._open_services(), group="open"))
        self.call_after_refresh(_preload_markdown)

    def _prestart(self) -> None:
        """Spawn the streaming worker at the first paint: it starts the local model's servers
        (seconds) while this process reads the catalog and opens the store."""
        from genaicompare.session.streaming import ProcessEngine

        if self._early_engine is not None:
            self._early_engine.warm_reader()  # spawned by the CLI: read its output from now on
            return
        self._early_engine = ProcessEngine(log_path=_worker_log())
        self._early_engine.prestart(self._local_models)

    def _handle_signals(self) -> None:
        """SIGTERM, SIGHUP and SIGINT end the app as ``q`` does: the terminal is restored
        (alternate screen left, mouse reporting off, cursor shown) and every child process
        ends. Exit code 128 + the signal (143, 129, 130), as a shell reports a process killed
        by it. (Ctrl-C typed in the app is a key, not SIGINT: the terminal is in raw mode.)"""
        import signal

        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            # A closed terminal fails every write: Textual's output thread dies on the first,
            # its bounded queue fills, and the exit then blocks for ever putting the last
            # frame. Whatever restoring the terminal has done in 2 s is all it can do; the
            # children end when our pipes close.
            watchdog = threading.Timer(2.0, os._exit, args=(128 + signum,))
            watchdog.daemon = True
            watchdog.start()
            self.exit(return_code=128 + signum)

        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, on_signal, signum)

    def _load_in_thread(self) -> _Loaded:
        assert self._launch is not None
        launched = self._launch()
        themes, theme_error = discover_themes_or_error()
        # Importing the main screen's widgets (Markdown, DataTable, …) is part of the wait too.
        from genaicompare.app.screens.main import prompt_rows

        loaded = _Loaded(launched, themes, theme_error, prompt_rows(launched.catalog))
        # A big catalog is ~10^5 long-lived objects: without this, each full collection while
        # the main screen mounts walks all of them again (≈0.3 s for 50,000 prompts).
        gc.freeze()
        return loaded

    async def _load(self) -> None:
        try:
            loaded = await _in_daemon_thread(self._load_in_thread)
        except Exception as exc:  # reported by the CLI once the terminal is restored
            self.launch_error = exc
            self.exit(return_code=2)
            return
        from genaicompare.app.screens.main import MainScreen

        launched = loaded.launched
        self.settings, self.catalog = launched.settings, launched.catalog
        self.catalog_path = launched.catalog_path or self.catalog_path
        self.session = self._new_session(self.settings, self.catalog)
        self._apply_settings(loaded.themes, loaded.theme_error)
        await self.switch_screen(MainScreen(self.session, loaded.rows))
        self.call_after_refresh(lambda: self.run_worker(self._open_services(), group="open"))
        self.call_after_refresh(_preload_markdown)

    def _apply_settings(self, themes: dict[str, Theme], theme_error: str | None) -> None:
        apply_settings(self, self.settings, themes, theme_error)
        self._theme_applied = True

    def watch_theme(self, theme: str) -> None:
        # Remember a theme the user picked (command palette), not the one applied at start.
        if self._theme_applied and theme != self.settings.theme:
            self.settings = self.settings.model_copy(update={"theme": theme})
            if self.session is not None:
                self.session.settings = self.settings
            self._save_settings(theme=theme)

    def _save_settings(self, **choices: Any) -> None:
        """Keep the user's ``choices`` in the config file (see :func:`~genaicompare.config.
        save_choices`: the session's options and environment stay out of it)."""
        if self.save_config:
            from genaicompare.config import save_choices

            try:
                save_choices(choices)
            except (OSError, UserError) as exc:
                self.notify(one_line(f"could not save settings: {exc}"), severity="warning")

    async def on_unmount(self) -> None:
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)
        # The worker process's aclose only closes its stdin: it shuts itself down after the
        # terminal is restored, so quitting never waits for streams, servers or the database.
        engine = self.engine or self._early_engine
        if engine is not None:
            await engine.aclose()

    async def action_quit(self) -> None:
        self.exit()

    def action_toggle_keys(self) -> None:
        """``?``: the current screen's keys, on a screen of their own (Textual's key panel
        squeezed the panes to one-character columns at 80×24 and listed widget keys first)."""
        from genaicompare.app.screens.help import HelpScreen, help_sections

        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
            return
        name = getattr(self.screen, "HELP_TITLE", type(self.screen).__name__)
        self.push_screen(HelpScreen(f"Keys — {name}", help_sections(self.screen)))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, LoadingScreen):
            return
        from genaicompare.app.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            for bid, keys, action, description, _ in KEYS:
                yield SystemCommand(
                    description,
                    f"{bid} ({keys.split(',')[0]})",
                    lambda a=action: self.run_action(a, screen),
                )

    # -- a crash shows no locals and no secrets --------------------------------------------------
    def _fatal_error(self) -> None:
        from rich.segment import Segments
        from rich.text import Text

        from genaicompare.core.errors import write_crash_log

        exc = self._exception
        self.bell()
        log = write_crash_log(exc) if exc is not None else None
        message = (
            f"genaicompare: internal error: {type(exc).__name__}: {one_line(redact(str(exc)), 300)}"
            if exc is not None
            else "genaicompare: internal error"
        )
        if log:
            message += f"\ngenaicompare: details (no secrets, no local variables) in {log}"
        self._exit_renderables.append(
            Segments(self.console.render(Text(message), self.console.options))
        )
        self._close_messages_no_wait()


async def _in_daemon_thread(fn: Callable[[], _T]) -> _T:
    """``await asyncio.to_thread(fn)``, except that quitting does not wait for ``fn`` to finish.

    (asyncio.run joins its executor's threads: ``q`` on the loading screen of a 50,000-prompt
    catalog would hang until the catalog was read.)
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[_T] = loop.create_future()

    def run() -> None:
        result: Any = None
        error: BaseException | None = None
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc

        def settle() -> None:
            if future.done():  # the awaiting worker was cancelled
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed: the app has quit
            loop.call_soon_threadsafe(settle)

    threading.Thread(target=run, name="genaicompare-load", daemon=True).start()
    return await future


def _preload_markdown() -> None:
    """Import the Markdown widget in a daemon thread once the main screen is up: the panes mount
    it with their first finished answer, which then does not wait for the import (≈0.1 s of
    markdown_it and Pygments, kept off the path to the main screen). Quitting does not wait."""

    def run() -> None:
        with contextlib.suppress(Exception):  # only a head start: the pane imports it anyway
            from textual.widgets import Markdown  # noqa: F401

    threading.Thread(target=run, name="genaicompare-preload", daemon=True).start()


def _worker_log() -> Path | None:
    from genaicompare.core.paths import cache_file
    from genaicompare.session.streaming import WORKER_LOG

    return cache_file(WORKER_LOG)


def make_app(
    settings: Settings,
    catalog: Catalog,
    store: Store | Callable[[], Store],
    *,
    engine: Engine | None = None,
    in_process: bool = False,
    catalog_path: str | None = None,
    save_config: bool = True,
) -> GenaiCompareApp:
    """Build the app. ``store`` may be a factory, called in a thread after the first paint.

    Tests pass ``in_process=True`` (or their own engine); the CLI streams in a worker process.
    """
    return GenaiCompareApp(
        settings,
        catalog,
        store,
        engine=engine,
        in_process=in_process,
        catalog_path=catalog_path,
        save_config=save_config,
    )


def launch_app(
    launch: Callable[[], Launched],
    store: Store | Callable[[], Store],
    *,
    first_theme: str | None = None,
    in_process: bool = False,
    catalog_path: str | None = None,
    local_models: Sequence[str] = (),
    early_engine: ProcessEngine | None = None,
) -> GenaiCompareApp:
    """The CLI's app: paints a loading screen, then runs ``launch`` (settings, catalog) in a thread.

    ``local_models``: the ``local/…`` models to start at the first paint (see
    :func:`genaicompare.commands.tui.local_models`); ``early_engine``: a streaming worker the
    caller spawned already (:meth:`ProcessEngine.prestart` before Textual is imported).

    Whatever ``launch`` raises (a bad catalog) ends the app; it is in ``app.launch_error`` for the
    caller to report once the terminal is restored. ``first_theme`` is a bundled theme's name for
    the loading screen (the settings, read in the thread, decide the theme after that).
    """
    return GenaiCompareApp(
        None,
        None,
        store,
        in_process=in_process,
        catalog_path=catalog_path,
        launch=launch,
        first_theme=first_theme,
        local_models=local_models,
        early_engine=early_engine,
    )
