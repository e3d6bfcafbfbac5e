"""The real CLI in a pseudo-terminal: `genaicompare CATALOG` streams from the local fake server,
keys rate the answers, the ratings are in the SQLite file, and hostile model output never reaches
the terminal as escape sequences or live markup."""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI

pexpect = pytest.importorskip("pexpect")

HOSTILE = (
    r"click [@click=app.simulate_key('u')] link [link=file:///etc/passwd]x[/link] stray [/] "
    r"osc52 \e]52;c;SGVsbG8=\a osc8 \e]8;;file:///etc/passwd\e\\y\e]8;;\e\\ title \e]0;pwned\a "
    r"clear \e[2J csi8 \u009b31m end"
)


def _rows(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def _until(child, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        try:  # keep draining the terminal so the app never blocks on a full pty
            child.expect(pexpect.TIMEOUT, timeout=0.2)
        except pexpect.EOF:
            raise AssertionError("the app exited early") from None


@pytest.mark.slow
def test_rate_in_a_real_terminal(tmp_path: Path, isolated_home: Path) -> None:
    with FakeOpenAI() as server:
        catalog = tmp_path / "pty.yaml"
        catalog.write_text(
            f"""name: ptytest
models:
  - id: echo
    model: openai/fake/echo
    api_base: {server.base_url}
  - id: counter
    model: openai/fake/tokens?n=30
    api_base: {server.base_url}
prompts:
  - id: hostile
    prompt: "{HOSTILE}"
  - id: plain
    prompt: "a plain prompt"
""",
            encoding="utf-8",
        )
        db = tmp_path / "pty.db"
        env = dict(
            os.environ,
            GENAICOMPARE_HOME=str(isolated_home),
            TERM="xterm-256color",
            COLUMNS="140",
            LINES="40",
        )
        log = tmp_path / "screen.bin"
        child = pexpect.spawn(
            sys.executable,
            ["-m", "genaicompare", str(catalog), "--db", str(db)],
            env=env,
            dimensions=(40, 140),
            timeout=120,
        )
        child.logfile_read = log.open("wb")
        try:
            complete = (
                "SELECT COUNT(*) FROM responses WHERE prompt_id='hostile' AND state='complete'"
            )
            _until(child, lambda: _rows(db, complete) == [(2,)], 180)
            time.sleep(0.5)
            child.send("u")
            _until(child, lambda: len(_rows(db, "SELECT id FROM ratings")) == 1, 30)
            child.send("l")
            child.send("d")
            _until(child, lambda: len(_rows(db, "SELECT id FROM ratings")) == 2, 30)
            child.send("n")
            _until(
                child,
                lambda: (
                    _rows(
                        db,
                        "SELECT COUNT(*) FROM responses WHERE "
                        "prompt_id='plain' AND state='complete'",
                    )
                    == [(2,)]
                ),
                60,
            )
            # Pane 2 once the second prompt is on screen: a "2" typed while it loaded could go
            # to the pane the new prompt then focused.
            time.sleep(0.5)
            child.send("2")
            time.sleep(0.3)
            child.send("u")
            _until(child, lambda: len(_rows(db, "SELECT id FROM ratings")) == 3, 30)
            child.send("q")
            child.expect(pexpect.EOF, timeout=30)
        finally:
            child.close()
            child.logfile_read.close()
        assert child.exitstatus == 0
        ratings = _rows(db, "SELECT prompt_id, model_alias, value FROM ratings ORDER BY id")
        assert ratings == [
            ("hostile", "echo", "up"),
            ("hostile", "counter", "down"),
            ("plain", "counter", "up"),
        ]
        # The hostile answer was stored as received ...
        stored = _rows(
            db, "SELECT text FROM responses WHERE model_alias='echo' AND prompt_id='hostile'"
        )[0][0]
        assert "\x1b]52;c;SGVsbG8=" in stored
        # ... but none of its escape sequences reached the terminal.
        screen = log.read_bytes()
        for payload in (b"\x1b]52;c;SGVsbG8", b"\x1b]8;;file:", b"\x1b]0;pwned", b"\xc2\x9b31m"):
            assert payload not in screen
        assert b"simulate_key" in screen  # the markup was shown as text
