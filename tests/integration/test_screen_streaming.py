"""What a person sees while answers stream: the real CLI in a pseudo-terminal, read by pyte.

Each model streams numbered words (``a0 a1 a2 …`` for the first, ``b0 …`` for the second, …)
from the local fake server. At many moments mid-stream the screen is read: every pane must show a
contiguous, correctly wrapped window of what was streamed so far (no word missing inside it, no
blank row inside it), words must appear before the answer completes, and a finished answer must
show as stored. Issue 12 §1: the partial repaint left words out of rows drawn earlier (`a0 … a8`
then `a12`), and a pane shorter than a view showed nothing new until something else repainted it.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import Terminal, genaicompare, words

pytestmark = pytest.mark.slow

LETTERS = "abcdef"
DELAY = 0.025


def _complete(db: Path) -> set[str]:
    if not db.exists():
        return set()
    conn = sqlite3.connect(db, timeout=10)
    try:
        rows = conn.execute("SELECT model_alias FROM responses WHERE state = 'complete'")
        return {r[0] for r in rows}
    except sqlite3.OperationalError:
        return set()
    finally:
        conn.close()


def _window_problems(lines: list[str], letter: str) -> str | None:
    """Why pane ``letter``'s visible words are not one contiguous window (None if they are)."""
    found = words(lines, letter)
    if not found:
        return None
    numbers = [n for _, n in found]
    if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        gaps = [(a, b) for a, b in itertools.pairwise(numbers) if b != a + 1]
        return f"pane {letter}: words jump {gaps[:5]}"
    rows = sorted({r for r, _ in found})
    if rows != list(range(rows[0], rows[-1] + 1)):
        return f"pane {letter}: blank rows inside the window (rows {rows})"
    return None


def _catalog(
    tmp_path: Path, server: FakeOpenAI, letters: str, query: str, prompts: str = "first second"
) -> Path:
    """A catalog of one fake model per letter, each streaming ``<letter>0 <letter>1 …``."""
    models = "".join(
        f"  - id: m{c}\n"
        f"    model: openai/fake/tokens?{query}&prefix={c}\n"
        f"    api_base: {server.base_url}\n"
        for c in letters
    )
    listed = "".join(f"  - id: {p}\n    prompt: {p} prompt\n" for p in prompts.split())
    path = tmp_path / "stream.yaml"
    path.write_text(f"name: screen-stream\nmodels:\n{models}prompts:\n{listed}", encoding="utf-8")
    return path


def _as_stored(lines: list[str], letter: str, first: int, last: int) -> bool:
    """Pane ``letter`` shows one contiguous window of the answer ``first … last``: its start or
    its end, never a window cut from its middle."""
    shown = [k for _, k in words(lines, letter)]
    if not shown or _window_problems(lines, letter) is not None:
        return False
    return shown[0] == first or shown[-1] == last


