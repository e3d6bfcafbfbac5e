"""Ctrl-C keeps every finished answer; ``--resume RUN_ID`` finishes the run with no duplicates.

A real subprocess gets a real SIGINT while requests are in flight.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import env, run_cli, sigint_as_in_a_terminal, write_catalog

N_PROMPTS = 12


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(db, timeout=5)
        try:
            return int(
                conn.execute("SELECT count(*) FROM responses WHERE state='complete'").fetchone()[0]
            )
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def test_sigint_then_resume_finishes_without_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    home = tmp_path / "home"
    prompts = [{"id": f"p{i:02d}", "prompt": f"prompt {i}"} for i in range(N_PROMPTS)]
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"a": "fake/tokens?n=5&ttft=0.4", "b": "fake/tokens?n=5&ttft=0.4&delay=0.01"},
            prompts,
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "genaicompare",
                "run",
                str(cat),
                "--db",
                str(db),
                "-j",
                "2",
                "--no-cache",
            ],
            env=env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=sigint_as_in_a_terminal,
        )
        deadline = time.monotonic() + 60
        while _count(db) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _count(db) >= 4, "the run never got going"
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, out + err
        assert "Traceback" not in err
        assert "--resume 1" in err
        conn = sqlite3.connect(db)
        before = conn.execute("SELECT state, count(*) FROM responses GROUP BY state").fetchall()
        status = conn.execute("SELECT status FROM runs WHERE id=1").fetchone()[0]
        conn.close()
        states = dict(before)
        assert status == "interrupted"
        done_before = states.get("complete", 0)
        assert 4 <= done_before < 2 * N_PROMPTS
        requests_before = server.total_requests

        resumed = run_cli(
            ["run", str(cat), "--db", str(db), "-j", "2", "--no-cache", "--resume", "1"], home
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert f"({done_before} kept from the interrupted run)" in resumed.stdout
        # Only what was missing was asked again.
        assert server.total_requests - requests_before == 2 * N_PROMPTS - done_before

    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT prompt_id, model_alias, sample_index, state FROM responses WHERE run_id=1"
    ).fetchall()
    status = conn.execute("SELECT status FROM runs WHERE id=1").fetchone()[0]
    conn.close()
    complete = Counter((p, m, s) for p, m, s, st in rows if st == "complete")
    assert len(complete) == 2 * N_PROMPTS  # every pair answered
    assert set(complete.values()) == {1}  # none twice
    assert {st for *_, st in rows} <= {"complete", "cancelled"}
    assert status == "finished"
    # A finished run cannot be resumed again.
    again = run_cli(["run", str(cat), "--db", str(db), "--resume", "1"], home)
    assert again.returncode == 2 and "nothing to resume" in again.stderr
