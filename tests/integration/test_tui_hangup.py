"""Closing the terminal window while answers stream ends the TUI (found in a tmux walk: a
session killed mid-stream left `genaicompare` running for hours, stuck at exit).

When the terminal goes away every write to it fails (EIO); Textual's output thread dies on the
first one, and its bounded queue fills with frames nobody drains, so the exit that SIGHUP starts
blocks for ever putting the last one. Here the real CLI streams six panes in a pty; the pty's
master is closed (what a terminal emulator does when its window closes: the kernel sends SIGHUP)
and the process must be gone within seconds, with its stream worker.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_screen_streaming import _catalog
from tests.integration.test_tui_children import _all_gone, descendants
from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare, words

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]


@pytest.mark.parametrize("attempt", range(5))
def test_closing_the_terminal_mid_stream_ends_the_tui(
    tmp_path: Path, isolated_home: Path, attempt: int
) -> None:
    with FakeOpenAI() as server:
        path = _catalog(tmp_path, server, "abcdef", "n=4000&delay=0.002")
        db = tmp_path / "hangup.db"
        with genaicompare(
            [str(path), "--db", str(db), "--prefetch", "0"], 80, 24, isolated_home
        ) as term:
            term.wait(lambda lines: len(words(lines, "a")) > 20, 60, "a streaming")
            time.sleep(0.3 * attempt)
            pids = descendants(term.proc.pid)
            # The window closes: the pty's master goes away. Through the file object, and
            # marked closed, so ptyprocess never closes the number again (a later test's fd).
            term.proc.fileobj.close()
            term.proc.closed = True
            deadline = time.monotonic() + 10
            while term.proc.isalive() and time.monotonic() < deadline:
                time.sleep(0.05)
            alive = term.proc.isalive()
            if alive:
                term.proc.kill(9)
            assert not alive, "the TUI is still running 10 s after its terminal closed"
            _all_gone(pids)
