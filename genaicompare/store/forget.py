"""``forget``: delete a prompt's, a model's or a rater's rows so their text is gone from the file,
and name the earlier exports that still hold it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from genaicompare.store.migrations import rebuild_current
from genaicompare.store.style import refresh_styles

if TYPE_CHECKING:
    from genaicompare.store.database import Store


class ForgetError(ValueError):
    """A bad forget request (message is user-facing)."""


@dataclass
class ForgetResult:
    responses: int
    metrics: int
    ratings: int
    prompts: int
    exports: list[dict[str, Any]]
    """Earlier exports that contained deleted rows: their files still hold the text."""
    checkpointed: bool


def forget(
    store: Store, *, prompt: str | None = None, model: str | None = None, rater: str | None = None
) -> ForgetResult:
    """Delete a prompt's, a model's or a rater's rows so their text is gone from the file.

    ``secure_delete`` overwrites freed content with zeros, and a TRUNCATE checkpoint moves the
    change into the database file and empties the WAL (which held the old pages).
    """
    given = [x for x in (prompt, model, rater) if x is not None]
    if len(given) != 1:
        raise ForgetError("give exactly one of --prompt, --model or --rater")

    resp_params: list[Any]
    rating_params: list[Any]
    if prompt is not None:
        resp_where, resp_params = "prompt_id = ?", [prompt]
        rating_where, rating_params = "prompt_id = ?", [prompt]
    elif model is not None:
        resp_where, resp_params = "model_alias = ?", [model]
        rating_where = "(model_alias = ? OR other_model_alias = ?)"
        rating_params = [model, model]
    else:
        resp_where, resp_params = "0", []
        rating_where, rating_params = "rater = ?", [rater]

    def do(conn: sqlite3.Connection) -> tuple[list[int], int, int, int]:
        ids = [
            r[0] for r in conn.execute(f"SELECT id FROM responses WHERE {resp_where}", resp_params)
        ]
        n_metrics = n_ratings = 0
        hashes: set[str] = set()
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
            hashes.update(
                h
                for (h,) in conn.execute(
                    f"SELECT content_hash FROM responses WHERE id IN ({marks})", part
                )
            )
            n_metrics += conn.execute(
                f"DELETE FROM metrics WHERE response_id IN ({marks})", part
            ).rowcount
            n_ratings += conn.execute(
                f"DELETE FROM ratings WHERE response_id IN ({marks}) "
                f"OR other_response_id IN ({marks})",
                part + part,
            ).rowcount
            conn.execute(f"DELETE FROM responses WHERE id IN ({marks})", part)
        n_ratings += conn.execute(
            f"DELETE FROM ratings WHERE {rating_where}", rating_params
        ).rowcount
        # Retractions whose target is gone retract nothing.
        conn.execute(
            "DELETE FROM ratings WHERE kind = 'retract' AND value NOT IN (SELECT uid FROM ratings)"
        )
        # The style counts (and model) of a forgotten answer go with it.
        refresh_styles(conn, hashes)
        n_prompts = 0
        if prompt is not None:
            n_prompts = conn.execute("DELETE FROM prompts WHERE prompt_id = ?", [prompt]).rowcount
        rebuild_current(conn)
        return ids, n_metrics, n_ratings, n_prompts

    with store._lock:
        store.conn.execute("PRAGMA secure_delete = ON")
        try:
            ids, n_metrics, n_ratings, n_prompts = store.write(do)
        finally:
            store.conn.execute("PRAGMA secure_delete = OFF")
        busy, _log, _done = store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    exports = _exports_containing(store, set(ids), prompt, model, rater)
    return ForgetResult(
        responses=len(ids),
        metrics=n_metrics,
        ratings=n_ratings,
        prompts=n_prompts,
        exports=exports,
        checkpointed=busy == 0,
    )


def _exports_containing(
    store: Store, ids: set[int], prompt: str | None, model: str | None, rater: str | None
) -> list[dict[str, Any]]:
    out = []
    for e in store.query("SELECT * FROM exports ORDER BY id"):
        hit = bool(ids & set(json.loads(e["response_ids"] or "[]")))
        if prompt is not None and prompt in json.loads(e["prompt_ids"] or "[]"):
            hit = True
        if model is not None and model in json.loads(e["model_aliases"] or "[]"):
            hit = True
        if rater is not None and rater in json.loads(e["raters"] or "[]"):
            hit = True
        if hit:
            out.append(
                {
                    "id": e["id"],
                    "format": e["format"],
                    "path": e["path"],
                    "created_at": e["created_at"],
                    "lines": e["lines"],
                }
            )
    return out
