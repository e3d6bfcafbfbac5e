"""``D``: the word diff of the focused answer against another pane's answer or the reference
(:class:`DiffTarget` asks which when there is more than one), in :class:`DiffScreen`.

Answers are untrusted: sanitized before diffing and rendered as ``rich.text.Text``, never markup.
Colour alone never carries the diff where colour is off (``NO_COLOR``) or weak (the high-contrast
theme): removed words are bracketed ``[-…-]`` and added ones ``{+…+}``, as ``git diff
--word-diff`` does, so replaced words cannot read as one fused word.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from genaicompare.core.sanitize import for_display, one_line

CLOSE_HINT = "Esc, q or D closes"


def word_diff(left: str, right: str, markers: bool = False) -> Text:
    """Word-level diff of two answers: removed words struck red, added words green, and with
    ``markers`` also bracketed ``[-removed-]`` / ``{+added+}``."""
    from genaicompare.gate.run_diff import word_diff as segments

    styles = {"=": "", "-": "strike red", "+": "bold green"}
    out = Text()
    for op, segment in segments(for_display(left), for_display(right)):
        if markers and op == "-":
            segment = f"[-{segment}-]"
        elif markers and op == "+":
            segment = f"{{+{segment}+}}"
        out.append(segment, style=styles[op])
    return out


class DiffScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,D", "dismiss(None)", "Close")]

    def __init__(
        self, left_title: str, left: str, right_title: str, right: str, *, markers: bool = False
    ) -> None:
        super().__init__()
        self.left_title, self.left, self.right_title, self.right = (
            left_title,
            left,
            right_title,
            right,
        )
        self.markers = markers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            title = Text("Word diff: ", style="bold")
            title.append(one_line(self.left_title, 80), style="strike red")
            title.append(" [-removed-]" if self.markers else " (struck)")
            title.append("  →  ")
            title.append(one_line(self.right_title, 80), style="bold green")
            title.append(" {+added+}" if self.markers else " (bold)")
            yield Label(title, id="diff-title")
            with VerticalScroll():
                yield Static(word_diff(self.left, self.right, self.markers), id="diff-body")
            yield Label(Text(CLOSE_HINT, style="dim"), id="diff-hint")


class DiffTarget(ModalScreen[int | None]):
    """Which answer to diff the focused pane against: another pane (its number key) or the
    reference (``r``), or the highlighted one with Enter."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Cancel")]

    def __init__(self, focused: str, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.focused_title = focused
        self.choices = list(choices)
        """(key, label) per answer: ``"2"``, ``"bee"``; ``"r"``, ``"reference"``."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(
                Text(
                    f"Diff {one_line(self.focused_title, 60)} against… (its key or Enter, "
                    "Esc cancels)"
                )
            )
            yield OptionList(
                *(
                    Option(Text(f"{key}  {one_line(label, 80)}"), id=str(i))
                    for i, (key, label) in enumerate(self.choices)
                ),
                id="diff-targets",
            )

    def on_key(self, event: events.Key) -> None:
        for i, (key, _label) in enumerate(self.choices):
            if event.character == key:
                event.stop()
                self.dismiss(i)
                return

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))
