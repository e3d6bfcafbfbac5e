"""A footer that keeps the essential keys at any width.

Textual's footer lists the shown bindings in order and lets the end fall off a narrow terminal:
at 80 columns ``q`` and ``?`` were gone (and the last key read ``/ Filt``). This one uses the
short labels of :data:`genaicompare.app.keys.FOOTER_LABELS`, leaves out what does not fit whole,
and always ends with :data:`~genaicompare.app.keys.FOOTER_PINNED` (``? Keys``, ``q Quit``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from genaicompare.app.keys import FOOTER_LABELS, FOOTER_PAIRS, FOOTER_PINNED

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult
    from textual.binding import Binding


class KeyFooter(Footer):
    """The main screen's footer (compact; the command palette is listed by ``?``)."""

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._width = 0

    def entries(self) -> list[tuple[Binding, str, str, bool]]:
        """(binding, key shown, label, enabled) of every key the footer would show, in order,
        the pinned ones last."""
        active = self.screen.active_bindings
        by_id: dict[str, Binding] = {}
        for _, b, _, _ in active.values():  # a binding's first key is the one shown
            if b.id is not None:
                by_id.setdefault(b.id, b)
        seen: set[str] = set()
        entries: list[tuple[Binding, str, str, bool]] = []
        pinned: list[tuple[Binding, str, str, bool]] = []
        for _, binding, enabled, _ in active.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = self.app.get_key_display(binding)
            other = by_id.get(FOOTER_PAIRS.get(binding.id or "", ""))
            if other is not None:
                key = f"{key}/{self.app.get_key_display(other)}"
            label = FOOTER_LABELS.get(binding.id or "", binding.description)
            entry = (binding, key, label, enabled)
            (pinned if binding.id in FOOTER_PINNED else entries).append(entry)
        pinned.sort(key=lambda e: FOOTER_PINNED.index(e[0].id or ""))
        return entries + pinned

    @staticmethod
    def cells(key: str, label: str) -> int:
        """A compact entry's width: key, space, label and the margin after it."""
        return cell_len(key) + 1 + cell_len(label) + 1

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        entries = self.entries()
        room = self.size.width or self.app.size.width
        room -= sum(self.cells(k, label) for b, k, label, _ in entries if b.id in FOOTER_PINNED)
        for binding, key, label, enabled in entries:
            if binding.id not in FOOTER_PINNED:
                need = self.cells(key, label)
                if need > room:
                    continue  # the next, shorter one may still fit
                room -= need
            yield FooterKey(
                binding.key,
                key,
                label,
                binding.action,
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            ).data_bind(compact=Footer.compact)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != self._width:
            self._width = event.size.width
            if self._bindings_ready:
                self.call_after_refresh(self.recompose)
