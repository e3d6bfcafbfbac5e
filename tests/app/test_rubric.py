"""Pilot: rubric criteria scored by keys on the focused pane (``o``), and a correction of the
answer through ``$EDITOR`` (``e``) shown as a word diff in its pane (issue 16)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from genaicompare.app.screens.rubric import RubricScreen
from genaicompare.catalog import Catalog
from tests.app.conftest import SIZE, finished, wait_for
from tests.app.test_blind_and_marks import main_screen, ratings, spy_notifications

MODELS = {"alpha": "fake/tokens?n=6&prefix=a", "bravo": "fake/tokens?n=6&prefix=b"}


def catalog(server, rubric: list | None = None) -> Catalog:
    return Catalog.model_validate(
        {
            "name": "rubrictest",
            "models": [
                {"id": alias, "model": f"openai/{scenario}", "api_base": server.base_url}
                for alias, scenario in MODELS.items()
            ],
            "prompts": [{"id": "p0", "prompt": "say something"}],
            **({"rubric": rubric} if rubric is not None else {}),
        }
    )


RUBRIC = [{"name": "accuracy", "scale": "1-5"}, {"name": "tone", "scale": "pass-fail"}]


async def test_rubric_scores_by_keys_on_the_focused_pane(server, build, db_path) -> None:
    app = build(catalog(server, RUBRIC))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        screen = main_screen(app)
        await pilot.press("2")  # focus the second pane
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, RubricScreen))
        dialog = app.screen
        lines = str(dialog.query_one("#rubric-lines").render())
        assert "accuracy (1-5): –" in lines and "tone (p/f): –" in lines
        await pilot.press("9")  # not on the scale: nothing saved
        await pilot.press("4")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        await pilot.press("p")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 2)
        lines = str(dialog.query_one("#rubric-lines").render())
        assert "accuracy (1-5): 4" in lines and "tone (p/f): pass" in lines
        await pilot.press("k", "3")  # back to accuracy: a new score replaces the 4
        await wait_for(pilot, lambda: len(ratings(db_path)) == 3)
        await pilot.press("escape")
        rows = ratings(db_path)
        bravo = screen.panes()[1].record
        assert [(r["kind"], r["value"], r["model_alias"], r["item"]) for r in rows] == [
            ("rubric", "4", "bravo", f"rubric:{bravo.content_hash}:accuracy"),
            ("rubric", "pass", "bravo", f"rubric:{bravo.content_hash}:tone"),
            ("rubric", "3", "bravo", f"rubric:{bravo.content_hash}:accuracy"),
        ]
        await wait_for(pilot, lambda: "accuracy 3" in screen.panes()[1].badge)
        assert "tone pass" in screen.panes()[1].badge
        assert screen.panes()[0].badge == ""


async def test_rubric_key_without_a_rubric_says_so(server, build, db_path) -> None:
    app = build(catalog(server))
    seen = spy_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        await pilot.press("o")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, RubricScreen)
        assert any("no rubric" in s for s in seen)
        assert ratings(db_path) == []


def editor_script(tmp_path: Path, new_text: str) -> str:
    """An $EDITOR that rewrites the file it is given (and ends it with a newline, as vi does)."""
    script = tmp_path / "fake-editor"
    script.write_text(
        f"#!{sys.executable}\nimport sys\nopen(sys.argv[1], 'w').write({new_text!r} + '\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


async def test_correction_through_editor_is_stored_and_shown_as_a_word_diff(
    server, build, db_path, tmp_path, monkeypatch
) -> None:
    app = build(catalog(server))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        screen = main_screen(app)
        pane = screen.panes()[0]
        original = pane.record.text
        monkeypatch.setenv("EDITOR", editor_script(tmp_path, "a fixed answer"))
        await pilot.press("e")
        await wait_for(pilot, lambda: len(ratings(db_path)) == 1)
        (row,) = ratings(db_path)
        assert (row["kind"], row["value"], row["model_alias"]) == (
            "correction",
            "a fixed answer",
            "alpha",
        )
        assert row["item"] == f"correction:{pane.record.content_hash}"
        await wait_for(pilot, lambda: pane.has_class("-corrected"))
        shown = str(pane.query_one(".pane-correction").render())
        assert "your correction" in shown
        # Added words and the removed ones (struck) are both there, in order.
        for word in ["fixed", "answer", *original.split()[1:3]]:
            assert word in shown, shown
        assert "✎ corrected" in pane.badge
        assert not screen.panes()[1].has_class("-corrected")
        # An editor that leaves the text as it was saves nothing.
        monkeypatch.setenv("EDITOR", editor_script(tmp_path, "a fixed answer"))
        await pilot.press("e")
        await pilot.pause(0.5)
        assert len(ratings(db_path)) == 1
        # Undo takes the correction back: the pane shows the answer again.
        await pilot.press("z")
        await wait_for(pilot, lambda: not pane.has_class("-corrected"))
