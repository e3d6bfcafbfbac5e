"""What background work hands back to the main screen (toolong's ``messages.py``, harlequin's).

A thread computes, then posts one of these; the screen's ``@on`` handler changes slots and
widgets on the UI thread. No thread touches widget or slot state itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    from genaicompare.session.slots import Slot


@dataclass
class MetricsReady(Message):
    """An answer's metrics: ``live`` ones (cheap, from the text so far) merge into the slot
    while it streams; the full ones, computed once it is stored, replace them. ``first``: the
    finished answer's metrics that load no model, shown while the full ones compute."""

    slot: Slot
    values: dict[str, Any]
    live: bool = False
    first: bool = False

    def can_replace(self, message: Message) -> bool:
        # Live metrics of a slot are superseded by newer ones (a burst becomes one redraw).
        return (
            self.live
            and isinstance(message, MetricsReady)
            and message.live
            and message.slot is self.slot
        )


@dataclass
class JudgeReady(Message):
    """The LLM judge's verdicts on a prompt's answers, by model alias (pairwise ones arrive with
    the prompt's last answer and land on every pane)."""

    prompt_index: int
    verdicts: dict[str, dict[str, Any]]


@dataclass
class MetricsFailed(Message):
    """A metric or the judge failed: a warning, never a traceback."""

    text: str


@dataclass
class RatingSaved(Message):
    """A rating was committed (only now does the user see it)."""

    kind: str
    value: str
    rating: Any
    prompt_index: int
    note: str | None = None
    """Something the rater should know about the vote (e.g. the two answers are identical)."""


@dataclass
class RatingFailed(Message):
    """A rating was refused (a failed or forgotten answer): said in the UI, nothing stored."""

    text: str


@dataclass
class PendingRatingsSaved(Message):
    """Ratings that were pending (the database was locked) reached the disk."""

    count: int
