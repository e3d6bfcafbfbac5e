"""The CLI's app: a loading screen first, settings and catalog read in a thread, then the main
screen; whatever the loading thread raises ends the app and is kept for the CLI to report."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genaicompare.app.app import Launched, launch_app
from genaicompare.app.screens.loading import LoadingScreen
from genaicompare.app.screens.main import MainScreen
from genaicompare.app.widgets.prompt_list import PromptList
from genaicompare.catalog import CatalogError
from genaicompare.config import Settings
from genaicompare.store import Store
from tests.app.conftest import SIZE, make_catalog, wait_for


@pytest.fixture
def stores(db_path: Path) -> Any:
    opened: list[Store] = []

    def open_store() -> Store:
        store = Store(db_path)
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


async def test_loading_screen_then_main_screen(server: Any, stores: Callable[[], Store]) -> None:
    release = threading.Event()
    catalog = make_catalog(
        server.base_url,
        {"echo": "fake/echo", "counter": "fake/tokens?n=5"},
        [{"id": f"p{i}", "prompt": f"question {i}"} for i in range(3)],
    )

    def launch() -> Launched:
        assert release.wait(30)
        return Launched(Settings(rater="tester", metrics=["lexical"]), catalog, "launch.yaml")

    app = launch_app(launch, stores, first_theme="genaicompare-light", in_process=True)
    app.save_config = False
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        # The loading screen is up (with the bundled theme) while the "catalog" is still loading.
        assert isinstance(app.screen, LoadingScreen)
        assert app.theme == "genaicompare-light"
        assert app.catalog is None and app.store is None
        release.set()
        await wait_for(
            pilot, lambda: isinstance(app.screen, MainScreen) and app.session.ready.is_set()
        )
        assert app.theme == "genaicompare-dark"  # the settings decide once read
        assert [r.prompt_id for r in app.screen.query_one(PromptList).rows] == ["p0", "p1", "p2"]
        assert app.catalog_path == "launch.yaml"
        await pilot.press("q")
    assert app.launch_error is None


async def test_a_loading_error_ends_the_app_and_is_kept(
    tmp_path: Path, stores: Callable[[], Store]
) -> None:
    def launch() -> Launched:
        raise CatalogError(tmp_path / "bad.yaml", "YAML syntax error", 3, 7)

    app = launch_app(launch, stores, first_theme="genaicompare-dark", in_process=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.launch_error is not None, timeout=10)
    assert isinstance(app.launch_error, CatalogError)
    assert app.return_code == 2
    assert app.store is None  # nothing was opened


def test_loading_thread_does_not_hold_up_quitting() -> None:
    """asyncio.run joins to_thread's threads; the loading thread must not keep a quit waiting."""
    from genaicompare.app.app import _in_daemon_thread

    release = threading.Event()
    done: list[str] = []

    def slow() -> str:
        release.wait(30)
        done.append("finished")
        return "late"

    async def quit_while_loading() -> None:
        task = asyncio.ensure_future(_in_daemon_thread(slow))
        await asyncio.sleep(0.05)
        task.cancel()

    asyncio.run(quit_while_loading())
    assert done == []  # asyncio.run returned while the thread was still reading
    release.set()

    async def results() -> tuple[int, str]:
        value = await _in_daemon_thread(lambda: 42)
        try:
            await _in_daemon_thread(lambda: 1 / 0)
        except ZeroDivisionError as exc:
            return value, type(exc).__name__
        return value, "no error"

    assert asyncio.run(results()) == (42, "ZeroDivisionError")
