"""``DiffScreen``: the word diff of two answers (``D``), or of the reference and an answer.

Answers are untrusted: sanitized before diffing and rendered as ``rich.text.Text``, never markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from genaicompare.core.sanitize import for_display, one_line


def word_diff(left: str, right: str) -> Text:
    """Word-level diff of two answers: removed words struck red, added words green."""
    from genaicompare.gate.run_diff import word_diff as segments

    styles = {"=": "", "-": "strike red", "+": "bold green"}
    out = Text()
    for op, segment in segments(for_display(left), for_display(right)):
        out.append(segment, style=styles[op])
    return out


class DiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,D", "dismiss(None)", "Close")]

    def __init__(self, left_title: str, left: str, right_title: str, right: str) -> None:
        super().__init__()
        self.left_title, self.left, self.right_title, self.right = (
            left_title,
            left,
            right_title,
            right,
        )

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            title = Text()
            title.append(one_line(self.left_title, 80), style="strike red")
            title.append("  →  ")
            title.append(one_line(self.right_title, 80), style="bold green")
            yield Label(title)
            with VerticalScroll():
                yield Static(word_diff(self.left, self.right))
