"""What an export holds, read from the database: each distinct answer of a catalog with its
prompt, metrics, and the ratings and preferences in force, narrowed by :class:`ExportFilters`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genaicompare.core.errors import KnownError
from genaicompare.ratings import Ratings

if TYPE_CHECKING:
    from genaicompare.store import Store


class ExportError(KnownError, ValueError):
    """A bad export request, or an export that could not be recorded (message is user-facing)."""


@dataclass
class ExportFilters:
    models: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    raters: list[str] = field(default_factory=list)
    since: str | None = None
    """ISO date or timestamp; ratings (and, for ``rated``, answers) created on or after it."""
    until: str | None = None
    """ISO date or timestamp; on or before it (a bare date includes that whole day)."""

    def _in_range(self, ts: str | None) -> bool:
        if ts is None:
            return self.since is None and self.until is None
        if self.since and ts < self.since:
            return False
        if self.until:
            bound = self.until + ("\uffff" if len(self.until) <= 10 else "")
            if ts > bound:
                return False
        return True


@dataclass
class _Answer:
    row: dict[str, Any]
    prompt: dict[str, Any]
    tags: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    thumbs: list[dict[str, Any]] = field(default_factory=list)
    prefs: list[dict[str, Any]] = field(default_factory=list)
    rubric: list[dict[str, Any]] = field(default_factory=list)
    """Rubric scores in force on this answer (kind ``rubric``), one per rater and criterion."""
    corrections: list[dict[str, Any]] = field(default_factory=list)
    """Corrections in force (kind ``correction``; the corrected text is ``value``)."""

    @property
    def label(self) -> str | None:
        ups = sum(t["value"] == "up" for t in self.thumbs)
        downs = sum(t["value"] == "down" for t in self.thumbs)
        if ups == downs:
            return None if not ups else "mixed"
        return "positive" if ups > downs else "negative"

    @property
    def messages(self) -> list[dict[str, str]]:
        return list(json.loads(self.row["messages"]))

    @property
    def ok(self) -> bool:
        return self.row["state"] in ("complete", "length")


def _load(
    store: Store, catalog: str, filters: ExportFilters, for_rated: bool
) -> tuple[list[_Answer], dict[str, Any]]:
    prompts: dict[str, tuple[dict[str, Any], str]] = {}
    version = None
    for r in store.query(
        "SELECT p.prompt_id, p.body, c.version FROM prompts p JOIN catalogs c "
        "ON c.id = p.catalog_id WHERE c.name = ? ORDER BY p.catalog_id, p.position",
        [catalog],
    ):
        prompts[r["prompt_id"]] = (json.loads(r["body"]), r["version"])  # newest version wins
        version = r["version"]
    rows = store.query(
        "SELECT * FROM responses WHERE catalog_id IN (SELECT id FROM catalogs WHERE name = ?) "
        "ORDER BY id",
        [catalog],
    )
    answers: dict[str, _Answer] = {}
    for row in rows:
        h = row["content_hash"]
        if h in answers:  # a re-run or cache replay of the same output: one line
            continue
        if filters.models and row["model_alias"] not in filters.models:
            continue
        body = prompts.get(row["prompt_id"], ({"id": row["prompt_id"]}, ""))[0]
        tags = [str(t) for t in body.get("tags", [])]
        if filters.tags and not set(filters.tags) & set(tags):
            continue
        if (
            for_rated
            and (filters.since or filters.until)
            and not filters._in_range(row["created_at"])
        ):
            continue
        answers[h] = _Answer(row=row, prompt=body, tags=tags)
    if answers:
        ids = [a.row["id"] for a in answers.values()]
        by_id = {a.row["id"]: a for a in answers.values()}
        for chunk in range(0, len(ids), 900):
            part = ids[chunk : chunk + 900]
            for m in store.query(
                f"SELECT response_id, name, value, detail FROM metrics WHERE response_id IN "
                f"({','.join('?' * len(part))}) ORDER BY name",
                part,
            ):
                by_id[m["response_id"]].metrics[m["name"]] = (
                    m["value"]
                    if m["value"] is not None
                    else (json.loads(m["detail"]) if m["detail"] else None)
                )
    for rating in Ratings(store, rater="-").current("r.catalog_name = ?", [catalog]):
        if filters.raters and rating.rater not in filters.raters:
            continue
        if (filters.since or filters.until) and not filters._in_range(rating.created_at):
            continue
        entry = rating.to_json()
        if rating.kind == "thumb" and rating.content_hash in answers:
            answers[rating.content_hash].thumbs.append(entry)
        elif rating.kind == "pair":
            for h in (rating.content_hash, rating.other_content_hash):
                if h in answers:
                    answers[h].prefs.append(entry)
        elif rating.kind == "rubric" and rating.content_hash in answers:
            answers[rating.content_hash].rubric.append(entry)
        elif rating.kind == "correction" and rating.content_hash in answers:
            answers[rating.content_hash].corrections.append(entry)
        elif rating.kind == "best":  # on the pick and on every answer it beat
            beaten = [o.get("content_hash") for o in rating.others or []]
            for h in (rating.content_hash, *beaten):
                if h in answers:
                    answers[h].prefs.append(entry)
    return list(answers.values()), {"version": version}
