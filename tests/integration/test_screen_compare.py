"""Comparing three models as a person does it: the real CLI in a pseudo-terminal, read by pyte,
at 80×24 and 120×40, under ``NO_COLOR`` (issues 13 and 16).

Pick the best of three panes (``w``), mark two panes (``m``) and press a win twice for "much
better" (A≫B), and ``D`` against a pane chosen in a list — here the reference — with the
``[-…-]`` / ``{+…+}`` markers that keep replaced words from fusing without colour.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import Terminal, genaicompare

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (120, 40)]


def _rows(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        conn.close()


def _until(term: Terminal, keys: list[str], done, what: str) -> None:  # type: ignore[no-untyped-def]
    """Send ``keys`` until ``done()`` (a loaded machine's pty drops some keys)."""
    for _ in range(5):
        term.send(*keys)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.1)
    raise AssertionError(f"{what}: not done; the screen:\n{term.dump()}")


def _flat(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_best_of_three_graded_vote_and_diff_against_the_reference(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    db = tmp_path / "compare.db"
    with FakeOpenAI() as server:
        models = "".join(
            f"  - id: {alias}\n    model: openai/fake/{scenario}\n    api_base: {server.base_url}\n"
            for alias, scenario in (
                ("ant", "tokens?n=4&prefix=a"),
                ("bee", "tokens?n=4&prefix=b"),
                ("cat", "echo"),
            )
        )
        path = tmp_path / "three.yaml"
        path.write_text(
            f"name: three\nmodels:\n{models}prompts:\n  - id: trip\n    prompt: it takes 3 hours\n"
            "    reference: it takes to arrive 3 hours\n",
            encoding="utf-8",
        )
        args = [str(path), "--db", str(db), "--prefetch", "0"]
        with genaicompare(args, cols, rows, isolated_home) as term:
            term.wait(
                lambda _: len(_rows(db, "SELECT id FROM responses WHERE state = 'complete'")) == 3,
                90,
                "three stored answers",
            )
            # Best of three: the second pane.
            _until(
                term,
                ["2", "w"],
                lambda: _rows(db, "SELECT 1 FROM ratings WHERE kind = 'best'"),
                "pick",
            )
            ((winner, others, order),) = _rows(
                db, "SELECT model_alias, others, pane_order FROM ratings WHERE kind = 'best'"
            )
            assert winner == "bee" and json.loads(order) == ["ant", "bee", "cat"]
            assert sorted(o["model_alias"] for o in json.loads(others)) == ["ant", "cat"]
            term.wait(lambda ls: "★ best of 3" in _flat(ls), 10, "the pick on screen")
            # Mark panes 1 and 3, then A better twice: A≫B.
            _until(term, ["1", "m"], lambda: "◆A" in _flat(term.lines()), "mark A")
            _until(term, ["3", "m"], lambda: "◆B" in _flat(term.lines()), "mark B")
            _until(
                term, ["a"], lambda: _rows(db, "SELECT 1 FROM ratings WHERE kind = 'pair'"), "A>B"
            )
            _until(
                term,
                ["a"],
                lambda: _rows(db, "SELECT 1 FROM ratings WHERE kind = 'pair' AND strength = 2"),
                "A≫B",
            )
            term.wait(lambda ls: "A≫B" in _flat(ls), 10, "the strong vote on screen")
            # D on the third pane: choose the reference in the list.
            _until(term, ["3", "D"], lambda: "against" in _flat(term.lines()), "the chooser")
            lines = term.lines()
            assert "reference" in _flat(lines) and "bee" in _flat(lines), term.dump()
            _until(term, ["r"], lambda: "Word diff" in _flat(term.lines()), "the diff")
            lines = term.wait(lambda ls: "Word diff" in _flat(ls), 10, "the diff")
            flat = _flat(lines)
            assert "[-to arrive" in flat or "[- to arrive" in flat, term.dump()
            assert "-]" in flat and "Esc, q or D closes" in flat, term.dump()
            assert "tofor" not in flat and "arrive,3" not in flat
            _until(term, ["Escape"], lambda: "Word diff" not in _flat(term.lines()), "close")
            term.send("q")
            assert term.close() == 0


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_the_picker_names_itself_and_says_which_samples_need_keys(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    with genaicompare([], cols, rows, isolated_home) as term:
        term.wait_text("Open a catalog", 30)
        flat = _flat(term.wait_text("quickstart.yaml", 10))
        assert "Enter opens" in flat and "no API key needed" in flat, term.dump()
        lines = term.lines()
        first = next(i for i, line in enumerate(lines) if "quickstart.yaml" in line)
        assert "Ten short prompts" in lines[first + 1] or "Ten short" in _flat(lines), term.dump()
        for _ in range(12):  # down to the end of the list: capitals and the key-needing sample
            term.send("Down")
        term.wait(lambda ls: "capitals.jsonl" in _flat(ls) or "needs" in _flat(ls), 10, "more")
        term.send("Escape")
        assert term.close() == 0
