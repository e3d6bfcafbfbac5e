"""Every key of the TUI, as tables the screens build their ``BINDINGS`` from.

The ids are what the config's keymap remaps (``[keymap]`` in the settings); the main screen's
table also feeds the command palette.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding, BindingType

KeyTable = Sequence[tuple[str, str, str, str, bool]]
"""A screen's keys: (id, keys, action, description, shown in the footer); the ids are what the
config's keymap remaps."""


def key_bindings(table: KeyTable) -> list[BindingType]:
    """A screen's ``BINDINGS`` from its key table."""
    return [
        Binding(keys, action, desc, show=show, id=bid) for bid, keys, action, desc, show in table
    ]


APP_KEYS: KeyTable = [  # the comparison app's own, on every screen
    ("app.quit", "q", "quit", "Quit", True),
    ("app.help", "question_mark", "toggle_keys", "Keys", True),
]

KEYS: KeyTable = [  # the main screen's; also in the command palette
    ("prompt.next", "n,j", "next_prompt", "Next prompt", True),
    ("prompt.prev", "p,k", "prev_prompt", "Previous prompt", True),
    ("pane.left", "left,h", "focus_pane(-1)", "Pane left", False),
    ("pane.right", "right,l", "focus_pane(1)", "Pane right", False),
    *[(f"pane.{i}", str(i), f"goto_pane({i - 1})", f"Pane {i}", False) for i in range(1, 7)],
    ("rate.up", "u,plus", "thumb('up')", "👍", True),
    ("rate.down", "d,minus", "thumb('down')", "👎", True),
    ("pair.a", "a", "prefer('a')", "A better", False),
    ("pair.b", "b", "prefer('b')", "B better", False),
    ("pair.tie", "t", "prefer('tie')", "Tie", False),
    ("pair.both_bad", "x", "prefer('both_bad')", "Both bad", False),
    ("pair.best", "w", "best", "Best of all panes", False),
    ("pair.mark", "m", "mark_pane", "Mark pane for A/B", False),
    ("rate.comment", "c", "comment", "Comment", False),
    ("rate.rubric", "o", "rubric", "Rubric scores (catalog rubric)", False),
    ("rate.correct", "e", "correct", "Correct the answer in $EDITOR", False),
    ("rate.undo", "z", "undo", "Undo rating", True),
    ("regen.pane", "r", "regenerate_pane", "Regenerate pane", False),
    ("regen.prompt", "R", "regenerate_prompt", "Regenerate prompt", False),
    ("stream.cancel", "s,escape", "cancel_streams", "Cancel streaming", False),
    ("view.blind", "B", "toggle_blind", "Blind mode", False),
    ("view.diff", "D", "toggle_diff", "Word diff", False),
    ("view.prompt", "P", "toggle_prompt", "Show/hide prompt", False),
    ("prompt.scroll_down", "right_square_bracket", "scroll_prompt(1)", "Scroll prompt down", False),
    ("prompt.scroll_up", "left_square_bracket", "scroll_prompt(-1)", "Scroll prompt up", False),
    ("view.filter", "slash", "filter", "Filter", True),
    # Reading the answers: scroll the focused pane, zoom it, make room for the panes.
    ("pane.scroll_down", "J,shift+down", "scroll_pane(1)", "Scroll answer down", True),
    ("pane.scroll_up", "K,shift+up", "scroll_pane(-1)", "Scroll answer up", False),
    ("pane.top", "g", "scroll_pane_to(0)", "Answer top", False),
    ("pane.end", "G", "scroll_pane_to(1)", "Answer end", False),
    ("view.zoom", "f", "zoom", "Zoom pane", True),
    ("view.prompts", "ctrl+b", "toggle_prompt_list", "Show/hide prompt list", False),
    ("view.metrics", "v", "toggle_metrics", "Show/hide metrics", False),
    ("screen.scores", "S", "scores", "Scores", False),
    ("screen.run_diff", "C", "run_diff", "Changes between the last two runs", False),
    ("screen.export", "E", "export", "Export", False),
    ("screen.metrics", "M", "metric_picker", "Metrics matrix rows", False),
]

FOOTER_LABELS = {  # short names where the footer is narrow (80 columns); `?` has the long ones
    "prompt.next": "Next",
    "prompt.prev": "Prev",
    "rate.undo": "Undo",
    "pane.scroll_down": "Scroll",
    "view.zoom": "Zoom",
    "app.help": "Keys",
    "app.quit": "Quit",
}
FOOTER_PAIRS = {"pane.scroll_down": "pane.scroll_up"}
"""A footer entry that shows a second binding's key too (``J/K Scroll``)."""
FOOTER_PINNED = ("app.help", "app.quit")
"""Always in the footer, at its end: whatever else has to go at a narrow width."""

HELP_GROUPS = (  # `?` lists a screen's keys under these headings, by the id's first word
    ("prompt", "Prompts"),
    ("pane", "Panes and answers"),
    ("rate", "Rating"),
    ("pair", "Rating: two panes"),
    ("regen", "Answers"),
    ("stream", "Answers"),
    ("view", "View"),
    ("screen", "Other screens"),
    ("diff", "Run diff"),
)

RUN_DIFF_KEYS: KeyTable = [  # the run diff screen's
    ("diff.next", "j,down", "move(1)", "Next", True),
    ("diff.prev", "k,up", "move(-1)", "Previous", True),
    ("diff.unchanged", "a", "toggle_unchanged", "Unchanged too", True),
    ("diff.markers", "m", "toggle_markers", "Markers", True),
    ("diff.close", "q,escape", "close", "Close", True),
]
