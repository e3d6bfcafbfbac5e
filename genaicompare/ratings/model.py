"""What a rating is: the thumb and preference vocabulary, the :class:`Rating` row, its item keys.

The vocabulary is defined here once; the app and the importers check values against it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Literal

Thumb = Literal["up", "down"]
Preference = Literal["a", "b", "tie", "both_bad"]
THUMBS: tuple[str, ...] = ("up", "down")
PREFERENCES: tuple[str, ...] = ("a", "b", "tie", "both_bad")
STRENGTHS: tuple[int, ...] = (1, 2)
"""A pair vote's strength: 1 (A>B) or 2 (A≫B, "much better"). Only a win can be strong; a row
stored before graded votes has none (NULL), read as 1."""
BEST = "best"
"""The value of a best-of-N pick (kind ``best``): the rated answer beat every other shown one."""
BEST_ITEM = "best"
"""A best-of-N pick's item: one per rater, catalog and prompt, so a later pick replaces it."""
RUBRIC: Literal["rubric"] = "rubric"
"""Kind of a rubric score: one catalog criterion (``rubric:``) scored on one answer; the value
is the point on the criterion's scale (``"4"``) or ``pass``/``fail``."""
CORRECTION: Literal["correction"] = "correction"
"""Kind of a correction: the rater's edited text of one answer (``e``); the value is the text."""
SIGNAL_KINDS: tuple[str, ...] = (RUBRIC, CORRECTION)
"""Kinds that are not votes: no battles, no κ table (their values are not its categories)."""


@dataclass(frozen=True)
class RatingContext:
    """What the UI showed when the rating was given (stored with the rating)."""

    rater: str | None = None
    catalog_name: str | None = None
    blind: bool = False
    pane_order: list[str] | None = None
    shuffle_seed: int | None = None
    time_to_rate_ms: float | None = None


def thumb_item(content_hash: str) -> str:
    return f"thumb:{content_hash}"


def rubric_item(content_hash: str, criterion: str) -> str:
    return f"rubric:{content_hash}:{criterion}"


def correction_item(content_hash: str) -> str:
    return f"correction:{content_hash}"


def pair_item(hash_a: str, hash_b: str) -> str:
    lo, hi = sorted((hash_a, hash_b))
    return f"pair:{lo}|{hi}"


@dataclass(frozen=True)
class Rating:
    """One stored rating row (a thumb, a preference, or a retraction)."""

    uid: str
    kind: Literal["thumb", "pair", "best", "rubric", "correction", "retract"]
    rater: str
    prompt_id: str
    value: str
    """``up``/``down`` (thumb); ``a``/``b``/``tie``/``both_bad`` (pair); ``best`` (best of N,
    the rated answer is the winner); a point of the criterion's scale or ``pass``/``fail``
    (rubric); the corrected text (correction); the retracted uid."""
    item: str
    created_at: str
    catalog_name: str | None = None
    response_id: int | None = None
    content_hash: str | None = None
    model_alias: str | None = None
    other_response_id: int | None = None
    other_content_hash: str | None = None
    other_model_alias: str | None = None
    comment: str | None = None
    blind: bool = False
    pane_order: list[str] | None = None
    shuffle_seed: int | None = None
    time_to_rate_ms: float | None = None
    strength: int | None = None
    """Pair votes: 2 for A≫B / B≫A, 1 otherwise (``None`` on rows from before graded votes)."""
    others: list[dict[str, Any]] | None = None
    """Best of N: the answers the winner beat, each ``{"response_id", "content_hash",
    "model_alias"}`` — N−1 battles from one judgement."""
    id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def criterion(self) -> str | None:
        """A rubric score's criterion (from its item ``rubric:<hash>:<criterion>``)."""
        if self.kind != RUBRIC:
            return None
        return self.item.split(":", 2)[2] if self.item.count(":") >= 2 else None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Rating:
        pane = row.get("pane_order")
        return cls(
            id=row.get("id"),
            uid=row["uid"],
            kind=row["kind"],
            rater=row["rater"],
            prompt_id=row["prompt_id"],
            value=row["value"],
            item=row.get("item") or "",
            created_at=row["created_at"],
            catalog_name=row.get("catalog_name"),
            response_id=row.get("response_id"),
            content_hash=row.get("content_hash"),
            model_alias=row.get("model_alias"),
            other_response_id=row.get("other_response_id"),
            other_content_hash=row.get("other_content_hash"),
            other_model_alias=row.get("other_model_alias"),
            comment=row.get("comment"),
            blind=bool(row.get("blind")),
            pane_order=(
                json.loads(pane)
                if isinstance(pane, str) and pane
                else list(pane)
                if isinstance(pane, list)
                else None
            ),
            shuffle_seed=row.get("shuffle_seed"),
            time_to_rate_ms=row.get("time_to_rate_ms"),
            strength=row.get("strength"),
            others=_json_list(row.get("others")),
        )

    def to_row(self) -> dict[str, Any]:
        # Shallow: dataclasses.asdict deep-copies every field (2/3 of an export's time on a
        # million answers); the lists below are re-encoded, the rest are immutable values.
        row = {name: getattr(self, name) for name in _ROW_FIELDS}
        row["blind"] = int(self.blind)
        row["pane_order"] = None if self.pane_order is None else json.dumps(self.pane_order)
        row["others"] = None if self.others is None else json.dumps(self.others)
        return row

    def to_json(self) -> dict[str, Any]:
        """Portable form (no database ids): what ``ratings export`` writes and ``import`` reads."""
        row = self.to_row()
        row.pop("response_id")
        row.pop("other_response_id")
        row["pane_order"] = self.pane_order
        row["blind"] = self.blind
        if self.others is None:
            row.pop("others")
        else:  # database ids mean nothing elsewhere
            row["others"] = [
                {k: v for k, v in o.items() if k != "response_id"} for o in self.others
            ]
        if self.strength is None:
            row.pop("strength")
        return row


_ROW_FIELDS = tuple(f.name for f in fields(Rating) if f.name not in ("extra", "id"))


def _json_list(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, str) and value:
        value = json.loads(value)
    return [dict(v) for v in value] if isinstance(value, list) else None


_COLUMNS = [
    "uid",
    "kind",
    "rater",
    "prompt_id",
    "value",
    "item",
    "created_at",
    "catalog_name",
    "response_id",
    "content_hash",
    "model_alias",
    "other_response_id",
    "other_content_hash",
    "other_model_alias",
    "comment",
    "blind",
    "pane_order",
    "shuffle_seed",
    "time_to_rate_ms",
    "strength",
    "others",
]
_INSERT = f"INSERT INTO ratings ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
_INSERT_OR_IGNORE = _INSERT.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)


class RatingError(ValueError):
    """A rating that cannot be recorded (bad value, unknown response); message is user-facing."""
