"""Helpers for tests that run ``genaicompare run`` for real: catalogs on the fake server, the CLI in a
subprocess, the database read back."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

KEY_ENV = "GC_TEST_KEY"
KEY = "sk-test-not-a-real-key-0123456789"


def write_catalog(
    path: Path,
    base_url: str,
    models: dict[str, str],
    prompts: list[dict[str, Any]],
    name: str = "regress",
    extra: dict[str, Any] | None = None,
) -> Path:
    """A JSON-flavoured YAML catalog (JSON is YAML) with ``models`` alias → fake scenario."""
    doc: dict[str, Any] = {
        "name": name,
        "version": "1",
        "models": [
            {
                "id": alias,
                "model": f"openai/{scenario}",
                "api_base": base_url,
                "api_key_env": KEY_ENV,
            }
            for alias, scenario in models.items()
        ],
        "prompts": prompts,
        **(extra or {}),
    }
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def env(home: Path, **extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e.update(
        {
            "GENAICOMPARE_HOME": str(home),
            KEY_ENV: KEY,
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "COLUMNS": "160",
            "PYTHONUNBUFFERED": "1",
        }
    )
    e.pop("GENAICOMPARE_DB", None)
    e.update(extra)
    return e


def run_cli(
    args: list[str], home: Path, timeout: float = 120, **env_extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genaicompare", *args],
        env=env(home, **env_extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def responses(db: Path, run_id: int | None = None) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        sql = "SELECT * FROM responses" + (" WHERE run_id = ?" if run_id is not None else "")
        return [dict(r) for r in conn.execute(sql + " ORDER BY id", [run_id] if run_id else [])]
    finally:
        conn.close()


def sigint_as_in_a_terminal() -> None:
    """``preexec_fn`` for a child that a test will send SIGINT: Ctrl-C's default disposition.

    A suite started as a shell's background job (``python -m pytest … &``) has SIGINT ignored,
    every child inherits that, and Python then installs no KeyboardInterrupt handler: the run
    under test would ignore the SIGINT the test sends (and the test would fail for a reason
    that is not the code's)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
