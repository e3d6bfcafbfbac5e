"""Every child process the TUI starts ends when the TUI ends, however it ends (issue 18).

Closing the terminal (SIGHUP) left the local model's llama.cpp servers running, orphaned, each
holding ≈200 MB and a port. Here the real CLI runs the quickstart (the embedded local model) in
a pty; once an answer completed, its process tree (stream worker, llama servers) is read from
/proc, the TUI is ended one way, and every one of those processes must be gone within seconds.
SIGTERM must also leave the terminal restored (issue 18 §6), with exit code 143.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.support.terminal import Terminal, genaicompare

pytestmark = [
    pytest.mark.slow,
    pytest.mark.local_model,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc"),
]

QUICKSTART = str(Path(__file__).resolve().parents[2] / "sample_catalogs" / "quickstart.yaml")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _running(term: Terminal) -> set[int]:
    """Wait for a complete answer; return the TUI's descendants (worker + 2 llama servers)."""
    term.wait_text("complete", 120)
    pids = descendants(term.proc.pid)
    servers = {p for p in pids if "_llama_server" in _cmdline(p)}
    assert len(servers) >= 1, {p: _cmdline(p) for p in pids}
    assert any("stream_worker" in _cmdline(p) for p in pids)
    return pids


def _all_gone(pids: set[int], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(pids)
    for pid in left:  # don't leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert not left, {p: _cmdline(p) for p in left}


@pytest.mark.parametrize(
    ("how", "code"),
    [
        ("q", 0),
        ("SIGTERM", 128 + signal.SIGTERM),
        ("SIGHUP", 128 + signal.SIGHUP),
        ("SIGINT", 128 + signal.SIGINT),
        ("SIGKILL", None),  # a crash that runs no handler at all
    ],
)
def test_children_end_with_the_tui(isolated_home: Path, how: str, code: int | None) -> None:
    with genaicompare([QUICKSTART, "--prefetch", "0"], 100, 30, isolated_home) as term:
        pids = _running(term)
        if how == "q":
            term.send("q")
        else:
            os.kill(term.proc.pid, getattr(signal, how))
        deadline = time.monotonic() + 10
        while term.proc.isalive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not term.proc.isalive(), f"the TUI is still running after {how}"
        term.close(1)
        if code is not None:
            assert term.proc.exitstatus == code, (term.proc.exitstatus, term.proc.signalstatus)
        _all_gone(pids)


def test_sigterm_restores_the_terminal(isolated_home: Path) -> None:
    with genaicompare([QUICKSTART, "--prefetch", "0"], 100, 30, isolated_home) as term:
        pids = _running(term)
        os.kill(term.proc.pid, signal.SIGTERM)
        assert term.close(10) == 128 + signal.SIGTERM
        raw = bytes(term.raw)
        # The last word on the alternate screen, the cursor and mouse reporting is "off".
        assert raw.rfind(b"\x1b[?1049l") > raw.rfind(b"\x1b[?1049h"), raw[-200:]
        assert raw.rfind(b"\x1b[?25h") > raw.rfind(b"\x1b[?25l"), raw[-200:]
        assert raw.rfind(b"\x1b[?1000l") > raw.rfind(b"\x1b[?1000h"), raw[-200:]
        _all_gone(pids)


def test_quickstart_first_token_and_quit(isolated_home: Path) -> None:
    """From cold: the states a person reads while the local model starts, the first token, and
    `q` → shell. The figures are printed (-s) for the benchmark table; the bounds are loose."""
    started = time.monotonic()
    with genaicompare([QUICKSTART, "--prefetch", "0"], 120, 40, isolated_home) as term:
        seen: list[str] = []
        first = None
        while time.monotonic() - started < 120:
            text = term.text()
            for state in ("starting local model smollm2…", "waiting for first token"):
                if state in text and state not in seen:
                    seen.append(state)
            if "streaming ·" in text or "complete ·" in text:
                first = time.monotonic() - started
                break
            time.sleep(0.02)
        assert first is not None, term.dump()
        assert "queued" not in term.text()
        pids = _running(term)
        time.sleep(1)
        sent = time.monotonic()
        term.proc.write(b"q")
        while term.proc.isalive() and time.monotonic() - sent < 10:
            time.sleep(0.005)
        took = time.monotonic() - sent
        print(f"\nquickstart: first token {first:.2f} s after launch; q -> shell {took:.2f} s")
        print(f"states seen: {seen}")
        assert term.close() == 0
        assert took <= 1.0
        _all_gone(pids)
