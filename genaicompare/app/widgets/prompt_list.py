"""The prompt list: a virtual, line-API list — 50,000 prompts are 50,000 tuples, not widgets.

Only the visible lines are rendered. ``/`` filtering (rapidfuzz over id, tags and text) replaces
the list of shown indices; nothing is remounted.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from genaicompare.core.sanitize import one_line


@dataclass(slots=True)
class Row:
    prompt_id: str
    tags: str
    haystack: str
    """Lower-cased id + tags + start of the text: what the filter matches against."""
    state: str = ""
    """Short marker: "" (not run), "…" (streaming), "✓" (answered), "!" (an error)."""
    rated: bool = False


class PromptList(ScrollView, can_focus=True):
    """Virtual list of prompts. Posts :class:`PromptList.Selected` when the cursor moves."""

    DEFAULT_CSS = """
    PromptList { width: 32; border-right: vkey $panel; }
    PromptList:focus { border-right: vkey $primary; }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-20)", "Page up", show=False),
        Binding("pagedown", "cursor(20)", "Page down", show=False),
        Binding("home", "cursor(-1000000000)", "First", show=False),
        Binding("end", "cursor(1000000000)", "Last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Selected(Message):
        def __init__(self, prompt_index: int) -> None:
            self.prompt_index = prompt_index
            super().__init__()

    def __init__(self, rows: list[Row], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows = rows
        self.shown: list[int] = list(range(len(rows)))
        self.filter_text = ""
        """The filter in force ("" shows every prompt)."""

    def on_mount(self) -> None:
        self.virtual_size = Size(0, len(self.shown))

    # -- public ---------------------------------------------------------------------------------
    @property
    def current(self) -> int | None:
        """Index (into ``rows``) under the cursor, or None when the filter shows nothing."""
        if not self.shown:
            return None
        return self.shown[min(self.cursor, len(self.shown) - 1)]

    def select_index(self, prompt_index: int) -> None:
        try:
            self.cursor = self.shown.index(prompt_index)
        except ValueError:
            self.set_filter("")
            self.cursor = prompt_index

    def move(self, delta: int) -> None:
        self.action_cursor(delta)

    def set_filter(self, query: str) -> None:
        query = query.strip().lower()
        self.filter_text = query
        before = self.current
        if not query:
            self.shown = list(range(len(self.rows)))
        else:
            from rapidfuzz import fuzz, process

            hits = process.extract(
                query,
                [r.haystack for r in self.rows],
                scorer=fuzz.partial_ratio,
                score_cutoff=70,
                limit=None,
            )
            # Keep catalog order among matches: people scan a filtered list top to bottom.
            self.shown = sorted(index for _, _, index in hits)
        self.virtual_size = Size(0, len(self.shown))
        new_cursor = self.shown.index(before) if before in self.shown else 0
        self.scroll_to(y=0, animate=False)
        self.cursor = new_cursor
        self.refresh()

    def refresh_row(self, prompt_index: int) -> None:
        self.refresh()

    # -- actions --------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        if not self.shown:
            return
        self.cursor = max(0, min(len(self.shown) - 1, self.cursor + delta))

    def watch_cursor(self, value: int) -> None:
        self.scroll_to_region_line(value)
        self.refresh()
        index = self.current
        if index is not None:
            self.post_message(self.Selected(index))

    def scroll_to_region_line(self, line: int) -> None:
        top = round(self.scroll_y)
        height = max(1, self.scrollable_content_region.height)
        if line < top:
            self.scroll_to(y=line, animate=False)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False)

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            line = round(self.scroll_y) + offset
            if 0 <= line < len(self.shown):
                self.cursor = line

    # -- rendering ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        line = round(self.scroll_y) + y
        width = self.scrollable_content_region.width
        if not self.shown and self.rows and self.filter_text and y < 2:
            # The empty state: say why the list is empty and how to get it back.
            text = (f"no match for “{one_line(self.filter_text, 40)}”", "Esc clears the filter")[y]
            return Strip([Segment(text[:width].ljust(width), self.rich_style)], width)
        if line >= len(self.shown):
            return Strip.blank(width, self.rich_style)
        row = self.rows[self.shown[line]]
        mark = "●" if row.rated else " "
        state = row.state or " "
        text = one_line(f"{mark}{state} {row.prompt_id}  {row.tags}", 400)
        base = self.rich_style
        if line == self.cursor:
            styles = self.get_component_rich_style("prompt-list--cursor")
            style = base + styles
        else:
            style = base
        if len(text) > width:
            text = text[: max(0, width - 1)] + "…"
        text = text.ljust(width)
        return Strip([Segment(text, style)], width)

    COMPONENT_CLASSES = {"prompt-list--cursor"}

    DEFAULT_CSS += """
    PromptList > .prompt-list--cursor { background: $primary 40%; text-style: bold; }
    PromptList:focus > .prompt-list--cursor { background: $primary; color: $text; }
    """

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.shown)

    @property
    def rated_style(self) -> Style:  # kept for themes that want to colour rated rows
        return Style(bold=True)
