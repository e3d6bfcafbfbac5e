"""What a person sees in blind mode and in the prompt panel: the real CLI in a pseudo-terminal,
read by pyte, at 80×24 and 120×40 (issue 12 §3 and §7).

Blind: with four models one 👎 showed every model's name; now no model id is on the screen until
every pane is rated. Prompt panel: only the first model's system prompt was shown and a long
prompt was cut after 9 lines with the reference below the cut; now each model's system prompt is
there, the prompt scrolls with ``]``/``[`` and the reference stays in view.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import yaml

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import Terminal, genaicompare

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (120, 40)]
ALIASES = ["kestrel", "osprey", "merlin", "harrier"]
QUICKSTART = Path(__file__).parents[2] / "sample_catalogs" / "quickstart.yaml"


def _stored(db: Path, state: str = "complete") -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=10)
    try:
        row = conn.execute("SELECT count(*) FROM responses WHERE state = ?", [state]).fetchone()
        return int(row[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        conn.close()


def _ratings(db: Path) -> int:
    """Ratings in force (a repeated thumb on one answer supersedes, it does not add)."""
    conn = sqlite3.connect(db, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM ratings_current").fetchone()[0])
    finally:
        conn.close()


def _rate(term: Terminal, db: Path, pane: int, key: str, count: int) -> None:
    """Focus ``pane`` and rate it, again if the keys were lost (a loaded machine's pty drops
    some); the keys are idempotent, so a retry never rates twice."""
    for _ in range(5):
        term.send(str(pane), key)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            if _ratings(db) >= count:
                return
            time.sleep(0.1)
    raise AssertionError(f"rating {count} not stored; the screen:\n{term.dump()}")


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_blind_names_stay_hidden_until_every_pane_is_rated(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    db = tmp_path / "blind.db"
    with FakeOpenAI() as server:
        models = "".join(
            f"  - id: {alias}\n    model: openai/fake/tokens?n=6&prefix=w{i}x\n"
            f"    api_base: {server.base_url}\n    system: You are {alias}.\n"
            for i, alias in enumerate(ALIASES)
        )
        path = tmp_path / "blind.yaml"
        path.write_text(
            f"name: blind-screen\nmodels:\n{models}prompts:\n  - id: only\n    prompt: hi\n",
            encoding="utf-8",
        )
        args = [str(path), "--db", str(db), "--prefetch", "0", "--blind"]
        with genaicompare(args, cols, rows, isolated_home) as term:
            term.wait(lambda _: _stored(db) == 4, 90, "four stored answers")
            term.wait_text("Model D", 10)

            def no_names(lines: list[str]) -> None:
                screen = "\n".join(lines)
                for alias in ALIASES:
                    assert alias not in screen, f"{alias} on screen:\n{term.dump()}"

            no_names(term.lines())
            _rate(term, db, 1, "d", 1)
            term.wait_text("👎", 10)
            no_names(term.wait_text("👎", 1))
            for pane in (2, 3, 4):
                _rate(term, db, pane, "u", pane)
            term.wait(
                lambda lines: all(any(a in line for line in lines) for a in ALIASES),
                15,
                "every model's name once every pane is rated",
            )
            term.wait_text("Model A — ", 10)  # in the pane header (once the toasts are gone)
            term.send("q")
            assert term.close() == 0


def _quickstart_copy(tmp_path: Path, server: FakeOpenAI) -> Path:
    """The quickstart's two system prompts, its models served by the fake server, and a long
    prompt with a reference first."""
    data = yaml.safe_load(QUICKSTART.read_text(encoding="utf-8"))
    for model in data["models"]:
        model["model"] = "openai/fake/tokens?n=4"
        model["api_base"] = server.base_url
    long_prompt = "\n".join(f"step {i} of the long task" for i in range(1, 31))
    data["prompts"].insert(
        0, {"id": "long-task", "prompt": long_prompt, "reference": "REFERENCE-ANSWER-42"}
    )
    path = tmp_path / "quickstart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_prompt_panel_shows_each_system_prompt_scrolls_and_keeps_the_reference(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    db = tmp_path / "prompt.db"
    with FakeOpenAI() as server:
        args = [str(_quickstart_copy(tmp_path, server)), "--db", str(db), "--prefetch", "0"]
        with genaicompare(args, cols, rows, isolated_home) as term:
            term.wait_text("REFERENCE-ANSWER-42", 60)
            term.wait_text("t3", 60)  # the answers are in: the person reads the prompt now

            def shown(text: str, lines: list[str]) -> bool:
                # Wrapped text: look for it in the words right of the prompt list, not on one row.
                right = [line.split("▕", 1)[-1] for line in lines]
                joined = " ".join(line.strip(" │▁▂▃▄▅▆▇█") for line in right)
                return text in " ".join(joined.split())

            lines = term.wait(lambda ls: shown("You are a friendly tutor.", ls), 10, "friendly")
            assert shown("Answer with the shortest correct answer.", lines), term.dump()
            assert shown("system (terse)", lines) and shown("system (friendly)", lines)
            assert not shown("step 30 of the long task", lines), "the whole prompt fits?"
            for _ in range(20):  # a page a press (3 rows at 80×24), until the end shows
                term.send("]")
                time.sleep(0.3)
                if shown("step 30 of the long task", term.lines()):
                    break
            lines = term.wait(lambda ls: shown("step 30 of the long task", ls), 10, "step 30")
            assert shown("REFERENCE-ANSWER-42", lines), term.dump()  # still in view
            for _ in range(20):
                term.send("[")
                time.sleep(0.3)
                if shown("You are a friendly tutor.", term.lines()):
                    break
            term.wait(lambda ls: shown("You are a friendly tutor.", ls), 10, "back at the top")
            term.send("q")
            assert term.close() == 0
