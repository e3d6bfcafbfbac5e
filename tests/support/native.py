"""Shared by the native-client tests (test_providers_anthropic.py, test_providers_gemini.py):
collecting a stream's events, the comparable shape of a stream, and ``genaicompare run`` on a
one-model catalog against a fake server."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from genaicompare.providers.events import (
    Finished,
    ModelRequest,
    Retrying,
    Started,
    TextDelta,
    Timeouts,
    Usage,
)
from tests.support.headless import run_cli

KEY_ENV = "GC_NATIVE_KEY"
KEY = "zq-NATIVE-SENTINEL-4b1e9d0c"
T = Timeouts(
    connect=2, first_token=1.5, between_chunks=1.0, total=20, max_retries=2, max_retry_after=5
)


def request(prefix: str, scenario: str, api_base: str, **kw: Any) -> ModelRequest:
    return ModelRequest(
        alias="m",
        model=f"{prefix}{scenario}",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "one two three"},
        ],
        api_base=api_base,
        api_key_env=kw.pop("api_key_env", KEY_ENV),
        **kw,
    )


def events(fn: Any, req: ModelRequest, timeouts: Timeouts = T) -> list[Any]:
    async def main() -> list[Any]:
        return [e async for e in fn(req, timeouts)]

    return asyncio.run(main())


def timed(fn: Any, req: ModelRequest) -> tuple[list[Any], float]:
    started = time.perf_counter()
    out = events(fn, req)
    return out, time.perf_counter() - started


def shape(evs: list[Any]) -> dict[str, Any]:
    final = evs[-1]
    assert isinstance(final, Finished)
    assert sum(isinstance(e, Finished) for e in evs) == 1
    assert isinstance(evs[0], Started)
    usage = [e for e in evs if isinstance(e, Usage)]
    assert len(usage) <= 1
    return {
        "text": "".join(e.text for e in evs if isinstance(e, TextDelta)),
        "retrying": [e.attempt for e in evs if isinstance(e, Retrying)],
        "usage": [(u.prompt_tokens, u.completion_tokens) for u in usage],
        "state": final.state.value,
        "finish_reason": final.finish_reason,
        "error_type": final.error_type,
        "retries": final.retries,
    }


def run_catalog(
    tmp: Path, model: str, api_base: str, **env: str
) -> tuple[dict[str, Any], list[tuple[Any, ...]], bytes]:
    """``genaicompare run --json`` of one model × two prompts; returns the JSON document, the
    stored rows (state, finish_reason, tokens_in, tokens_out, cost_usd, error, text) and every
    byte the run wrote (stdout, stderr, the database, the home folder)."""
    catalog = tmp / "native.json"
    catalog.write_text(
        json.dumps(
            {
                "name": "native",
                "version": "1",
                "models": [
                    {"id": "m", "model": model, "api_base": api_base, "api_key_env": KEY_ENV}
                ],
                "prompts": [
                    {"id": "p1", "prompt": "one two three", "system": "be brief"},
                    {"id": "p2", "prompt": "four five"},
                ],
            }
        ),
        encoding="utf-8",
    )
    db = tmp / "native.db"
    proc = run_cli(
        ["run", str(catalog), "--db", str(db), "--json", "--no-cache", "--no-progress"],
        tmp / "home",
        **{KEY_ENV: KEY, **env},
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "select prompt_id, state, finish_reason, tokens_in, tokens_out, cost_usd, error, text"
            " from responses order by prompt_id"
        ).fetchall()
    written = (proc.stdout + proc.stderr).encode()
    for path in [db, *db.parent.glob(db.name + "-*"), *(tmp / "home").rglob("*")]:
        if path.is_file():
            written += path.read_bytes()
    return json.loads(proc.stdout), rows, written
