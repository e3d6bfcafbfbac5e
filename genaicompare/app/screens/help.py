"""``?``: the keys of the screen underneath, grouped, genaicompare's own first.

Built from the screen's active bindings (so a keymap's remapped keys show as remapped) and
grouped by the binding ids of :mod:`genaicompare.app.keys` (``prompt.next`` → "Prompts"). A
screen can leave out keys that do nothing there (``key_applies(id)``: the main screen lists pane
keys up to its number of panes). Textual's own keys and the focused widget's come last. The list
scrolls by keyboard and fits an 80×24 terminal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from genaicompare.app.keys import APP_KEYS, HELP_GROUPS


@dataclass
class Section:
    title: str
    rows: list[tuple[list[str], str]] = field(default_factory=list)
    """(keys, what they do)."""
    ids: list[str] = field(default_factory=list)
    """Each row's binding id (what ``[keymap]`` remaps), or ""."""


def help_sections(screen: Screen[Any]) -> list[Section]:
    """The keys active on ``screen`` (focused widget, screen, app), grouped for ``?``."""
    app = screen.app
    applies: Callable[[str], bool] = getattr(screen, "key_applies", lambda _id: True)
    own_app_ids = {bid for bid, *_ in APP_KEYS}
    groups = dict(HELP_GROUPS)
    sections: dict[str, Section] = {}
    rows: dict[tuple[int, str, str], tuple[list[str], str]] = {}

    def add(title: str, node: object, binding: Binding) -> None:
        if binding.id is not None and not applies(binding.id):
            return
        key = app.get_key_display(binding)
        row_id = (id(node), binding.action, binding.description)
        row = rows.get(row_id)
        if row is None:
            row = rows[row_id] = ([], binding.description or binding.action)
            section = sections.setdefault(title, Section(title))
            section.rows.append(row)
            section.ids.append(binding.id or "")
        if key not in row[0]:
            row[0].append(key)

    screen_rows: list[tuple[str, object, Binding]] = []
    app_rows: list[tuple[str, object, Binding]] = []
    widget_rows: list[tuple[str, object, Binding]] = []
    # Every node's bindings with the keymap applied (``active_bindings`` would drop a screen key
    # that the focused widget shadows, e.g. ← of "Pane left" under the prompt list's ←).
    for node, bindings_map in screen._binding_chain:
        for binding in (b for bs in bindings_map.key_to_bindings.values() for b in bs):
            if node is screen:
                prefix = (binding.id or "").split(".", 1)[0]
                screen_rows.append((groups.get(prefix, "This screen"), node, binding))
            elif node is app:
                title = "App" if binding.id in own_app_ids else "Textual"
                app_rows.append((title, node, binding))
            elif binding.description:
                widget_rows.append((f"{_words(type(node).__name__)} (focused)", node, binding))
    # The screen's own keys in the order of the groups, then the app's, Textual's, the widget's.
    order = {title: i for i, (_, title) in enumerate(HELP_GROUPS)}
    screen_rows.sort(key=lambda r: order.get(r[0], len(order)))
    app_rows.sort(key=lambda r: r[0] != "App")
    for title, owner, binding in [*screen_rows, *app_rows, *widget_rows]:
        add(title, owner, binding)
    return list(sections.values())


def _words(name: str) -> str:
    """``PromptList`` → ``Prompt list``."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return spaced[:1] + spaced[1:].lower()


def help_text(sections: list[Section]) -> Text:
    """The sections as plain text (keys may come from the user's keymap: never markup)."""
    width = max((len(" ".join(keys)) for s in sections for keys, _ in s.rows), default=4)
    width = min(width, 22)
    text = Text(no_wrap=False)
    for i, section in enumerate(sections):
        if i:
            text.append("\n")
        text.append(section.title + "\n", style="bold underline")
        for (keys, description), bid in zip(section.rows, section.ids, strict=True):
            text.append(f"  {' '.join(keys):<{width}}", style="bold")
            text.append(f"  {description:<34}" if bid else f"  {description}")
            text.append(f" {bid}\n" if bid else "\n", style="dim")
    text.rstrip()
    return text


class HelpScreen(ModalScreen[None]):
    """The keys, on top of the screen they belong to."""

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close", show=False),
        Binding("j", "scroll(1)", "Down", show=False),
        Binding("k", "scroll(-1)", "Up", show=False),
        Binding("space", "scroll(10)", "Page down", show=False),
    ]

    def __init__(self, title: str, sections: list[Section]) -> None:
        super().__init__()
        self.title_text = title
        self.sections = sections

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Label(
                Text(f"{self.title_text}   ↑ ↓ PgUp PgDn scroll · Esc ? q close", style="bold"),
                id="help-title",
            )
            with VerticalScroll(id="help-scroll"):
                yield Static(help_text(self.sections), id="help-text", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_scroll(self, rows: int) -> None:
        scroll = self.query_one("#help-scroll", VerticalScroll)
        scroll.scroll_to(y=scroll.scroll_target_y + rows, animate=False)