def _watch(term: Terminal, db: Path, letters: str, seconds: float) -> tuple[int, set[str]]:
    """Sample the screen until every answer is stored; return (samples, letters seen mid-stream)."""
    seen_early: set[str] = set()
    samples = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = _complete(db)
        lines = term.lines()
        samples += 1
        for c in letters:
            problem = _window_problems(lines, c)
            assert problem is None, f"{problem}; the screen:\n{term.dump()}"
            if f"m{c}" not in done and words(lines, c):
                seen_early.add(c)
        if {f"m{c}" for c in letters} <= done:
            return samples, seen_early
        time.sleep(0.07)
    raise AssertionError("answers did not complete; the screen:\n" + term.dump())


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
@pytest.mark.parametrize("panes", [1, 2, 6])
def test_panes_show_exactly_what_streamed(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int, panes: int
) -> None:
    n = 160
    letters = LETTERS[:panes]
    db = tmp_path / "screen.db"
    with (
        FakeOpenAI() as server,
        genaicompare(
            [
                str(_catalog(tmp_path, server, letters, f"n={n}&delay={DELAY}&ttft=0.3")),
                "--db",
                str(db),
                "--prefetch",
                "0",
            ],
            cols,
            rows,
            isolated_home,
        ) as term,
    ):
        term.wait_text("first", 60)
        # Too small for a grid (6 panes at 80×24), the panes are tabs: one on screen at a time.
        tabs = (panes, cols) == (6, 80)
        if tabs:
            term.wait(lambda lines: "tabs" in lines[0], 30, "tabs in the header")
        shown = letters[:1] if tabs else letters
        samples, seen_early = _watch(term, db, letters, 90)
        assert samples >= 10
        # Words were on screen while the answer was still streaming, in every pane shown.
        assert seen_early == set(shown), f"no live words in {set(shown) - seen_early}"

        # Finished: each pane shows a contiguous window of the stored answer — its start or
        # its end, never a window cut from its middle (the last batch and the final render may
        # reach the screen a moment after the answer is stored).
        def finished(lines: list[str]) -> bool:
            return all(_as_stored(lines, c, 0, n - 1) for c in shown)

        term.wait(finished, 15, "every finished answer as stored")
        if tabs:  # the others, a key away
            for i, c in enumerate(letters):
                term.send(str(i + 1))
                term.wait(lambda ls, c=c: _as_stored(ls, c, 0, n - 1), 15, f"tab {c} as stored")
        term.send("q")
        assert term.close() == 0


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_a_one_line_answer_shows_while_it_streams(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    """Slow, short answers (one row): each word appears as it arrives, not at completion."""
    db = tmp_path / "short.db"
    with FakeOpenAI() as server:
        path = _catalog(tmp_path, server, "ab", "n=6&delay=0.5", prompts="only")
        with genaicompare(
            [str(path), "--db", str(db), "--prefetch", "0"], cols, rows, isolated_home
        ) as term:
            term.wait(lambda lines: bool(words(lines, "a") and words(lines, "b")), 60, "a0, b0")
            assert not _complete(db), "the words appeared only once the answers completed"
            term.wait(lambda lines: {n for _, n in words(lines, "a")} >= {0, 1, 2}, 10, "a0 a1 a2")
            assert not _complete(db)
            lines = term.lines()
            for c in "ab":
                assert _window_problems(lines, c) is None, term.dump()
            term.send("q")
            assert term.close() == 0


def _stored_numbers(db: Path, alias: str, prompt: str) -> list[int]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        row = conn.execute(
            "SELECT text FROM responses WHERE model_alias = ? AND prompt_id = ? "
            "ORDER BY id DESC LIMIT 1",
            [alias, prompt],
        ).fetchone()
    finally:
        conn.close()
    return [int(w[1:]) for w in (row[0] if row else "").split()]


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_cancelled_and_revisited_answers_show_as_stored(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    """``s`` mid-stream leaves what was received, ungarbled; ``n`` then ``p`` shows it again."""
    db = tmp_path / "cancel.db"
    with FakeOpenAI() as server:
        path = _catalog(tmp_path, server, "ab", "n=400&delay=0.03")
        with genaicompare(
            [str(path), "--db", str(db), "--prefetch", "0"], cols, rows, isolated_home
        ) as term:
            term.wait(lambda lines: any(k >= 30 for _, k in words(lines, "a")), 60, "a30")
            term.send("s")
            term.wait_text("cancelled", 15)
            time.sleep(0.5)

            def as_stored(lines: list[str]) -> bool:
                for c in "ab":
                    stored = _stored_numbers(db, f"m{c}", "first")
                    if not stored or not _as_stored(lines, c, stored[0], stored[-1]):
                        return False
                return True

            term.wait(as_stored, 10, "the cancelled answers as stored")
            term.send("n")
            term.wait_text("second prompt", 10)
            term.send("s")
            term.send("p")
            term.wait(as_stored, 10, "the first prompt's answers again after n, p")
            term.send("q")
            assert term.close() == 0


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_complete_is_never_shown_over_a_partial_answer(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    """The status says ``complete`` only over the whole answer. Seen in a walkthrough at 80×24:
    ``complete`` under "The capital of France is Paris, on" (the stored answer ends "the
    Seine."): the last streamed words, not yet drawn when the answer finished, were dropped, and
    the stream showed without them until the Markdown rendering replaced it."""
    n = 30  # short enough to show whole in one pane at 80×24
    db = tmp_path / "done.db"
    with FakeOpenAI() as server:
        path = _catalog(tmp_path, server, "a", f"n={n}&delay={DELAY}&ttft=0.3", prompts="only")
        with genaicompare(
            [str(path), "--db", str(db), "--prefetch", "0"], cols, rows, isolated_home
        ) as term:
            deadline = time.monotonic() + 60
            checked = 0
            while time.monotonic() < deadline:
                lines = term.lines()
                if any("complete ·" in line for line in lines):
                    shown = [k for _, k in words(lines, "a")]
                    assert shown == list(range(n)), "complete over:\n" + term.dump()
                    checked += 1
                    if checked >= 20:
                        break
                time.sleep(0.01)
            assert checked >= 20, term.dump()
            term.send("q")
            assert term.close() == 0


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_a_finished_answer_shows_as_markdown(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    """While it streams an answer is plain text (``**Paris** is `big```, as sent); once stored it
    is drawn as Markdown (``Paris is big``), in every pane. The panes mount their Markdown widget
    with the first finished answer (it is not imported before the main screen): this is what
    shows that it still replaces the stream, on the real screen."""
    db = tmp_path / "md.db"
    with FakeOpenAI() as server:
        models = "".join(
            f"  - id: m{c}\n    model: openai/fake/echo?delay=0.05\n"
            f"    api_base: {server.base_url}\n"
            for c in "ab"
        )
        path = tmp_path / "md.yaml"
        path.write_text(
            f"name: screen-md\nmodels:\n{models}prompts:\n"
            "  - id: only\n    prompt: '**Paris** is `big` wide'\n",
            encoding="utf-8",
        )
        with genaicompare(
            [str(path), "--db", str(db), "--prefetch", "0"], cols, rows, isolated_home
        ) as term:

            def rendered(lines: list[str]) -> bool:
                return sum(line.count("Paris is big wide") for line in lines) >= 2

            term.wait(rendered, 60, "both answers drawn as Markdown")
            assert _complete(db) == {"ma", "mb"}
            # The prompt itself is shown as written; no pane shows the raw answer any more.
            text = term.text()
            assert "Paris** is `big" in text
            assert text.count("**Paris**") == 1, term.dump()
            term.send("q")
            assert term.close() == 0
