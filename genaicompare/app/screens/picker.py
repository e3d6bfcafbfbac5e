"""``genaicompare`` alone: :func:`pick_catalog` runs a small app of its own with the
:class:`CatalogPicker` (recent catalogs and the bundled samples)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from genaicompare.app.themes import STYLESHEET
from genaicompare.core.sanitize import one_line


class CatalogPicker(ModalScreen[str | None]):
    """``genaicompare`` alone: recent catalogs and the bundled samples (quickstart first)."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Quit")]

    def __init__(self, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("Open a catalog (Enter), Esc quits")
            yield OptionList(
                *(
                    Option(Text(one_line(label, 200)), id=str(i))
                    for i, (label, _) in enumerate(self.choices)
                ),
            )

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])


class _PickerApp(App[str | None]):
    CSS_PATH = STYLESHEET

    def __init__(self, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.choices = choices

    def on_mount(self) -> None:
        self.push_screen(CatalogPicker(self.choices), self.exit)


def pick_catalog(choices: Sequence[tuple[str, str]]) -> str | None:
    """``genaicompare`` alone: let the user pick a catalog (None when they quit)."""
    return _PickerApp(choices).run()
