"""The comparison screen: prompt list, prompt, 2–6 answer panes, live metrics, rating keys.

The screen renders and dispatches; streams run in the session's engine, ratings/metrics/scores go
through :mod:`genaicompare.app.services` in threads. Thread work ends in a message
(:mod:`genaicompare.app.messages`) whose handler updates slots and widgets on the UI thread. A
rating is confirmed only after the service call returned (i.e. after COMMIT).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Collapsible, Input, Static
from textual.worker import Worker, WorkerState

from genaicompare.app.keys import KEYS, key_bindings
from genaicompare.app.messages import (
    JudgeReady,
    MetricsFailed,
    MetricsReady,
    PendingRatingsSaved,
    RatingFailed,
    RatingSaved,
)
from genaicompare.app.services import RatingContext, blind_order
from genaicompare.app.widgets.footer import KeyFooter
from genaicompare.app.widgets.header import Context, ContextHeader
from genaicompare.app.widgets.metrics_matrix import Column, MetricsMatrix, column
from genaicompare.app.widgets.pane_grid import PaneGrid, TabLine
from genaicompare.app.widgets.prompt_list import PromptList, Row
from genaicompare.app.widgets.response_pane import ResponsePane, until_tick
from genaicompare.catalog import Catalog, ModelSpec, Prompt
from genaicompare.core.errors import KnownError
from genaicompare.core.records import FinishState
from genaicompare.core.sanitize import for_display, one_line, redact
from genaicompare.ratings import UNRATABLE
from genaicompare.session.slots import Slot

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from genaicompare.app.session import Session

LETTERS = "ABCDEF"
KEPT_PROMPTS = 64
"""Visited prompts whose finished answers stay in memory; older ones re-open from the store."""
# Answers that ended in these states are not offered for rating (ratings refuses them too).
IDENTICAL_NOTE = "the two answers are identical: the vote is stored, but DPO exports skip the pair"
THUMB_BADGE = {"up": "👍", "down": "👎"}
PAIR_BADGE = {"a": "A better", "b": "B better", "tie": "tie", "both_bad": "both bad"}
STRONG_BADGE = {"a": "A much better (A≫B)", "b": "B much better (B≫A)"}
BEST_BADGE = "★ best"
COMMENT_BADGE = "💬"
CORRECTION_BADGE = "✎ corrected"
MARK_HINT = "three or more panes: mark two with m for A/B, or pick the best with w"


PROMPT_TITLE = "Prompt  ([ ] scroll, P hides)"
SHORT_SCREEN = 32
"""Rows below which the prompt and the metrics yield room to the panes (80×24 is short)."""
NARROW_SCREEN = 140
"""Columns below which the prompt list is narrower (24), so that 3 panes fit side by side at
120; below :data:`NARROWER_SCREEN` narrower still (18): 2 panes side by side at 80."""
NARROWER_SCREEN = 100


def prompt_rows(catalog: Catalog) -> list[Row]:
    """The prompt list's rows. Plain data: the CLI builds them in its loading thread."""
    return [
        Row(
            prompt_id=p.id,
            tags=" ".join(p.tags),
            haystack=f"{p.id} {' '.join(p.tags)} {(p.prompt or p.template or '')[:300]}".lower(),
        )
        for p in catalog.prompts
    ]


