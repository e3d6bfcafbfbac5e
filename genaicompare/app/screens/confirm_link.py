"""``ConfirmLink``: a link in an answer opens only after the user has seen the full URL and said
yes, and only if it is http(s). The URL is untrusted: shown as ``rich.text.Text``, never markup.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from genaicompare.core.sanitize import one_line


def safe_link(url: str) -> bool:
    """Only http(s) links with a host may be opened (no file:, javascript:, custom schemes)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class ConfirmLink(ModalScreen[bool]):
    """Shows the full URL; opens nothing unless the user says yes."""

    BINDINGS = [Binding("escape,n", "dismiss(False)", "Cancel"), Binding("y", "yes", "Open")]

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.allowed = safe_link(url)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            if self.allowed:
                yield Label("Open this link in your browser?")
            else:
                yield Label("This link will not be opened (only http and https links are).")
            yield Static(Text(one_line(self.url, 4000), style="bold"), classes="url")
            with Horizontal(classes="buttons"):
                if self.allowed:
                    yield Button("Open (y)", id="yes", variant="warning")
                yield Button("Cancel (n)", id="no", variant="primary")

    def action_yes(self) -> None:
        self.dismiss(self.allowed)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes" and self.allowed)
