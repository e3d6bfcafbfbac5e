"""The TUI's streaming worker cannot open the database: every pane says why (#18 §9).

The worker opens the database on its own; when that fails (a read-only, full or damaged file —
here the file is swapped for garbage after the app opened it) the panes showed only "the
streaming worker stopped (exit code 1)", with the cause in a log file.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from genaicompare.catalog import Catalog
from genaicompare.session.streaming import LiveTiming, ProcessEngine
from genaicompare.store import Store


class _Sink:
    def __init__(self) -> None:
        self.failed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def stream_phase(self, phase: str) -> None: ...
    def stream_text(self, text: str, chunks: int, timing: LiveTiming) -> None: ...
    def stream_done(self, record: Any) -> None:
        self.failed.set_result("done?")

    def stream_cancelled(self, record: Any) -> None:
        self.failed.set_result("cancelled?")

    def stream_failed(self, message: str) -> None:
        if not self.failed.done():
            self.failed.set_result(message)


def test_a_database_the_worker_cannot_open_is_named_in_the_pane(
    tmp_path: Path, isolated_home: Path
) -> None:
    catalog = Catalog.model_validate(
        {
            "name": "w",
            "models": [{"id": "m", "model": "openai/fake/echo", "api_base": "http://127.0.0.1:9"}],
            "prompts": [{"id": "p", "prompt": "hi"}],
        }
    )
    path = tmp_path / "w.db"
    store = Store(path)
    for suffix in ("", "-wal", "-shm"):  # the WAL would supply page 1 over the garbage
        if Path(f"{path}{suffix}").exists():
            os.rename(f"{path}{suffix}", tmp_path / f"moved.db{suffix}")
    path.write_bytes(b"not a database " * 512)

    async def main() -> str:
        engine = ProcessEngine(catalog, store, log_path=tmp_path / "worker.log")
        sink = _Sink()
        engine.start(catalog.prompts[0], catalog.models[0], sink)
        try:
            return await asyncio.wait_for(sink.failed, 120)
        finally:
            await engine.aclose()

    message = asyncio.run(main())
    store.close()
    assert "exit code" not in message, message
    assert "w.db is not a genaicompare database" in message, message