class MainScreen(Screen[None]):
    DEFAULT_CSS = """
    MainScreen #prompts-box { width: auto; }
    MainScreen #metrics-box { height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = key_bindings(KEYS)
    HELP_TITLE = "comparison screen"

    def __init__(self, session: Session, rows: list[Row] | None = None) -> None:
        super().__init__()
        self.session = session
        self._rows = rows
        self.prompt_index = 0
        self.current_slot = 0
        self.order: list[int] = []
        self.shuffle_seed: int | None = None
        self.slots: dict[tuple[int, str], Slot] = {}
        self._visited: dict[int, None] = {}
        """Prompts visited, least recent first: slots of the others may be forgotten."""
        self.ratings: list[Any] = []
        self.revealed = False
        self.shown_at = time.perf_counter()
        self.last_rating: Any = None
        self._marks: dict[int, list[int]] = {}
        """Per prompt, the (at most two) panes marked with ``m`` for an A/B vote."""
        self._metrics_busy = False
        self._metrics_drawn = 0.0
        self._metrics_timer: Any = None
        self._cheap_at: dict[tuple[int, str], float] = {}
        self._text_of: int | None = None
        self._prompt_shown: Text | None = None
        """The prompt whose text the prompt panel shows (its scroll offset is kept until then)."""

    @property
    def models(self) -> list[ModelSpec]:
        return list(self.session.catalog.models)

    @property
    def prompt(self) -> Prompt:
        return self.session.catalog.prompts[self.prompt_index]

    # -- layout ---------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        rows = self._rows if self._rows is not None else prompt_rows(self.session.catalog)
        self._rows = None
        n = max(1, len(self.models))
        # Shaped for the terminal before the first styling pass: classes set on resize would
        # restyle all ~90 widgets a second time before the first frame.
        self._fit(*self.app.size)
        yield ContextHeader()
        with Horizontal():
            # Each in a box of its own size: the compositor redraws every widget whose
            # container overlaps a repaint, so the panes' ten repaints a second would redraw
            # the whole list and table too if they sat directly in the screen-wide containers.
            with Vertical(id="prompts-box"):
                yield PromptList(rows, id="prompts")
            with Vertical(id="main"):
                yield Input(
                    placeholder="filter: id, tags, text (Enter keeps, Esc clears)",
                    id="filter",
                    classes="-hidden",
                )
                with Collapsible(title=PROMPT_TITLE, collapsed=False, id="prompt-box"):
                    # The prompt scrolls ([ and ]); the reference below it is always in view.
                    with VerticalScroll(id="prompt-scroll", can_focus=False):
                        yield Static(id="prompt-text", markup=False)
                    yield Static(id="prompt-reference", markup=False)
                # Shaped for the room there is (grid, tabs or the focused pane zoomed).
                with PaneGrid(id="panes"):
                    yield TabLine()
                    for i in range(n):
                        yield ResponsePane(i)
                with Vertical(id="metrics-box"):
                    yield MetricsMatrix(id="metrics")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one(PromptList).focus()
        self._preview(0)
        self._show_context()
        self._start()

    # -- fitting the terminal -------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        """Re-lay out for the size (btop-style): a short screen gives the prompt and the metrics
        less room, a narrow one a narrower prompt list; the pane grid re-shapes itself."""
        self._fit(*event.size)

    def _fit(self, width: int, height: int) -> None:
        self.set_class(height < SHORT_SCREEN, "-short")
        self.set_class(NARROWER_SCREEN <= width < NARROW_SCREEN, "-narrow")
        self.set_class(width < NARROWER_SCREEN, "-narrower")

    @property
    def pane_grid(self) -> PaneGrid:
        return self.query_one(PaneGrid)

    def key_applies(self, binding_id: str) -> bool:
        """Whether a key does something here (``?`` lists only those): pane keys up to the
        number of panes, two-pane votes with two panes."""
        n = len(self.models)
        if binding_id.startswith("pane.") and binding_id[5:].isdigit():
            return int(binding_id[5:]) <= n
        if binding_id.startswith("pair."):
            return n == 2
        if binding_id in ("pane.left", "pane.right"):
            return n > 1
        return True

    def _show_context(self) -> None:
        """The header line: catalog, progress, blind, rater, and how the panes are shown."""
        catalog = self.session.catalog
        rows = self.query_one(PromptList).rows
        grid = self.pane_grid
        view = {"tabs": "tabs (←/→)", "zoom": "zoomed (f)"}.get(grid.mode, "")
        self.query_one(ContextHeader).show(
            Context(
                catalog=catalog.name,
                version=catalog.version,
                rater=self.session.settings.rater,
                rated=sum(1 for row in rows if row.rated),
                prompts=len(rows),
                blind=self.session.blind,
                view=view,
            )
        )

    @on(PaneGrid.Arranged)
    def _arranged(self, event: PaneGrid.Arranged) -> None:
        self._show_context()
        self.pane_grid.refresh_tabs([self.pane_title(i) for i in range(len(self.panes()))])

    def action_zoom(self) -> None:
        """``f``: the focused pane alone, over the prompt list, prompt and metrics (tmux's
        ``z``, which is undo here); the pane keys switch the zoomed pane."""
        grid = self.pane_grid
        grid.set_zoom(not grid.zoomed)
        self.set_class(grid.zoomed, "-zoomed")

    def action_toggle_prompt_list(self) -> None:
        """``ctrl+b``: hide the prompt list for wider panes (harlequin's sidebar key)."""
        hidden = not self.has_class("-no-list")
        self.set_class(hidden, "-no-list")
        if hidden and self.query_one(PromptList).has_focus:
            self.set_focus(None)

    def action_toggle_metrics(self) -> None:
        """``m``: hide the metrics under the panes (or show them again)."""
        self.toggle_class("-no-metrics")

    def action_scroll_pane(self, pages: int) -> None:
        """``J`` / ``K``: scroll the focused answer by most of a view."""
        panes = self.panes()
        if panes:
            panes[self.current_slot].scroll_answer(pages)

    def action_scroll_pane_to(self, end: int) -> None:
        """``g`` / ``G``: the focused answer's top / end."""
        panes = self.panes()
        if panes:
            panes[self.current_slot].scroll_answer_to(end=bool(end))

    def _preview(self, index: int) -> None:
        """What can be shown before the store is open: the prompt and the pane headers."""
        self.prompt_index = index
        self._show_prompt_text()
        for slot_index, pane in enumerate(self.panes()):
            title = (
                f"Model {LETTERS[slot_index]}" if self.session.blind else self.models[slot_index].id
            )
            pane.set_title(title)

    @work(group="start", exit_on_error=False)
    async def _start(self) -> None:
        await self.session.ready.wait()
        self.show_prompt(self.prompt_index)
        # Ratings queued while the database was locked reach it later, from a retry thread.
        self.session.rating_service.ratings.pending.on_saved.append(
            lambda saved: self._post_from_thread(PendingRatingsSaved(len(saved)))
        )
        self._mark_rated()

    @work(group="rated", exit_on_error=False)
    async def _mark_rated(self) -> None:
        """The list's marks from the store (after the first prompt is on screen): rated ●, and
        answered ✓ for every prompt all models answered before, visited this session or not."""
        service = self.session.rating_service
        name = self.session.catalog.name
        rated = await asyncio.to_thread(service.rated_prompts, name, self.session.settings.rater)
        prompts = self.query_one(PromptList)
        for row in prompts.rows:
            row.rated = row.prompt_id in rated
        prompts.refresh()
        answered = await asyncio.to_thread(
            service.answered_prompts, name, [m.id for m in self.models]
        )
        for row in prompts.rows:
            if not row.state and row.prompt_id in answered:
                row.state = "✓"
        prompts.refresh()
        self._show_context()

    # -- showing a prompt -----------------------------------------------------------------------
    def panes(self) -> list[ResponsePane]:
        return list(self.query(ResponsePane))

    @property
    def hiding(self) -> bool:
        """Blind and the prompt not fully rated yet: nothing on screen may tell models apart
        but their answers (names, system prompts, params, cost, stored or not)."""
        return self.session.blind and not self.revealed

    def letters(self) -> dict[str, str]:
        """Model alias → the letter of the pane showing it (what blind mode shows instead)."""
        return {self.models[m].id: LETTERS[i] for i, m in enumerate(self.order)}

    def masked(self, text: str) -> str:
        """``text`` with model names replaced by pane letters while names are hidden."""
        if not self.hiding:
            return text
        for alias, letter in sorted(self.letters().items(), key=lambda kv: -len(kv[0])):
            text = re.sub(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", f"Model {letter}", text)
        return text

    def pane_title(self, slot_index: int) -> str:
        if slot_index >= len(self.order):
            return self.models[slot_index].id if not self.session.blind else LETTERS[slot_index]
        alias = self.models[self.order[slot_index]].id
        if not self.session.blind:
            return alias
        letter = f"Model {LETTERS[slot_index]}"
        return f"{letter} — {alias}" if self.revealed else letter

    def show_prompt(self, index: int) -> None:
        if not self.session.catalog.prompts:
            return
        index = max(0, min(len(self.session.catalog.prompts) - 1, index))
        for pane in self.panes():
            for slot in self.slots.values():
                if slot.pane is pane:
                    slot.pane = None
        self.prompt_index = index
        self.shown_at = time.perf_counter()
        self.revealed = False
        self.ratings = []
        n = len(self.models)
        if self.session.blind:
            self.order, self.shuffle_seed = blind_order(
                self.prompt.id, n, self.session.settings.rater
            )
        else:
            self.order, self.shuffle_seed = list(range(n)), None
        self._show_prompt_text()
        for slot_index, pane in enumerate(self.panes()):
            model = self.models[self.order[slot_index]]
            slot = self.ensure_slot(index, model)
            pane.blind = self.hiding
            pane.attach(slot, self.pane_title(slot_index))
        self.set_current_slot(min(self.current_slot, n - 1))
        self.refresh_metrics()
        for (p_index, _), slot in list(self.slots.items()):
            if p_index == index:
                self.compute_full_metrics(slot)
        self.load_ratings()
        self.prefetch()
        self._forget_far_answers(index)

    def _forget_far_answers(self, index: int) -> None:
        """Keep the finished answers of the last :data:`KEPT_PROMPTS` visited prompts only.

        A long session visits thousands of prompts; each slot holds its answer's text. A slot is
        dropped only when the store can give it back as it was (a complete or length-capped
        answer, shown by no pane): revisiting its prompt re-opens it from the store."""
        self._visited.pop(index, None)
        self._visited[index] = None
        if len(self._visited) <= KEPT_PROMPTS:
            return
        while len(self._visited) > KEPT_PROMPTS:
            self._visited.pop(next(iter(self._visited)))
        for key, slot in list(self.slots.items()):
            if (
                key[0] not in self._visited
                and slot.pane is None
                and slot.finished
                and slot.record is not None
                and slot.record.state in (FinishState.complete, FinishState.length)
            ):
                del self.slots[key]

    def _show_prompt_text(self) -> None:
        text = self._prompt_text()
        if text != self._prompt_shown:  # re-laying out an unchanged prompt would reset its scroll
            self._prompt_shown = text
            self.query_one("#prompt-text", Static).update(text)
        if self._text_of != self.prompt_index:  # a new prompt starts at its top
            self._text_of = self.prompt_index
            self.query_one("#prompt-scroll", VerticalScroll).scroll_home(animate=False)
        reference = self.query_one("#prompt-reference", Static)
        if self.prompt.reference:
            text = Text("reference: ", style="bold italic")
            text.append(for_display(self.prompt.reference))
            reference.update(text)
        reference.display = bool(self.prompt.reference)

    def _prompt_text(self) -> Text:
        """The prompt as each model is asked it: each model's own system prompt (one line when
        they share it; hidden while blind), then the few-shot turns and the user message."""
        catalog = self.session.catalog
        renders = [(m.id, catalog.render(self.prompt, m)) for m in self.models]
        if not renders:
            renders = [("", catalog.render(self.prompt, None))]
        systems = [
            (alias, next((m["content"] for m in r.messages if m["role"] == "system"), None))
            for alias, r in renders
        ]
        out = Text()
        out.append(for_display(self.prompt.id), style="bold")
        if self.prompt.tags:
            out.append(for_display("  " + " ".join(self.prompt.tags)), style="dim")
        if len({system for _, system in systems}) == 1:
            if systems[0][1] is not None:
                out.append("\nsystem: ", style="bold")
                out.append(for_display(systems[0][1]))
        elif self.hiding:
            out.append("\nsystem: ", style="bold")
            out.append("each model has its own (hidden while blind)", style="italic")
        else:
            for alias, system in systems:
                out.append(f"\nsystem ({one_line(alias, 40)}): ", style="bold")
                out.append(for_display(system) if system is not None else "(none)")
        for message in renders[0][1].messages:
            if message["role"] == "system":
                continue
            out.append(f"\n{message['role']}: ", style="bold")
            out.append(for_display(message["content"]))
        return out

    def ensure_slot(self, prompt_index: int, model: ModelSpec, *, fresh: bool = False) -> Slot:
        key = (prompt_index, model.id)
        slot = self.slots.get(key)
        if slot is not None and not fresh:
            return slot
        if slot is not None:
            slot.cancel()
            slot.pane = None
        slot = Slot(prompt_index, model.id, self._slot_finished)
        self.slots[key] = slot
        prompt = self.session.catalog.prompts[prompt_index]
        self.set_row_state(prompt_index)
        if fresh:
            slot.job = self.session.engine.start(prompt, model, slot)
        else:
            self._open_slot(slot, prompt, model)
        return slot

    @work(group="cache", exit_on_error=False)
    async def _open_slot(self, slot: Slot, prompt: Prompt, model: ModelSpec) -> None:
        """Show a stored answer for the same request if there is one; otherwise stream."""
        hit = await asyncio.to_thread(self.session.comparison.cached, prompt, model)
        if self.slots.get((slot.prompt_index, slot.alias)) is not slot:
            return
        if hit is not None:
            slot.show_cached(hit)
        else:
            slot.job = self.session.engine.start(prompt, model, slot)

    def prefetch(self) -> None:
        """Stream the next prompts in the background; cancel far-away streams to stay bounded."""
        ahead = self.session.settings.prefetch
        keep = range(self.prompt_index, self.prompt_index + ahead + 1)
        for (p_index, _), slot in list(self.slots.items()):
            if p_index not in keep and slot.busy and slot.pane is None:
                slot.cancel()
                del self.slots[(p_index, slot.alias)]
        for p_index in keep:
            if p_index == self.prompt_index or p_index >= len(self.session.catalog.prompts):
                continue
            for model in self.models:
                self.ensure_slot(p_index, model)

    def _slot_finished(self, slot: Slot) -> None:
        self.set_row_state(slot.prompt_index)
        if slot.prompt_index == self.prompt_index:
            # A new answer may be one already rated (same output): its marks show at once.
            self._apply_badges()
            self.refresh_metrics()
        # Prefetched answers too: every stored answer gets its metrics, and a prompt the user
        # moves to shows them at once.
        self.compute_full_metrics(slot)

    def set_row_state(self, prompt_index: int) -> None:
        prompts = self.query_one(PromptList)
        row = prompts.rows[prompt_index]
        states = [s.state for (p, _), s in self.slots.items() if p == prompt_index]
        if any(s in ("queued", "streaming") for s in states):
            row.state = "…"
        elif any(s in ("error", "timeout") for s in states):
            row.state = "!"
        elif states:
            row.state = "✓"
        prompts.refresh()

    # -- panes ----------------------------------------------------------------------------------
    def set_current_slot(self, slot_index: int) -> None:
        panes = self.panes()
        self.current_slot = max(0, min(len(panes) - 1, slot_index))
        for i, pane in enumerate(panes):
            pane.set_class(i == self.current_slot, "-current")
        self.pane_grid.set_current(self.current_slot)  # tabs and zoom show the current pane

    def current_pane_slot(self, slot_index: int | None = None) -> Slot | None:
        i = self.current_slot if slot_index is None else slot_index
        if not self.order or i >= len(self.order):
            return None
        return self.slots.get((self.prompt_index, self.models[self.order[i]].id))

    def action_focus_pane(self, delta: int) -> None:
        self.set_current_slot((self.current_slot + delta) % max(1, len(self.panes())))

    def action_goto_pane(self, index: int) -> None:
        if index < len(self.panes()):
            self.set_current_slot(index)

    # -- navigation -----------------------------------------------------------------------------
    def action_next_prompt(self) -> None:
        prompts = self.query_one(PromptList)
        if prompts.shown and prompts.cursor >= len(prompts.shown) - 1:
            self.notify("this is the last prompt", timeout=2)
            return
        prompts.move(1)

    def action_prev_prompt(self) -> None:
        prompts = self.query_one(PromptList)
        if prompts.shown and prompts.cursor <= 0:
            self.notify("this is the first prompt", timeout=2)
            return
        prompts.move(-1)

    def action_scroll_prompt(self, delta: int) -> None:
        box = self.query_one("#prompt-box", Collapsible)
        if box.collapsed:
            box.collapsed = False
        scroll = self.query_one("#prompt-scroll", VerticalScroll)
        # From the target, not the current offset: presses arriving within one frame add up.
        page = delta * max(1, scroll.size.height - 1)
        scroll.scroll_to(y=scroll.scroll_target_y + page, animate=False)

    @on(PromptList.Selected)
    def _selected(self, event: PromptList.Selected) -> None:
        if not self.session.ready.is_set():
            self._preview(event.prompt_index)
            return
        if event.prompt_index != self.prompt_index or not self.order:
            self.show_prompt(event.prompt_index)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.remove_class("-hidden")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        prompts = self.query_one(PromptList)
        prompts.set_filter(event.value)
        box = self.query_one("#filter", Input)
        total = len(prompts.rows)
        if not event.value.strip():
            box.border_title = None
        elif prompts.shown:
            box.border_title = f"{len(prompts.shown)} of {total} prompts match"
        else:
            box.border_title = f"no prompt matches (of {total}): Esc clears"

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        self.query_one(PromptList).focus()

    def key_escape(self) -> None:
        box = self.query_one("#filter", Input)
        if box.has_focus:
            box.value = ""
            box.border_title = None
            box.add_class("-hidden")
            self.query_one(PromptList).focus()

    def action_toggle_prompt(self) -> None:
        box = self.query_one("#prompt-box", Collapsible)
        box.collapsed = not box.collapsed

    # -- streams --------------------------------------------------------------------------------
    def action_regenerate_pane(self) -> None:
        if not self.order:
            return
        model = self.models[self.order[self.current_slot]]
        slot = self.ensure_slot(self.prompt_index, model, fresh=True)
        self.panes()[self.current_slot].attach(slot, self.pane_title(self.current_slot))
        self._apply_badges()
        self.refresh_metrics()

    def action_regenerate_prompt(self) -> None:
        for slot_index, pane in enumerate(self.panes()):
            model = self.models[self.order[slot_index]]
            slot = self.ensure_slot(self.prompt_index, model, fresh=True)
            pane.attach(slot, self.pane_title(slot_index))
        self._apply_badges()
        self.refresh_metrics()

    def action_cancel_streams(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            return
        cancelled = 0
        for (p_index, _), slot in self.slots.items():
            if p_index == self.prompt_index and slot.busy:
                slot.cancel()
                cancelled += 1
        if cancelled:
            self.notify(f"cancelled {cancelled} stream(s)")

    # -- ratings --------------------------------------------------------------------------------
    def _rating_context(self) -> RatingContext:
        return RatingContext(
            rater=self.session.settings.rater,
            catalog_name=self.session.catalog.name,
            blind=self.session.blind,
            pane_order=[self.models[i].id for i in self.order],
            shuffle_seed=self.shuffle_seed,
            time_to_rate_ms=(time.perf_counter() - self.shown_at) * 1000,
        )

    def _refuse_failed(self, slot_indices: list[int]) -> bool:
        """Say so (and rate nothing) when an answer to be rated ended in error or timeout."""
        for i in slot_indices:
            slot = self.current_pane_slot(i)
            if slot is not None and slot.record is not None and slot.record.state in UNRATABLE:
                self.notify(
                    f"{self.pane_title(i)} ended in {slot.record.state.value}: there is no answer "
                    "to rate (regenerate it with r)",
                    title="not rated",
                    severity="warning",
                    markup=False,
                )
                return True
        return False

    def action_thumb(self, value: str) -> None:
        slot = self.current_pane_slot()
        if slot is None or slot.record is None or slot.record.id is None:
            self.notify("nothing to rate yet in this pane", severity="warning")
            return
        if self._refuse_failed([self.current_slot]):
            return
        self._rate("thumb", value, [slot.record], self.prompt_index, self._rating_context())

    def _pair_slots(self) -> tuple[int, int] | None:
        """The two panes an A/B vote compares: the only two, or the two marked (``m``), in pane
        order (A is the left/upper one)."""
        if len(self.order) == 2:
            return 0, 1
        marks = self._marks.get(self.prompt_index, [])
        if len(marks) == 2:
            first, second = sorted(marks)
            return first, second
        return None

    def action_mark_pane(self) -> None:
        """Mark (or unmark) the focused pane as one of the two an A/B vote compares."""
        if len(self.order) < 3:
            self.notify("with two panes, a/b/t/x compare them: no marks needed", timeout=3)
            return
        marks = self._marks.setdefault(self.prompt_index, [])
        if self.current_slot in marks:
            marks.remove(self.current_slot)
        else:
            marks.append(self.current_slot)
            del marks[:-2]  # a third mark replaces the oldest
        if len(marks) == 2:
            a, b = sorted(marks)
            self.notify(
                f"A = {self.pane_title(a)}, B = {self.pane_title(b)}: a/b better, press again "
                "for much better, t tie, x both bad",
                timeout=4,
                markup=False,
            )
        self._apply_badges()

    def action_prefer(self, value: str) -> None:
        pair = self._pair_slots()
        if pair is None:
            self.notify(MARK_HINT, severity="warning", timeout=5)
            return
        a, b = self.current_pane_slot(pair[0]), self.current_pane_slot(pair[1])
        if a is None or b is None or a.record is None or b.record is None:
            self.notify("both answers must be finished before a preference", severity="warning")
            return
        if self._refuse_failed(list(pair)):
            return
        # DPO learns nothing from a pair of identical texts (the export skips it): say so now.
        note = IDENTICAL_NOTE if value in ("a", "b") and a.record.text == b.record.text else None
        # The same win pressed again on the same pair makes it strong (A≫B); once more, plain.
        last = self.last_rating
        strength = 1
        if (
            value in ("a", "b")
            and last is not None
            and last.kind == "pair"
            and (last.content_hash, last.other_content_hash)
            == (a.record.content_hash, b.record.content_hash)
            and last.value == value
        ):
            strength = 1 if (last.strength or 1) == 2 else 2
        self._rate(
            "pair",
            value,
            [a.record, b.record],
            self.prompt_index,
            self._rating_context(),
            note,
            strength,
        )

    def action_best(self) -> None:
        """The focused pane is the best of all shown: a win over each other pane (one
        judgement; a pair vote on two of them still counts for that pair)."""
        if len(self.order) < 2:
            self.notify("best of N needs at least two panes", severity="warning")
            return
        records = self._shown_records()
        if any(r is None for r in records):
            self.notify("every answer must be finished before picking the best", severity="warning")
            return
        if self._refuse_failed(list(range(len(records)))):
            return
        winner = records[self.current_slot]
        others = [r for i, r in enumerate(records) if i != self.current_slot]
        if any(r.content_hash == winner.content_hash for r in others):
            self.notify(
                "another pane shows the same answer: nothing to pick between", severity="warning"
            )
            return
        self._rate("best", "best", [winner, *others], self.prompt_index, self._rating_context())

    @work(thread=True, group="rate", exit_on_error=False)
    def _rate(
        self,
        kind: str,
        value: str,
        records: list[Any],
        prompt_index: int,
        ctx: RatingContext,
        note: str | None = None,
        strength: int = 1,
    ) -> None:
        from genaicompare.ratings import RatingError  # lazy: pulls the store layer

        service = self.session.rating_service
        try:
            if kind == "thumb":
                rating = service.thumb(records[0], value, ctx)
            elif kind == "best":
                rating = service.best(records[0], records[1:], ctx)
            else:
                rating = service.prefer_graded(records[0], records[1], value, strength, ctx)
        except (RatingError, KnownError) as exc:
            self.post_message(RatingFailed(str(exc)))
            return
        self.post_message(RatingSaved(kind, value, rating, prompt_index, note))

    @on(RatingFailed)
    def _rating_failed(self, event: RatingFailed) -> None:
        self.notify(
            one_line(self.masked(redact(event.text)), 300),
            title="not rated",
            severity="error",
            markup=False,
        )

    @on(PendingRatingsSaved)
    def _pending_saved(self, event: PendingRatingsSaved) -> None:
        plural = "rating" if event.count == 1 else "ratings"
        self.notify(f"saved: {event.count} pending {plural} reached the database", timeout=4)
        self._mark_rated()
        self.load_ratings()

    @on(RatingSaved)
    def _rating_saved(self, event: RatingSaved) -> None:
        # Committed: only now the user sees it.
        self.last_rating = event.rating
        label = self._rating_label(event.rating)
        if event.note:
            self.notify(f"saved: {label} — {event.note}", severity="warning", timeout=6)
        else:
            self.notify(f"saved: {label}", timeout=2)
        self.query_one(PromptList).rows[event.prompt_index].rated = True
        self.query_one(PromptList).refresh()
        if event.prompt_index == self.prompt_index:
            self.load_ratings()

    def action_undo(self) -> None:
        self._undo()

    @work(group="rate", exit_on_error=False)
    async def _undo(self) -> None:
        undone = await asyncio.to_thread(
            self.session.rating_service.undo, self.session.settings.rater
        )
        if not undone:
            self.notify("nothing to undo", severity="warning")
            return
        self.notify("rating undone", timeout=2)
        await self._reload_ratings()
        prompt_id = undone.prompt_id
        rated = await asyncio.to_thread(
            self.session.rating_service.for_prompt,
            self.session.catalog.name,
            prompt_id,
            self.session.settings.rater,
        )
        rows = self.query_one(PromptList).rows
        for i, row in enumerate(rows):
            if row.prompt_id == (prompt_id):
                rows[i].rated = bool(rated)
        self.query_one(PromptList).refresh()
        self._show_context()

    def action_comment(self) -> None:
        if self.last_rating is None:
            self.notify("rate first, then comment on that rating", severity="warning")
            return
        rating = self.last_rating

        def save(text: str | None) -> None:
            if text:
                self._comment(rating, text)

        from genaicompare.app.screens.comment import CommentScreen  # lazy: not on the first frame

        self.app.push_screen(
            CommentScreen(self._rating_label(rating), getattr(rating, "comment", None) or ""), save
        )

    # -- rubric and corrections (issue 16) --------------------------------------------------------
    def _rateable_slot(self) -> Any:
        """The focused pane's slot when its answer can be rated, else None (and say why)."""
        slot = self.current_pane_slot()
        if slot is None or slot.record is None or slot.record.id is None:
            self.notify("nothing to rate yet in this pane", severity="warning")
            return None
        if self._refuse_failed([self.current_slot]):
            return None
        return slot

    def action_rubric(self) -> None:
        criteria = self.session.catalog.rubric
        if not criteria:
            self.notify(
                "this catalog has no rubric (add rubric: [{name: accuracy, scale: 1-5}])",
                severity="warning",
            )
            return
        slot = self._rateable_slot()
        if slot is None:
            return
        record, prompt_index = slot.record, self.prompt_index
        scores = {
            str(r.criterion): r.value
            for r in self.ratings
            if r.kind == "rubric" and r.content_hash == record.content_hash
        }

        async def save(criterion: Any, value: str) -> bool:
            from genaicompare.ratings import RatingError  # lazy: pulls the store layer

            try:
                rating = await asyncio.to_thread(
                    self.session.rating_service.rubric,
                    record,
                    criterion.name,
                    value,
                    criterion.values,
                    self._rating_context(),
                )
            except (RatingError, KnownError) as exc:
                self._rating_failed(RatingFailed(str(exc)))
                return False
            self._rating_saved(RatingSaved("rubric", value, rating, prompt_index, None))
            return True

        title = self.pane_title(self.current_slot)
        from genaicompare.app.screens.rubric import RubricScreen  # lazy: not on the first frame

        self.app.push_screen(RubricScreen(f"the answer in {title}", criteria, scores, save))

    def action_correct(self) -> None:
        slot = self._rateable_slot()
        if slot is not None:
            self._correct(slot.record, self.prompt_index)

    @work(group="correct", exclusive=True, exit_on_error=False)
    async def _correct(self, record: Any, prompt_index: int) -> None:
        """Open the answer (or this rater's correction of it) in ``$EDITOR`` with the app
        suspended; a changed text is stored as a correction of the answer."""
        import os
        import shlex
        import subprocess
        import tempfile

        from textual.app import SuspendNotSupported

        from genaicompare.ratings import RatingError  # lazy: pulls the store layer

        before = next(
            (
                r.value
                for r in self.ratings
                if r.kind == "correction" and r.content_hash == record.content_hash
            ),
            record.text,
        )
        fd, path = tempfile.mkstemp(prefix="genaicompare-correction-", suffix=".md")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(before)
            command = [*shlex.split(os.environ.get("EDITOR") or "vi"), path]
            try:
                try:
                    with self.app.suspend():
                        done = subprocess.run(command, check=False)
                except SuspendNotSupported:  # headless (tests): nothing to hand the terminal to
                    done = subprocess.run(command, check=False, capture_output=True)
            except OSError as exc:
                self.notify(f"could not run $EDITOR: {exc}", severity="error", markup=False)
                return
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        if not before.endswith("\n"):
            text = text.rstrip("\n")  # the newline an editor adds at the end of the file
        if done.returncode != 0:
            self.notify(f"editor exited {done.returncode}: nothing saved", severity="warning")
            return
        if text.rstrip("\n") == before.rstrip("\n"):
            self.notify("text unchanged: no correction saved", timeout=3)
            return
        try:
            rating = await asyncio.to_thread(
                self.session.rating_service.correct, record, text, self._rating_context()
            )
        except (RatingError, KnownError) as exc:
            self._rating_failed(RatingFailed(str(exc)))
            return
        self._rating_saved(RatingSaved("correction", "", rating, prompt_index, None))

    def _rating_label(self, rating: Any) -> str:
        """A rating in words, with the panes it judged as they are shown (letters while blind):
        "👍 on gpt", "A much better (A≫B): gpt vs claude", "★ best of 3: gpt"."""
        titles = {}
        for i, rec in enumerate(self._shown_records()):
            if rec is not None:
                titles[rec.content_hash] = self.pane_title(i)

        def name(content_hash: Any, alias: Any) -> str:
            return titles.get(content_hash) or self.masked(str(alias or "an answer"))

        if rating.kind == "thumb":
            return f"{THUMB_BADGE.get(rating.value, rating.value)} on " + name(
                rating.content_hash, rating.model_alias
            )
        if rating.kind == "best":
            n = 1 + len(rating.others or [])
            return f"{BEST_BADGE} of {n}: " + name(rating.content_hash, rating.model_alias)
        if rating.kind == "rubric":
            return f"{rating.criterion} {rating.value} on " + name(
                rating.content_hash, rating.model_alias
            )
        if rating.kind == "correction":
            return "correction of " + name(rating.content_hash, rating.model_alias)
        label = (
            STRONG_BADGE[rating.value]
            if (rating.strength or 1) == 2 and rating.value in STRONG_BADGE
            else PAIR_BADGE.get(rating.value, rating.value)
        )
        a = name(rating.content_hash, rating.model_alias)
        b = name(rating.other_content_hash, rating.other_model_alias)
        return f"{label}: {a} vs {b}"

    @work(group="rate", exit_on_error=False)
    async def _comment(self, rating: Any, text: str) -> None:
        saved = await asyncio.to_thread(self.session.rating_service.comment, rating, text)
        if self.last_rating is not None and self.last_rating.uid == saved.uid:
            self.last_rating = saved
        self.notify(f"comment saved on {self._rating_label(saved)}", timeout=3, markup=False)
        self.load_ratings()  # the 💬 mark on the rated pane(s)

    def load_ratings(self) -> None:
        self._load_ratings_worker()

    @work(group="ratings-load", exclusive=True, exit_on_error=False)
    async def _load_ratings_worker(self) -> None:
        await self._reload_ratings()

    async def _reload_ratings(self) -> None:
        prompt_index = self.prompt_index
        ratings = await asyncio.to_thread(
            self.session.rating_service.for_prompt,
            self.session.catalog.name,
            self.prompt.id,
            self.session.settings.rater,
        )
        if prompt_index != self.prompt_index:
            return
        self.ratings = ratings
        self.query_one(PromptList).rows[prompt_index].rated = bool(ratings)
        self.query_one(PromptList).refresh()
        self._apply_badges()
        self._show_context()

    def _shown_records(self) -> list[Any]:
        """The answer each pane shows (None while it has none), in pane order."""
        return [
            slot.record if slot is not None else None
            for slot in (self.current_pane_slot(i) for i in range(len(self.order)))
        ]

    def _fully_rated(self, records: list[Any]) -> bool:
        """Every pane's answer is judged: a best-of-N pick among all shown answers (it compares
        each with the pick), or each answer has a thumb or is in a pair vote with another shown
        answer (with two panes: one A/B vote, as Chatbot Arena reveals after the vote). Failed
        answers cannot be rated: they do not count."""
        if not records or any(r is None for r in records):
            return False
        hashes = {r.content_hash for r in records}
        ratable = {r.content_hash for r in records if r.state not in UNRATABLE}
        judged: set[str] = set()
        for r in self.ratings:
            if r.kind == "best":
                picked = {r.content_hash, *(o.get("content_hash") for o in r.others or [])}
                if ratable and ratable <= picked and r.content_hash in hashes:
                    return True
            elif r.kind == "pair" and {r.content_hash, r.other_content_hash} <= hashes:
                judged |= {r.content_hash, r.other_content_hash}
            elif r.kind == "thumb":
                judged.add(r.content_hash)
        return bool(ratable) and ratable <= judged

    def _apply_badges(self) -> None:
        """Marks on the answers they were given to (by content, not by pane or model): a new
        answer in a pane carries none until it is rated, an identical one carries the old."""
        records = self._shown_records()
        was_hiding = self.hiding
        self.revealed = self._fully_rated(records)
        badges: dict[str, list[str]] = {}
        corrections: dict[str, str] = {}
        for r in self.ratings:
            note = f" {COMMENT_BADGE}" if r.comment else ""
            if r.kind == "thumb" and r.content_hash:
                badges.setdefault(r.content_hash, []).append(
                    THUMB_BADGE.get(r.value, r.value) + note
                )
            elif r.kind == "rubric" and r.content_hash:
                badges.setdefault(r.content_hash, []).append(f"{r.criterion} {r.value}")
            elif r.kind == "correction" and r.content_hash:
                badges.setdefault(r.content_hash, []).append(CORRECTION_BADGE)
                corrections[r.content_hash] = r.value
            elif r.kind == "best" and r.content_hash:
                n = 1 + len(r.others or [])
                badges.setdefault(r.content_hash, []).append(f"[{BEST_BADGE} of {n}]{note}")
            elif r.kind == "pair" and r.content_hash and r.other_content_hash:
                strong = (r.strength or 1) == 2 and r.value in STRONG_BADGE
                verdict = (
                    {"a": "A≫B", "b": "B≫A"}[r.value]
                    if strong
                    else PAIR_BADGE.get(r.value, r.value)
                )
                text = f"[pair: {verdict}]{note}"
                badges.setdefault(r.content_hash, []).append(text)
                badges.setdefault(r.other_content_hash, []).append(text)
        marks = sorted(self._marks.get(self.prompt_index, []))
        for slot_index, pane in enumerate(self.panes()):
            record = records[slot_index] if slot_index < len(records) else None
            pane.set_title(self.pane_title(slot_index))
            badge = " ".join(badges.get(record.content_hash, [])) if record else ""
            if slot_index in marks:
                badge = f"◆{'AB'[marks.index(slot_index)]} {badge}".strip()
            pane.set_badge(badge)
            pane.set_blind(self.hiding)
            fixed = corrections.get(record.content_hash) if record else None
            pane.show_correction(
                None if record is None or fixed is None else (record.text, fixed), self._markers()
            )
        self.pane_grid.refresh_tabs([self.pane_title(i) for i in range(len(self.panes()))])
        if was_hiding != self.hiding:
            self._show_prompt_text()
            self.refresh_metrics()

    def _markers(self) -> bool:
        from genaicompare.app.screens.run_diff import _markers_by_default  # lazy: run diff's

        return _markers_by_default(self.app.theme or "")

    # -- blind / diff / prompt ------------------------------------------------------------------
    def action_toggle_blind(self) -> None:
        self.session.blind = not self.session.blind
        self.notify("blind mode on" if self.session.blind else "blind mode off", timeout=2)
        self.show_prompt(self.prompt_index)

    def action_toggle_diff(self) -> None:
        """The focused pane against another pane or the reference: chosen in a list when there
        is more than one, else at once."""
        slot = self.current_pane_slot()
        if slot is None:
            return
        choices: list[tuple[str, str, str]] = []  # key, title, text
        for i in range(len(self.order)):
            other = self.current_pane_slot(i)
            if i != self.current_slot and other is not None:
                text = other.record.text if other.record else "".join(other.parts)
                choices.append((str(i + 1), self.pane_title(i), text))
        if self.prompt.reference:
            choices.append(("r", "reference", self.prompt.reference))
        if not choices:
            self.notify("nothing to compare this pane with", severity="warning")
            return
        title = self.pane_title(self.current_slot)
        text = slot.record.text if slot.record else "".join(slot.parts)
        from genaicompare.app.screens.run_diff import _markers_by_default  # lazy: run diff's
        from genaicompare.app.screens.word_diff import DiffScreen, DiffTarget  # lazy

        markers = _markers_by_default(self.app.theme or "")

        def show(index: int | None) -> None:
            if index is not None:
                _key, left_title, left = choices[index]
                self.app.push_screen(DiffScreen(left_title, left, title, text, markers=markers))

        if len(choices) == 1:
            show(0)
        else:
            self.app.push_screen(DiffTarget(title, [(k, t) for k, t, _ in choices]), show)

    # -- metrics --------------------------------------------------------------------------------
    def refresh_metrics(self, live: bool = False) -> None:
        """Redraw the metrics table soon: at most twice a second (once for live metrics while
        streaming: a redraw re-renders every cell), and on the panes' repaint ticks, so that it
        shares their screen update instead of costing one of its own."""
        if self._metrics_timer is not None:
            return
        wait = max(0.0, self._metrics_drawn + (1.0 if live else 0.5) - time.perf_counter())
        self._metrics_timer = self.set_timer(wait + until_tick(wait), self._metrics_due)

    def _metrics_due(self) -> None:
        self._metrics_timer = None
        self._metrics_drawn = time.perf_counter()
        self._draw_metrics()

    def _draw_metrics(self) -> None:
        matrix = self.query_one(MetricsMatrix)
        matrix.keys = self.session.settings.matrix
        matrix.draw([self._metrics_row(i, pane) for i, pane in enumerate(self.panes())])

    def _metrics_row(self, slot_index: int, pane: ResponsePane) -> Column:
        """Pane ``slot_index``'s column of the metrics matrix."""
        from genaicompare.session.evaluation import metric_names  # lazy: the catalog's pydantic

        slot = self.current_pane_slot(slot_index)
        blind = self.letters() if self.hiding else None
        spec = self.models[self.order[slot_index]] if slot_index < len(self.order) else None
        service = getattr(self.session, "metrics_service", None)
        names = metric_names(self.prompt, None, service.names if service is not None else None)
        judge = self.session.catalog.judge
        return column(
            self.pane_title(slot_index) if blind is None else LETTERS[slot_index],
            slot,
            pane.chunks,
            self.prompt,
            blind=blind,
            local=spec is not None and spec.model.startswith("local/"),
            selected=sorted(names) if names is not None else None,
            judge_mode=judge.mode if judge is not None else None,
            models=len(self.models),
        )

    def action_metric_picker(self) -> None:
        """``M``: show, hide and order the matrix's rows; the choice goes to the config file."""
        from genaicompare.app.screens.metric_picker import MetricPicker
        from genaicompare.metrics import display  # lazy: numpy

        matrix = self.query_one(MetricsMatrix)

        def chosen(rows: list[str] | None) -> None:
            if rows is None:
                return
            app: Any = self.app
            app.settings = app.settings.model_copy(update={"matrix": rows})
            self.session.settings = app.settings
            app._save_settings(matrix=rows)
            self._draw_metrics()

        shown = self.session.settings.matrix or list(display.DEFAULT_ROWS)
        self.app.push_screen(
            MetricPicker(shown, display.KEYS, display.DEFAULT_ROWS, matrix.available), chosen
        )

    @on(ResponsePane.Progress)
    def _progress(self, event: ResponsePane.Progress) -> None:
        self._cheap_metrics(event.pane.slot)

    def _cheap_metrics(self, slot_index: int) -> None:
        slot = self.current_pane_slot(slot_index)
        if slot is None or self._metrics_busy or not self.prompt.reference:
            return
        # The live table is redrawn once a second: computing more often would be thrown away.
        now, key = time.perf_counter(), (slot.prompt_index, slot.alias)
        if now - self._cheap_at.get(key, 0.0) < 1.0:
            return
        self._cheap_at[key] = now
        self._metrics_busy = True
        text, reference = "".join(slot.parts), self.prompt.all_references
        metrics = self.session.metrics_service

        def job() -> None:
            values: dict[str, Any] = {}
            try:
                values = metrics.cheap(text, reference)
            finally:
                self._post_from_thread(MetricsReady(slot, values, live=True))

        _daemon(job)

    def _post_from_thread(self, message: Message) -> None:
        # The app may have quit while a metric was computing: then there is nothing to update.
        with contextlib.suppress(Exception):
            self.post_message(message)

    def compute_full_metrics(self, slot: Slot) -> None:
        """Heavy metrics on a daemon thread (once per answer; a model still loading never
        delays quitting). Nothing for an answer that is not stored (still streaming, failed
        before storing)."""
        record = slot.record
        if slot.full_metrics or record is None or record.id is None:
            return
        slot.full_metrics = True
        prompt = self.session.catalog.prompts[slot.prompt_index]
        others = {
            s.alias: s.record.text
            for (p, _), s in list(self.slots.items())
            if p == slot.prompt_index and s is not slot and s.record is not None
        }
        metrics = self.session.metrics_service

        def job() -> None:
            # In two steps: what loads no model at once (milliseconds), then the rest, which
            # waits for the embedding and safety models on first use (seconds).
            def first(values: dict[str, float | None]) -> None:
                self._post_from_thread(MetricsReady(slot, values, first=True))

            try:
                values = metrics.full(record, prompt, others, first)
            except Exception as exc:  # a metric failing must not take the UI down
                text = one_line(f"metrics failed: {type(exc).__name__}: {exc}", 200)
                self._post_from_thread(MetricsFailed(text))
                return
            self._post_from_thread(MetricsReady(slot, values))
            # The catalog's LLM judge after the other metrics (model calls: seconds). Pairwise
            # verdicts arrive with the prompt's last answer and land on every pane.
            try:
                judged = metrics.judge(record, prompt)
            except Exception as exc:
                text = one_line(f"judge failed: {type(exc).__name__}: {redact(str(exc))}", 200)
                self._post_from_thread(MetricsFailed(text))
                return
            if judged:
                self._post_from_thread(JudgeReady(slot.prompt_index, judged))

        _daemon(job)

    @on(MetricsReady)
    def _metrics_ready(self, event: MetricsReady) -> None:
        slot = event.slot
        if event.live:
            self._metrics_busy = False
            if event.values and slot.record is None:
                slot.metrics = {**slot.metrics, **event.values}
            self.refresh_metrics(live=True)
            return
        if event.first:
            if slot.metrics_arrived:  # the full metrics came first: nothing to add
                return
            slot.first_metrics = event.values
        else:
            slot.metrics = event.values
        if slot.prompt_index == self.prompt_index:
            self.refresh_metrics()

    @on(JudgeReady)
    def _judge_ready(self, event: JudgeReady) -> None:
        for alias, values in event.verdicts.items():
            target = self.slots.get((event.prompt_index, alias))
            if target is not None:
                target.metrics = {**target.metrics, **values}
        if event.prompt_index == self.prompt_index:
            self.refresh_metrics()

    @on(MetricsFailed)
    def _metrics_failed(self, event: MetricsFailed) -> None:
        self.notify(self.masked(event.text), severity="warning", markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One place for every background failure: a message in the UI, never a traceback."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                one_line(self.masked(f"{type(error).__name__}: {redact(str(error))}"), 300),
                title="failed",
                severity="error",
                markup=False,
            )

    # -- links, scores, export ------------------------------------------------------------------
    # By handler name, not @on(Markdown.LinkClicked): the screen does not import Markdown (≈0.1 s;
    # the panes mount it with their first finished answer).
    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        url = event.href

        def maybe_open(ok: bool | None) -> None:
            if ok:
                self.app.open_url(url)

        from genaicompare.app.screens.confirm_link import ConfirmLink  # lazy

        self.app.push_screen(ConfirmLink(url), maybe_open)

    def action_scores(self) -> None:
        if self.session.blind:  # the scores list model names: they would unblind the panes
            self.notify("the scores show model names: leave blind mode (B) first")
            return
        self._scores()

    @work(group="scores", exclusive=True, exit_on_error=False)
    async def _scores(self) -> None:
        title, columns, rows, note, charts = await asyncio.to_thread(self.session.scores_table)
        from genaicompare.app.screens.scores import ScoresScreen  # lazy: not on the first frame

        await self.app.push_screen(ScoresScreen(title, columns, rows, note, charts))

    def action_run_diff(self) -> None:
        if self.session.blind:  # the run diff lists model aliases: it would unblind the panes
            self.notify("the run diff shows model names: leave blind mode (B) first")
            return
        self._run_diff()

    @work(group="run-diff", exclusive=True, exit_on_error=False)
    async def _run_diff(self) -> None:
        from genaicompare.app.screens.run_diff import RunDiffScreen

        found = await asyncio.to_thread(self.session.latest_run_diff)
        if found is None:
            self.notify(
                "the run diff needs two headless runs of this catalog (genaicompare run CATALOG)",
                severity="warning",
            )
            return
        run_a, run_b, method, rows = found
        await self.app.push_screen(RunDiffScreen(rows, run_a, run_b, method))

    def action_export(self) -> None:
        from genaicompare.app.screens.export import ExportScreen  # lazy: not on the first frame

        self.app.push_screen(ExportScreen(self.session.catalog.name, self.session.export_format))


def _daemon(fn: Any) -> None:
    threading.Thread(target=fn, daemon=True, name="genaicompare-metrics").start()
