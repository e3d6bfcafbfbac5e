"""``M``: choose the metrics matrix's rows — show, hide, reorder — remembered in the config file.

Every row key is listed in the current order, shown ones first; ``Space`` shows/hides the
highlighted one, ``K`` / ``J`` (or ``shift+↑`` / ``shift+↓``) move it up/down, ``r`` resets to
the default rows, ``Enter`` keeps the choice and ``Esc`` leaves it as it was. The screen returns
the shown keys in order (None: unchanged).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

HELP = "Space show/hide · K/J move · r defaults · Enter keep · Esc cancel · • on this prompt"


class MetricPicker(ModalScreen[list[str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_row", "Show/hide"),
        Binding("K,shift+up", "move(-1)", "Move up"),
        Binding("J,shift+down", "move(1)", "Move down"),
        Binding("r", "reset", "Defaults"),
        Binding("enter", "keep", "Keep", priority=True),
        Binding("escape,q", "dismiss(None)", "Cancel"),
    ]

    def __init__(
        self,
        shown: Sequence[str],
        every: Sequence[str],
        defaults: Sequence[str],
        available: Collection[str] = (),
    ) -> None:
        """``shown``: the rows shown now, in order; ``every``: every row key (default order);
        ``available``: the keys the current prompt's answers have (marked)."""
        super().__init__()
        self.every = list(every)
        self.defaults = list(defaults)
        self.available = set(available)
        self.order = [k for k in shown if k in self.every]
        self.order += [k for k in self.every if k not in self.order]
        self.shown = set(self.order) & set(shown)

    def compose(self) -> ComposeResult:
        from genaicompare.metrics import display  # lazy: numpy (the screen opens after paint)

        self._display = display
        with Vertical(classes="dialog wide", id="picker-dialog"):
            yield Label(Text("Metrics matrix rows"), classes="title")
            yield Label(Text(HELP, style="dim"))
            yield OptionList(*self._options(), id="picker-rows")

    def _prompt(self, key: str) -> Text:
        d = self._display
        text = Text()
        text.append("[x] " if key in self.shown else "[ ] ", style="bold")
        text.append(f"{d.label(key):<18}")
        text.append(f" {d.FAMILY_LABELS[d.family(key)]:<11}", style="dim")
        text.append(" •" if key in self.available else "  ", style="bold")
        return text

    def _options(self) -> list[Option]:
        return [Option(self._prompt(k), id=k) for k in self.order]

    @property
    def rows(self) -> OptionList:
        return self.query_one("#picker-rows", OptionList)

    def _refill(self, highlight: int) -> None:
        rows = self.rows
        rows.clear_options()
        rows.add_options(self._options())
        rows.highlighted = max(0, min(highlight, len(self.order) - 1))

    def action_toggle_row(self) -> None:
        i = self.rows.highlighted
        if i is None:
            return
        key = self.order[i]
        self.shown ^= {key}
        self.rows.replace_option_prompt_at_index(i, self._prompt(key))

    def action_move(self, delta: int) -> None:
        i = self.rows.highlighted
        if i is None or not 0 <= i + delta < len(self.order):
            return
        self.order[i], self.order[i + delta] = self.order[i + delta], self.order[i]
        self._refill(i + delta)

    def action_reset(self) -> None:
        self.order = [*self.defaults, *(k for k in self.every if k not in self.defaults)]
        self.shown = set(self.defaults)
        self._refill(0)

    def action_keep(self) -> None:
        self.dismiss([k for k in self.order if k in self.shown])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # Enter keeps (a binding); a click toggles
        self.action_toggle_row()
