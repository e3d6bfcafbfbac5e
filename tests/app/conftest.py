"""Fixtures for Pilot and snapshot tests: a real SQLite file, the fake OpenAI server on 127.0.0.1,
and apps built by the same ``make_app`` the CLI uses (streaming in-process, cheap metrics only)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from genaicompare.app.app import GenaiCompareApp, make_app
from genaicompare.catalog import Catalog
from genaicompare.config import Settings
from genaicompare.store import Store
from tests.support.fake_openai import FakeOpenAI

SIZE = (140, 40)


@pytest.fixture(scope="session")
def server() -> Iterator[FakeOpenAI]:
    # In-process streaming imports litellm on the app's loop on first use (seconds on a loaded
    # machine); import it once here so no test's timing depends on which test runs first.
    from genaicompare.providers.backends.litellm import import_litellm

    import_litellm()
    with FakeOpenAI() as srv:
        yield srv


def make_catalog(
    base_url: str, models: dict[str, str], prompts: list[dict[str, Any]], name: str = "apptest"
) -> Catalog:
    return Catalog.model_validate(
        {
            "name": name,
            "models": [
                {"id": alias, "model": f"openai/{scenario}", "api_base": base_url}
                for alias, scenario in models.items()
            ],
            "prompts": prompts,
        }
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "genaicompare.db"


@pytest.fixture
def build(db_path: Path) -> Iterator[Callable[..., GenaiCompareApp]]:
    stores: list[Store] = []

    def factory(catalog: Catalog, **settings: Any) -> GenaiCompareApp:
        store = Store(db_path)
        stores.append(store)
        values: dict[str, Any] = {"rater": "tester", "metrics": ["lexical"], "prefetch": 1}
        values.update(settings)
        return make_app(Settings(**values), catalog, store, in_process=True, save_config=False)

    yield factory
    for store in stores:
        store.close()


async def wait_for(pilot: Any, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)
    await asyncio.sleep(0)


def finished(app: GenaiCompareApp, prompt_index: int | None = None) -> bool:
    from genaicompare.app.screens.main import MainScreen

    screen = app.screen_stack[1] if len(app.screen_stack) > 1 else None
    if not isinstance(screen, MainScreen):
        return False
    index = screen.prompt_index if prompt_index is None else prompt_index
    slots = [s for (p, _), s in screen.slots.items() if p == index]
    return bool(slots) and all(s.finished for s in slots)
