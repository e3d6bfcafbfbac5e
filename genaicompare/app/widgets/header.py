"""The main screen's context line (after lazygit's and k9s's): which catalog, who rates, how far
along, blind or not — what a rater would otherwise have to remember."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from genaicompare.app.widgets.stream_view import Line
from genaicompare.core.sanitize import one_line


@dataclass(frozen=True, slots=True)
class Context:
    catalog: str
    version: str
    rater: str
    rated: int
    prompts: int
    blind: bool
    view: str = ""
    """How the panes are shown when it is not the plain grid: ``tabs``, ``zoom``."""


def context_text(ctx: Context) -> Text:
    """The line, most important first (a narrow terminal cuts the end): catalog names and text
    come from files and are shown as plain text."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(one_line(ctx.catalog, 60), style="bold")
    text.append(f" v{one_line(ctx.version, 20)}", style="dim")
    text.append("  ·  ")
    text.append(f"{ctx.rated}/{ctx.prompts} rated")
    text.append("  ·  ")
    text.append("blind on" if ctx.blind else "blind off", style="bold" if ctx.blind else "")
    text.append("  ·  ")
    text.append(f"rater {one_line(ctx.rater, 40)}")
    if ctx.view:
        text.append(f"  ·  {ctx.view}", style="italic")
    return text


class ContextHeader(Line):
    """One line at the top of the main screen; :meth:`show` redraws it only when it changed."""

    DEFAULT_CSS = "ContextHeader { dock: top; height: 1; padding: 0 1; background: $panel; }"

    def __init__(self) -> None:
        super().__init__(classes="context-header")
        self.context: Context | None = None

    def show(self, ctx: Context) -> None:
        if ctx != self.context:
            self.context = ctx
            self.set_text(context_text(ctx))
