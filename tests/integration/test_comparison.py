"""Comparison.run_pair against a real local server: cancelled streams keep their text."""

from __future__ import annotations

import asyncio

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState
from genaicompare.providers.events import TextDelta, Timeouts
from genaicompare.session.comparison import Comparison
from genaicompare.store import Store
from tests.support.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as s:
        yield s


@pytest.mark.parametrize("fast_path", ["1", "0"])
def test_cancelled_pair_is_stored_with_its_partial_text(server, tmp_path, monkeypatch, fast_path):
    monkeypatch.setenv("GENAICOMPARE_FAST_PATH", fast_path)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-not-secret")
    catalog = Catalog(
        name="c",
        prompts=[{"id": "p1", "prompt": "hi"}],
        models=[{"id": "m", "model": "openai/fake/hang_mid?after=3", "api_base": server.base_url}],
    )
    store = Store(tmp_path / "db.sqlite")
    comparison = Comparison(catalog, store, timeouts=Timeouts(between_chunks=60, max_retries=0))
    seen: list[str] = []

    async def go() -> None:
        task = asyncio.create_task(
            comparison.run_pair(
                catalog.prompts[0],
                catalog.models[0],
                on_event=lambda e: seen.append(e.text) if isinstance(e, TextDelta) else None,
                use_cache=False,
            )
        )
        for _ in range(500):
            await asyncio.sleep(0.01)
            if len(seen) >= 3:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    rows = store.query("SELECT state, text FROM responses")
    assert len(rows) == 1
    assert rows[0]["state"] == FinishState.cancelled.value
    assert rows[0]["text"] == "".join(seen) and rows[0]["text"]
