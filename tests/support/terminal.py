"""The real CLI in a pseudo-terminal, its output read by a terminal emulator (pyte).

What a person sees is what the terminal draws, not what a widget holds: a repaint bug leaves the
widget's text right and the screen wrong. :class:`Terminal` runs a command in a pty of a given
size, feeds every byte it writes to a :class:`pyte.Screen` on a reader thread, and lets a test read
the visible rows at any moment, wait for something to appear, and type keys.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyte
from ptyprocess import PtyProcess

KEYS = {
    "Enter": "\r",
    "Escape": "\x1b",
    "Tab": "\t",
    "Left": "\x1b[D",
    "Right": "\x1b[C",
    "Up": "\x1b[A",
    "Down": "\x1b[B",
}


class Terminal:
    """``argv`` running in a ``cols`` × ``rows`` pseudo-terminal, drawn by pyte."""

    def __init__(
        self, argv: Sequence[str], cols: int, rows: int, env: dict[str, str], cwd: str | None = None
    ) -> None:
        self.cols, self.rows = cols, rows
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._lock = threading.Lock()
        self.raw = bytearray()
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(cols), "LINES": str(rows)}
        self.proc = PtyProcess.spawn(list(argv), env=env, cwd=cwd, dimensions=(rows, cols))
        self._reader = threading.Thread(target=self._pump, daemon=True, name="pty-reader")
        self._reader.start()

    def _pump(self) -> None:
        while True:
            try:
                data = self.proc.read(65536)
            except (EOFError, OSError):
                return
            with self._lock:
                self.raw += data
                self._stream.feed(data)

    # -- reading -------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        """The visible rows, each exactly ``cols`` cells wide (wide characters take two)."""
        with self._lock:
            return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.lines())

    def wait(self, predicate: Callable[[list[str]], bool], timeout: float, what: str) -> list[str]:
        """Poll the screen until ``predicate(lines)`` holds; fail with the screen shown."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.lines()
            if predicate(lines):
                return lines
            if time.monotonic() > deadline or not self.proc.isalive():
                raise AssertionError(f"timed out waiting for {what}; the screen:\n" + self.dump())
            time.sleep(0.05)

    def wait_text(self, text: str, timeout: float = 30) -> list[str]:
        return self.wait(lambda lines: any(text in line for line in lines), timeout, repr(text))

    def dump(self) -> str:
        return "\n".join(f"{i:2}|{line}|" for i, line in enumerate(self.lines()))

    # -- typing --------------------------------------------------------------------------------
    def send(self, *keys: str) -> None:
        for key in keys:
            self.proc.write(KEYS.get(key, key).encode())
            time.sleep(0.05)

    def close(self, timeout: float = 10) -> int | None:
        """Wait for the process to end (after ``q``); kill it if it does not."""
        deadline = time.monotonic() + timeout
        while self.proc.isalive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.proc.isalive():
            self.proc.terminate(force=True)
        self._reader.join(5)
        return self.proc.exitstatus


@contextmanager
def genaicompare(
    args: Sequence[str], cols: int, rows: int, home: Path, cwd: str | None = None
) -> Iterator[Terminal]:
    """``python -m genaicompare ARGS`` in a terminal; data and config under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "TEXTUAL"))}
    env.update(GENAICOMPARE_HOME=str(home), NO_PROXY="127.0.0.1,localhost")
    term = Terminal([sys.executable, "-m", "genaicompare", *args], cols, rows, env, cwd)
    try:
        yield term
    finally:
        if term.proc.isalive():
            term.proc.terminate(force=True)
        term.close(1)


def words(lines: Sequence[str], prefix: str) -> list[tuple[int, int]]:
    """``(row, n)`` for every ``<prefix><n>`` word on screen, in reading order."""
    pattern = re.compile(rf"(?<![\w]){re.escape(prefix)}(\d+)(?![\w])")
    return [
        (row, int(m.group(1))) for row, line in enumerate(lines) for m in pattern.finditer(line)
    ]
