"""The main screen fits the terminal (issue #13), read off the screen of the real CLI in a pty.

Each model streams numbered words (``a0 a1 …`` for the first, ``b0 …`` for the second, …) from
the local fake server. At 80×24 and 120×40, with 2 and 6 models, every answer must be readable on
the screen — in the grid, or one tab at a time with the pane keys switching — and the header, the
footer's ``?`` and ``q``, and the ``?`` screen must be there too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare, words

pytestmark = pytest.mark.slow

LETTERS = "abcdef"
N = 60


def _catalog(tmp_path: Path, server: FakeOpenAI, panes: int) -> Path:
    models = "".join(
        f"  - id: model-{c}\n"
        f"    model: openai/fake/tokens?n={N}&prefix={c}\n"
        f"    api_base: {server.base_url}\n"
        for c in LETTERS[:panes]
    )
    path = tmp_path / "layout.yaml"
    path.write_text(
        "name: screen-layout\nversion: '2'\ndefaults:\n  metrics: [ops]\n"
        f"models:\n{models}prompts:\n"
        "  - id: first\n    prompt: first prompt\n"
        "  - id: second\n    prompt: second prompt\n",
        encoding="utf-8",
    )
    return path


def _readable(lines: list[str], letter: str) -> bool:
    """Pane ``letter`` shows its answer from the start: ``x0`` and at least 3 rows of words."""
    found = words(lines, letter)
    return bool(found) and found[0][1] == 0 and len({row for row, _ in found}) >= 3


def _footer_keys(lines: list[str]) -> str:
    return lines[-1]


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
@pytest.mark.parametrize("panes", [2, 6])
def test_every_answer_can_be_read(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int, panes: int
) -> None:
    letters = LETTERS[:panes]
    with (
        FakeOpenAI() as server,
        genaicompare(
            [
                str(_catalog(tmp_path, server, panes)),
                "--db",
                str(tmp_path / "l.db"),
                "--prefetch",
                "0",
            ],
            cols,
            rows,
            isolated_home,
        ) as term,
    ):
        term.wait_text("complete", 60)
        header = term.wait(
            lambda lines: "screen-layout v2" in lines[0] and "0/2 rated" in lines[0], 30, "header"
        )[0]
        assert "blind off" in header
        tabs = cols == 80 and panes == 6
        if not tabs:
            # The grid: every pane's answer on screen at once.
            term.wait(lambda ls: all(_readable(ls, c) for c in letters), 30, "every answer")
        else:
            assert "tabs" in header
            for i, c in enumerate(letters):
                term.send(str(i + 1))
                term.wait(lambda ls, c=c: _readable(ls, c), 15, f"pane {c} as a tab")
                others = [o for o in letters if o != c and words(term.lines(), o)]
                assert not others, f"tab {c} shows {others} too:\n{term.dump()}"
            term.send("Right")  # from the last tab, → wraps to the first
            term.wait(lambda ls: _readable(ls, "a"), 15, "→ back to pane a")
        # The footer keeps the essential keys, ? and q included.
        footer = _footer_keys(term.lines())
        assert re.search(r"\? Keys\s+q Quit", footer), footer
        assert "J/K Scroll" in footer and "n Next" in footer
        term.send("u")
        term.wait(lambda lines: "1/2 rated" in lines[0], 15, "1/2 rated in the header")
        term.send("q")
        assert term.close() == 0


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_help_fits_and_scrolls(tmp_path: Path, isolated_home: Path, cols: int, rows: int) -> None:
    with (
        FakeOpenAI() as server,
        genaicompare(
            [str(_catalog(tmp_path, server, 2)), "--db", str(tmp_path / "h.db"), "--prefetch", "0"],
            cols,
            rows,
            isolated_home,
        ) as term,
    ):
        term.wait_text("complete", 60)
        term.send("?")
        lines = term.wait_text("Keys — comparison screen", 15)
        top = next(i for i, line in enumerate(lines) if "Keys — comparison screen" in line)
        # The box is whole on the screen: its top and bottom corners are both drawn.
        assert "╭" in lines[top - 1] and any("╰" in line for line in lines[top:]), term.dump()
        assert "Prompts" in term.text() and "Next prompt" in term.text()
        assert "Pane 3" not in term.text()  # two panes: pane keys 1 and 2 only
        if rows == 24:
            assert "Quit" not in term.text()  # below the fold at 80×24: scroll to it
        term.send("\x1b[F")  # End
        term.wait_text("Quit", 10)
        assert "╭" in term.lines()[top - 1], "the box moved while scrolling"
        term.send("Escape")
        term.wait(lambda lines: "Keys — comparison" not in "\n".join(lines), 10, "help closed")
        term.wait(lambda lines: "q Quit" in lines[-1], 10, "the main screen's footer")
        term.send("q")
        assert term.close() == 0
