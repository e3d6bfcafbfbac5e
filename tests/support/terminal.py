"""The real CLI in a pseudo-terminal, its output read by a terminal emulator (pyte).

What a person sees is what the terminal draws, not what a widget holds: a repaint bug leaves the
widget's text right and the screen wrong. :class:`Terminal` runs a command in a pty of a given
size, feeds every byte it writes to a :class:`pyte.Screen` on a reader thread, and lets a test read
the visible rows at any moment, wait for something to appear, and type keys.

Like the terminals people use (kitty, WezTerm, iTerm2, foot, Windows Terminal), it supports
synchronized output (DEC mode 2026): it answers Textual's query for the mode, and draws a frame
only once the frame's end marker has arrived. Without it a test could read a frame half written
(the top of the new screen over the bottom of the old), which no person sees on such a terminal.
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

SYNC_QUERY = b"\x1b[?2026$p"  # DECRQM: does the terminal support synchronized output?
SYNC_REPLY = b"\x1b[?2026;2$y"  # DECRPM: it does (the mode is currently reset)
SYNC_START = b"\x1b[?2026h"
SYNC_END = b"\x1b[?2026l"

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
        self._held = b""  # bytes not drawn yet: a frame whose end has not arrived
        self._in_frame = False
        self._answered = False
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
                if not self._answered and SYNC_QUERY in self.raw[-len(data) - 16 :]:
                    self._answered = True
                    self.proc.write(SYNC_REPLY)
                self._stream.feed(self._whole_frames(data))

    def _whole_frames(self, data: bytes) -> bytes:
        """What of ``self._held + data`` can be drawn: all but an unfinished frame."""
        buf, self._held = self._held + data, b""
        out = bytearray()
        while buf:
            if self._in_frame:
                end = buf.find(SYNC_END)
                if end < 0:
                    self._held = buf
                    break
                out += buf[: end + len(SYNC_END)]
                buf, self._in_frame = buf[end + len(SYNC_END) :], False
            else:
                start = buf.find(SYNC_START)
                if start < 0:
                    # Hold back a tail that may be the start of a split marker.
                    keep = next(
                        (
                            k
                            for k in range(len(SYNC_START) - 1, 0, -1)
                            if buf.endswith(SYNC_START[:k])
                        ),
                        0,
                    )
                    out += buf[: len(buf) - keep]
                    self._held = buf[len(buf) - keep :]
                    break
                out += buf[:start]
                buf, self._in_frame = buf[start:], True
        return bytes(out)

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
