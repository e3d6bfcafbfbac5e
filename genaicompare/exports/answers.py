"""What an export holds, read from the database: each distinct answer of a catalog with its
prompt, metrics, and the ratings and preferences in force, narrowed by :class:`ExportFilters`
(:class:`Selection`: chosen in SQLite, read in batches, so memory does not grow with the
database)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genaicompare.catalog.rated import model_system
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


_BATCH = 1000
"""Answers read per query: the export holds one batch (and its ratings) at a time."""
_tables = itertools.count(1)


class Selection:
    """The answers one export holds, chosen in the database and read in batches.

    Chosen once, in two temporary tables of the store's connection: the catalog's prompts (the
    newest version of each, and whether the tag filter keeps it) and the first answer of each
    distinct output (content hash) that the filters keep. :meth:`answers` then reads them
    :data:`_BATCH` at a time, each batch with its metrics and the ratings in force on it, so an
    export of a million answers holds one batch in memory, not the million (issue 17).
    """

    def __init__(self, store: Store, catalog: str, filters: ExportFilters, for_rated: bool):
        self.store, self.catalog, self.filters = store, catalog, filters
        n = next(_tables)
        self._answers, self._prompts = f"ex_answer_{n}", f"ex_prompt_{n}"
        self.version: str | None = None
        self._grouped = False
        self._kinds: list[str] = []
        self._choose_prompts()
        self._choose_answers(for_rated)

    # -- choosing -------------------------------------------------------------------------------
    def _choose_prompts(self) -> None:
        tags = set(self.filters.tags)
        self.store.temp(
            f"CREATE TEMP TABLE {self._prompts} "
            "(prompt_id TEXT PRIMARY KEY, body TEXT NOT NULL, allowed INTEGER NOT NULL)"
        )
        last = 0
        while True:
            rows = self.store.query(
                "SELECT p.id, p.prompt_id, p.body, c.version FROM prompts p JOIN catalogs c "
                "ON c.id = p.catalog_id WHERE c.name = ? AND p.id > ? ORDER BY p.id LIMIT 5000",
                [self.catalog, last],
            )
            if not rows:
                return
            values = []
            for r in rows:
                allowed = True
                if tags:
                    body = json.loads(r["body"])
                    allowed = bool(tags & {str(t) for t in body.get("tags", [])})
                values.append((r["prompt_id"], r["body"], int(allowed)))
                self.version = r["version"]  # the newest catalog version's (ids grow with it)
            # A later catalog version's prompt replaces the earlier one: newest wins.
            self.store.temp_many(f"INSERT OR REPLACE INTO {self._prompts} VALUES (?, ?, ?)", values)
            last = rows[-1]["id"]

    def _choose_answers(self, for_rated: bool) -> None:
        f = self.filters
        where = ["r.catalog_id IN (SELECT id FROM catalogs WHERE name = ?)"]
        params: list[Any] = [self.catalog]
        if f.models:
            where.append(f"r.model_alias IN ({','.join('?' * len(f.models))})")
            params += f.models
        if f.tags:
            where.append(f"r.prompt_id IN (SELECT prompt_id FROM {self._prompts} WHERE allowed)")
        if for_rated and f.since:
            where.append("r.created_at >= ?")
            params.append(f.since)
        if for_rated and f.until:
            where.append("r.created_at <= ?")
            params.append(f.until + ("\uffff" if len(f.until) <= 10 else ""))
        self.store.temp(
            f"CREATE TEMP TABLE {self._answers} "
            "(id INTEGER PRIMARY KEY, prompt_id TEXT NOT NULL, first INTEGER)"
        )
        # A re-run or cache replay of the same output is one line: its first answer (lowest id)
        # among those the filters keep.
        self.store.temp(
            f"INSERT INTO {self._answers} (id, prompt_id) SELECT MIN(r.id), r.prompt_id "
            f"FROM responses r WHERE {' AND '.join(where)} GROUP BY r.content_hash",
            params,
        )
        self.store.temp(f"CREATE INDEX {self._answers}_prompt ON {self._answers}(prompt_id, id)")

    def close(self) -> None:
        for table in (self._answers, self._prompts, *self._kinds):
            self.store.temp(f"DROP TABLE IF EXISTS temp.{table}")

    def __enter__(self) -> Selection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------
    def _rated_with(self, kind: str) -> str:
        """A temporary table of the outputs that have a rating of ``kind`` in force (made once)."""
        table = f"{self._answers}_{kind}"
        if table not in self._kinds:
            self.store.temp(f"CREATE TEMP TABLE {table} (content_hash TEXT PRIMARY KEY)")
            self.store.temp(
                f"INSERT OR IGNORE INTO {table} SELECT r.content_hash FROM ratings_current c "
                "JOIN ratings r ON r.id = c.rating_id WHERE r.catalog_name = ? AND r.kind = ? "
                "AND r.content_hash IS NOT NULL",
                [self.catalog, kind],
            )
            self._kinds.append(table)
        return table

    def answers(self, by_prompt: bool = False, rated: str | None = None) -> Iterator[_Answer]:
        """Every chosen answer, in id order, or (``by_prompt``) grouped by prompt — the prompts in
        the order of their first answer — each with its metrics and ratings in force. ``rated``
        (``thumb``, ``correction``): only the answers with a rating of that kind in force (a
        pass for the few corrected answers reads those, not the million)."""
        if by_prompt and not self._grouped:
            a = self._answers
            self.store.temp(
                f"UPDATE {a} SET first = (SELECT MIN(id) FROM {a} t WHERE t.prompt_id = {a}.prompt_id)"
            )
            self.store.temp(f"CREATE INDEX {a}_first ON {a}(first, id)")
            self._grouped = True
        key: tuple[int, ...] = (-1, -1) if by_prompt else (-1,)
        select = (
            f"SELECT r.*, p.body AS _body, e.first AS _first FROM {self._answers} e "
            f"JOIN responses r ON r.id = e.id LEFT JOIN {self._prompts} p "
            "ON p.prompt_id = r.prompt_id "
        )
        if rated is not None:
            select += (
                f"WHERE r.content_hash IN (SELECT content_hash FROM {self._rated_with(rated)}) AND "
            )
        else:
            select += "WHERE "
        while True:
            if by_prompt:
                rows = self.store.query(
                    select + "(e.first, e.id) > (?, ?) ORDER BY e.first, e.id LIMIT ?",
                    [*key, _BATCH],
                )
            else:
                rows = self.store.query(select + "e.id > ? ORDER BY e.id LIMIT ?", [*key, _BATCH])
            if not rows:
                return
            key = (rows[-1]["_first"], rows[-1]["id"]) if by_prompt else (rows[-1]["id"],)
            bodies: dict[str, dict[str, Any]] = {}  # one prompt's answers share its parsed body
            batch = [_answer(row, bodies) for row in rows]
            self._attach(batch)
            yield from batch

    def groups(self) -> Iterator[list[_Answer]]:
        """The chosen answers of each prompt, a prompt at a time (see :meth:`answers`)."""
        group: list[_Answer] = []
        for a in self.answers(by_prompt=True):
            if group and a.row["prompt_id"] != group[0].row["prompt_id"]:
                yield group
                group = []
            group.append(a)
        if group:
            yield group

    def _attach(self, batch: list[_Answer]) -> None:
        by_id = {a.row["id"]: a for a in batch}
        ids = list(by_id)
        for chunk in range(0, len(ids), 900):
            part = ids[chunk : chunk + 900]
            for m in self.store.query(
                f"SELECT response_id, name, value, detail FROM metrics WHERE response_id IN "
                f"({','.join('?' * len(part))}) ORDER BY name",
                part,
            ):
                by_id[m["response_id"]].metrics[m["name"]] = (
                    m["value"]
                    if m["value"] is not None
                    else (json.loads(m["detail"]) if m["detail"] else None)
                )
        by_hash = {a.row["content_hash"]: a for a in batch}
        hashes = list(by_hash)
        prompts = sorted({a.row["prompt_id"] for a in batch})
        ratings = Ratings(self.store, rater="-")
        found: dict[int, Any] = {}
        for chunk in range(0, len(hashes), 400):
            part = hashes[chunk : chunk + 400]
            marks = ",".join("?" * len(part))
            for rating in ratings.current(
                f"r.catalog_name = ? AND (r.content_hash IN ({marks}) "
                f"OR r.other_content_hash IN ({marks}))",
                [self.catalog, *part, *part],
            ):
                found[rating.id or 0] = rating
        for chunk in range(0, len(prompts), 900):
            part = prompts[chunk : chunk + 900]
            # A best-of-N pick also counts on every answer it beat (its ``others``).
            for rating in ratings.current(
                f"r.catalog_name = ? AND r.kind = 'best' AND r.prompt_id IN "
                f"({','.join('?' * len(part))})",
                [self.catalog, *part],
            ):
                found[rating.id or 0] = rating
        f = self.filters
        for _, rating in sorted(found.items()):
            if f.raters and rating.rater not in f.raters:
                continue
            if (f.since or f.until) and not f._in_range(rating.created_at):
                continue
            entry = rating.to_json()
            if rating.kind == "thumb" and rating.content_hash in by_hash:
                by_hash[rating.content_hash].thumbs.append(entry)
            elif rating.kind == "pair":
                for h in (rating.content_hash, rating.other_content_hash):
                    if h in by_hash:
                        by_hash[h].prefs.append(entry)
            elif rating.kind == "rubric" and rating.content_hash in by_hash:
                by_hash[rating.content_hash].rubric.append(entry)
            elif rating.kind == "correction" and rating.content_hash in by_hash:
                by_hash[rating.content_hash].corrections.append(entry)
            elif rating.kind == "best":  # on the pick and on every answer it beat
                beaten = [o.get("content_hash") for o in rating.others or []]
                for h in (rating.content_hash, *beaten):
                    if h in by_hash:
                        by_hash[h].prefs.append(entry)

    # -- the rated file's header ------------------------------------------------------------------
    def header_facts(self) -> tuple[list[dict[str, Any]], dict[str, str], list[dict[str, Any]]]:
        """(each model as it first answered, each model's system prompt
        (:func:`genaicompare.catalog.rated.model_system` of its first answer that has one), the
        template prompts), read in pages: an answer's messages and prompt are fetched only while
        its model has no system prompt yet and the messages start with one."""
        models: dict[str, dict[str, Any]] = {}
        systems: dict[str, str] = {}
        last = -1
        while True:
            found = sorted(systems)
            not_found = f"r.model_alias NOT IN ({','.join('?' * len(found))}) AND " if found else ""
            rows = self.store.query(
                "SELECT e.id, r.model_alias, r.model, r.params, r.api_base, CASE WHEN "
                f"{not_found}json_extract(r.messages, '$[0].role') = 'system' "
                "THEN r.messages END AS messages, p.body "
                f"FROM {self._answers} e JOIN responses r ON r.id = e.id "
                f"LEFT JOIN {self._prompts} p ON p.prompt_id = r.prompt_id "
                "WHERE e.id > ? ORDER BY e.id LIMIT 5000",
                [*found, last],
            )
            if not rows:
                break
            last = rows[-1]["id"]
            for r in rows:
                alias = r["model_alias"]
                models.setdefault(alias, r)
                if r["messages"] is not None and alias not in systems:
                    body = json.loads(r["body"]) if r["body"] else {}
                    system = model_system(body, json.loads(r["messages"]))
                    if system is not None:
                        systems[alias] = system
        templates = [
            json.loads(r["body"])
            for r in self.store.query(
                "SELECT body FROM (SELECT p.body, (SELECT MIN(e.id) FROM "
                f"{self._answers} e WHERE e.prompt_id = p.prompt_id) AS first FROM "
                f"{self._prompts} p WHERE json_extract(p.body, '$.template_text') IS NOT NULL) "
                "WHERE first IS NOT NULL ORDER BY first"
            )
        ]
        return list(models.values()), systems, templates


def _answer(row: dict[str, Any], bodies: dict[str, dict[str, Any]]) -> _Answer:
    raw = row.pop("_body")
    row.pop("_first", None)
    body = bodies.get(row["prompt_id"])
    if body is None:
        body = json.loads(raw) if raw is not None else {"id": row["prompt_id"]}
        bodies[row["prompt_id"]] = body
    return _Answer(row=row, prompt=body, tags=[str(t) for t in body.get("tags", [])])
