"""The CLI's first paint: app chrome and what is being read (the catalog loads in a thread).

Light on purpose: the app imports it before anything else is read.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static


class LoadingScreen(Screen[None]):
    """The first paint of the CLI: app chrome and what is being read."""

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen #loading { width: auto; height: auto; color: $text-muted; }
    """

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        yield Static(self.what, id="loading", markup=False)
        yield Footer()
