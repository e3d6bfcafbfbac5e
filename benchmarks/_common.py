"""Shared by the benchmarks: the local test server in a process of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_server(command: list[str] | None = None) -> tuple[subprocess.Popen[str], int]:
    """Start the test server (``tests.support.fake_openai`` unless ``command`` is given: anything
    that prints ``PORT <n>`` once listening) in its own process; returns it and its port."""
    proc = subprocess.Popen(
        command or [sys.executable, "-m", "tests.support.fake_openai", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit("the test server did not start")
    return proc, int(line.split()[1])


def base_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/v1"
