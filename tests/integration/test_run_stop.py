"""Issue 18 §4 and §6: a headless run that stops early — SIGTERM (a cancelled CI job) or a database
that fills up mid-run — keeps what finished, writes the reports with it, prints the resume command
and exits with a known code; ``--resume`` then finishes the run.

Real subprocesses of the CLI against the fake server (a slow model), real SQLite files, real
JUnit/Markdown files. Disk full is simulated with SQLite's own page limit (see
tests/support/disk_full.py): the real ``SQLITE_FULL`` error, not a full filesystem.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import env, run_cli, write_catalog

PROMPTS = [{"id": f"p{i}", "prompt": f"question number {i}"} for i in range(8)]


def _stored(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=10)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def _status(db: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return [(int(i), str(s)) for i, s in conn.execute("SELECT id, status FROM runs")]
    finally:
        conn.close()


def _args(cat: Path, tmp: Path) -> list[str]:
    return [
        "run",
        str(cat),
        "--db",
        str(tmp / "r.db"),
        "--junit",
        str(tmp / "j.xml"),
        "--markdown",
        str(tmp / "s.md"),
        "--no-cache",
        "-j",
        "2",
        "--no-metrics",
    ]


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path, sigint: str) -> None:
    """``ignored``: the run started as a shell's background job (``genaicompare run … &`` in a
    CI script), which inherits SIGINT ignored; asyncio then installs no Ctrl-C handler, and a
    SIGTERM that went through SIGINT was ignored too: the run went on to the end, exit 0."""
    db, home = tmp_path / "r.db", tmp_path / "home"
    with FakeOpenAI() as server:
        fast_then_slow = "fake/tokens?n=30&delay=0.1"  # 3 s per answer, two at a time
        cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"m": fast_then_slow}, PROMPTS)
        proc = subprocess.Popen(
            [sys.executable, "-m", "genaicompare", *_args(cat, tmp_path)],
            env=env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_ignore_sigint if sigint == "ignored" else None,
        )
        deadline = time.monotonic() + 60
        while _stored(db) < 2:
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, (out, err)
        assert "Traceback" not in err
        assert "terminated (SIGTERM)" in err and "--resume 1" in err, err
        assert f"--db {db}" in err
        assert _status(db) == [(1, "interrupted")]
        kept = _stored(db)
        assert 2 <= kept < len(PROMPTS)
        # The reports exist, with what finished.
        root = ET.parse(tmp_path / "j.xml").getroot()
        assert int(root.get("tests", "0")) >= 2
        md = (tmp_path / "s.md").read_text(encoding="utf-8")
        assert "— interrupted" in md and r"terminated \(SIGTERM\)" in md
        assert "run 1" in out  # the summary
        # --resume asks only what is missing, and finishes the run.
        before = server.total_requests
        resumed = run_cli(["run", str(cat), "--db", str(db), "--resume", "1", "--no-metrics"], home)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert server.total_requests - before <= len(PROMPTS) - 2
    assert _status(db) == [(1, "finished")]


def test_a_database_that_fills_up_mid_run(tmp_path: Path) -> None:
    db, home = tmp_path / "r.db", tmp_path / "home"
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml", server.base_url, {"m": "fake/tokens?n=400&delay=0.002"}, PROMPTS
        )
        proc = subprocess.run(
            [sys.executable, "-m", "tests.support.disk_full", "3", *_args(cat, tmp_path)],
            env=env(home),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, proc.stdout + proc.stderr
        err = proc.stderr
        # One clear message: no traceback, the cause, what was kept, the resume command.
        assert "Traceback" not in err and "Task exception" not in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert "storage failed mid-run" in err and "database or disk is full" in err
        assert f"--db {db} --resume 1" in err
        kept = _stored(db)
        assert 0 < kept < len(PROMPTS)
        root = ET.parse(tmp_path / "j.xml").getroot()
        assert int(root.get("tests", "0")) == kept
        md = (tmp_path / "s.md").read_text(encoding="utf-8")
        assert "— error" in md and "database or disk is full" in md
        # With room again (no page limit), the same run continues and finishes.
        resumed = run_cli(["run", str(cat), "--db", str(db), "--resume", "1", "--no-metrics"], home)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert _stored(db) == len(PROMPTS)
    assert _status(db) == [(1, "finished")]
