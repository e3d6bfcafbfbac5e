"""Secrets: a provider that echoes the API key (in its error body and in a URL) leaks nothing.

The real CLI runs a catalog in a subprocess against the fake server (also a subprocess) with
sentinel keys in the environment; afterwards the database, its WAL/SHM files, every file under the
genaicompare home (logs, local-model logs, crash logs), the JUnit/Markdown reports, stdout and
stderr are searched byte by byte: 0 hits. Run once through litellm and once through the lean
OpenAI-compatible client.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Neither looks like a key to the pattern-based redaction: only the env-value redaction catches them.
SENTINEL = "zq-SENTINEL-5e1f0c9a7b3d"
SENTINEL_ODD_NAME = "zq-OTHERSENTINEL-88c2d41f"


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline().split()[1])
    finally:
        proc.terminate()
        proc.wait(5)


def catalog(tmp: Path, port: int) -> Path:
    base = f"http://127.0.0.1:{port}/v1"
    path = tmp / "leaky.yaml"
    path.write_text(
        f"""name: leaky
version: "1"
models:
  - id: echo-401
    model: openai/fault/echo_key
    api_base: {base}
    api_key_env: GC_SENTINEL_API_KEY
  - id: echo-500
    model: openai/fault/echo_key?status=500
    api_base: {base}
    api_key_env: GC_ODD_NAME
  - id: healthy
    model: openai/fake/echo
    api_base: {base}
    api_key_env: GC_SENTINEL_API_KEY
prompts:
  - id: p1
    prompt: hello there
  - id: p2
    prompt: general kenobi
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("fast_path", ["0", "1"], ids=["litellm", "fast-path"])
def test_echoed_keys_reach_no_file_and_no_output(
    tmp_path: Path, server_port: int, fast_path: str
) -> None:
    home = tmp_path / "home"
    db = tmp_path / "run.db"
    junit, markdown = tmp_path / "report.xml", tmp_path / "report.md"
    env = {
        **os.environ,
        "GENAICOMPARE_HOME": str(home),
        "GENAICOMPARE_FAST_PATH": fast_path,
        "GC_SENTINEL_API_KEY": SENTINEL,
        "GC_ODD_NAME": SENTINEL_ODD_NAME,  # a name that does not look like a secret
        "NO_PROXY": "127.0.0.1,localhost",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "genaicompare",
            "run",
            str(catalog(tmp_path, server_port)),
            "--db",
            str(db),
            "--json",
            "--no-cache",
            "--max-errors",
            "100",
            "--retries",
            "0",
            "--junit",
            str(junit),
            "--markdown",
            str(markdown),
            "--no-progress",
            "--no-metrics",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=240,
    )
    outputs = {"stdout": result.stdout, "stderr": result.stderr}
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")[-2000:]

    files = [p for p in [db, *db.parent.glob(db.name + "-*"), junit, markdown] if p.exists()]
    files += [p for p in home.rglob("*") if p.is_file()]
    assert db in files
    for name, data in [*outputs.items(), *((str(p), p.read_bytes()) for p in files)]:
        for secret in (SENTINEL, SENTINEL_ODD_NAME):
            assert secret.encode() not in data, f"{secret} leaked into {name}"

    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("select model_alias, state, error from responses").fetchall()
    states = {(alias, state) for alias, state, _ in rows}
    assert ("echo-401", "error") in states and ("echo-500", "error") in states
    assert ("healthy", "complete") in states  # the other models finish normally
    errors = [error for alias, _, error in rows if alias.startswith("echo")]
    assert errors and all("Incorrect API key" in e and "[REDACTED]" in e for e in errors)
