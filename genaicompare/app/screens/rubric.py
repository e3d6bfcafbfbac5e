"""``RubricScreen`` (``o``): score the focused answer on each of the catalog's rubric criteria.

One line per criterion with its scale and the score in force. ``j``/``k`` (or ↓/↑) choose the
criterion; a digit gives a point on a scale, ``p``/``f`` pass or fail; each score is saved at
once (the line shows it only after it is on disk) and the cursor moves to the next criterion.
Esc, ``q`` or ``o`` closes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from genaicompare.core.sanitize import one_line

Save = Callable[[Any, str], Awaitable[bool]]
"""Saves one score of a criterion; True once it is on disk."""


class RubricScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,o", "dismiss(None)", "Close"),
        Binding("j,down", "move(1)", "Next criterion", show=False),
        Binding("k,up", "move(-1)", "Previous criterion", show=False),
    ]

    def __init__(
        self, what: str, criteria: Sequence[Any], scores: dict[str, str], save: Save
    ) -> None:
        super().__init__()
        self.what, self.criteria, self.scores, self.save = what, list(criteria), dict(scores), save
        self.cursor = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="rubric-dialog"):
            yield Label(Text("Rubric", style="bold"))
            yield Label(Text(one_line(self.what, 200)), id="rubric-target")
            yield Static(self._lines(), id="rubric-lines", markup=False)
            yield Label(
                Text("j/k criterion · 0-9 score · p pass · f fail · Esc closes", style="dim")
            )

    def _lines(self) -> Text:
        out = Text()
        for i, c in enumerate(self.criteria):
            scale = "p/f" if c.pass_fail else c.scale
            value = self.scores.get(c.name, "–")
            line = Text(f"{'›' if i == self.cursor else ' '} {one_line(c.name, 40)} ({scale}): ")
            line.append(value, style="bold")
            if i:
                out.append("\n")
            if i == self.cursor:
                line.stylize("reverse")
            out.append_text(line)
        return out

    def _redraw(self) -> None:
        self.query_one("#rubric-lines", Static).update(self._lines())

    def action_move(self, delta: int) -> None:
        self.cursor = (self.cursor + delta) % len(self.criteria)
        self._redraw()

    async def on_key(self, event: events.Key) -> None:
        c = self.criteria[self.cursor]
        key = event.character or ""
        if c.pass_fail:
            value = {"p": "pass", "f": "fail"}.get(key)
        else:
            value = key if key in c.values else None
        if value is None:
            return
        event.stop()
        if await self.save(c, value):
            self.scores[c.name] = value
            self.cursor = min(self.cursor + 1, len(self.criteria) - 1)
        self._redraw()
