"""``CommentScreen``: a one-line comment on the last rating (``c``), naming that rating."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from genaicompare.core.sanitize import one_line


class CommentScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, what: str, current: str = "") -> None:
        super().__init__()
        self.what, self.current_text = what, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text("Comment on your last rating", style="bold"))
            yield Label(Text(one_line(self.what, 200)), id="comment-target")
            yield Label(Text("Enter saves, Esc cancels", style="dim"))
            yield Input(value=self.current_text, placeholder="comment", id="comment")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
