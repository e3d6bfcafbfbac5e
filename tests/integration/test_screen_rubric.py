"""Rubric scores and a correction as a person gives them: the real CLI in a pseudo-terminal,
read by pyte, at 80×24 and 120×40 (issue 16).

``o`` opens the rubric of the focused pane: a digit scores ``accuracy`` (1-5), ``p`` passes
``tone``; ``e`` opens the answer in ``$EDITOR`` (here a script that rewrites the file) with the
app suspended, and the pane then shows the correction as a word diff.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from tests.integration.test_screen_compare import _flat, _rows, _until
from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare

pytestmark = pytest.mark.slow

SIZES = [(80, 24), (120, 40)]


@pytest.mark.parametrize(("cols", "rows"), SIZES)
def test_rubric_by_keys_and_a_correction_in_editor(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    editor = tmp_path / "fake-editor"
    editor.write_text(
        f"#!{sys.executable}\nimport sys\nopen(sys.argv[1], 'w').write('fixed words here\\n')\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    db = tmp_path / "rubric.db"
    with FakeOpenAI() as server:
        models = "".join(
            f"  - id: {alias}\n    model: openai/fake/{scenario}\n    api_base: {server.base_url}\n"
            for alias, scenario in (("ant", "tokens?n=4&prefix=a"), ("bee", "tokens?n=4&prefix=b"))
        )
        path = tmp_path / "rubric.yaml"
        path.write_text(
            "name: rubric\nrubric:\n  - {name: accuracy, scale: 1-5}\n"
            f"  - {{name: tone, scale: pass-fail}}\nmodels:\n{models}"
            "prompts:\n  - id: trip\n    prompt: it takes 3 hours\n",
            encoding="utf-8",
        )
        args = [str(path), "--db", str(db), "--prefetch", "0"]
        with genaicompare(args, cols, rows, isolated_home) as term:
            term.wait(
                lambda _: len(_rows(db, "SELECT id FROM responses WHERE state = 'complete'")) == 2,
                90,
                "two stored answers",
            )
            _until(term, ["1", "o"], lambda: "accuracy (1-5)" in _flat(term.lines()), "rubric")
            flat = _flat(term.lines())
            assert "tone (p/f)" in flat and "p pass" in flat, term.dump()
            _until(
                term,
                ["4"],
                lambda: _rows(db, "SELECT 1 FROM ratings WHERE kind = 'rubric'"),
                "accuracy 4",
            )
            term.wait(lambda ls: "accuracy (1-5): 4" in _flat(ls), 10, "the score in the dialog")
            _until(
                term,
                ["p"],
                lambda: len(_rows(db, "SELECT 1 FROM ratings WHERE kind = 'rubric'")) == 2,
                "tone pass",
            )
            assert sorted(
                _rows(db, "SELECT model_alias, value FROM ratings WHERE kind = 'rubric'")
            ) == [("ant", "4"), ("ant", "pass")]
            _until(term, ["Escape"], lambda: "p pass" not in _flat(term.lines()), "close")
            term.wait(lambda ls: "accuracy 4" in _flat(ls), 10, "the scores on the pane")
            # The correction: e runs $EDITOR, the pane shows the word diff.
            _until(
                term,
                ["e"],
                lambda: _rows(db, "SELECT 1 FROM ratings WHERE kind = 'correction'"),
                "correction",
            )
            ((text, alias),) = _rows(
                db, "SELECT value, model_alias FROM ratings WHERE kind = 'correction'"
            )
            assert (text, alias) == ("fixed words here", "ant")
            lines = term.wait(lambda ls: "your correction" in _flat(ls), 15, "the word diff")
            flat = _flat(lines)
            # NO_COLOR: the removed and added words carry git's word-diff markers.
            assert "[-a0-]{+fixed+}" in flat and "{+here+}" in flat, term.dump()
            term.send("q")
            assert term.close() == 0
