"""Exports: rated answers, and SFT / DPO / KTO training data, as JSON lines; and ``forget``.

* ``rated`` — one line per prompt × answer: the catalog prompt's own fields (so the file loads
  back as a JSONL catalog, after a header line) plus everything else under one ``rated`` key:
  model, params, output, state, metrics, every rating and preference in force, and a label.
* ``sft`` — OpenAI chat fine-tuning lines ``{"messages": [...]}`` from thumbs-up answers.
* ``dpo`` — TRL conversational ``{"prompt", "chosen", "rejected"}`` from A/B preferences and
  up/down pairs on one prompt; ``openai=True`` gives OpenAI's preference fine-tuning shape.
* ``kto`` — TRL conversational ``{"prompt", "completion", "label"}`` from thumbs.

Writes are atomic (temporary file in the target folder, fsync, rename, fsync of the folder).
Every string round-trips: JSON escapes what must be escaped, and U+2028/U+2029/U+0085 and lone
surrogates are written as ``\\uXXXX`` so no line-splitter sees a line break inside a record.
Each export is recorded in the ``exports`` table, so :func:`forget` can name the files that still
hold text it deletes from the database.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from genaicompare.core.files import dumps_line, write_atomic

if TYPE_CHECKING:  # the catalog loader imports fold_rated_prompts: keep this module light
    from genaicompare.store import Store

FORMATS = ("rated", "sft", "dpo", "kto")


class ExportError(ValueError):
    """A bad export request (message is user-facing)."""


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
class ExportResult:
    format: str
    path: str | None
    lines: int
    export_id: int
    response_ids: list[int]


# -- reading the database ------------------------------------------------------------------------
@dataclass
class _Answer:
    row: dict[str, Any]
    prompt: dict[str, Any]
    tags: list[str]
    metrics: dict[str, Any] = field(default_factory=dict)
    thumbs: list[dict[str, Any]] = field(default_factory=list)
    prefs: list[dict[str, Any]] = field(default_factory=list)

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
    from genaicompare.ratings import Ratings

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
    return list(answers.values()), {"version": version}


# -- shaping -------------------------------------------------------------------------------------
def _catalog_prompt(a: _Answer) -> dict[str, Any]:
    """The prompt as a JSONL catalog line accepts it (a template is exported rendered)."""
    body = dict(a.prompt)
    if "template" in body or not any(k in body for k in ("prompt", "messages")):
        body.pop("template", None)
        body.pop("vars", None)
        body.pop("system", None)
        body.pop("few_shot", None)
        body.pop("prompt", None)
        body["messages"] = a.messages
    return body


def _rated_line(a: _Answer, catalog: str, version: str | None) -> dict[str, Any]:
    row = a.row
    line = _catalog_prompt(a)
    line["rated"] = {
        "catalog": {"name": catalog, "version": version},
        "template_hash": row["template_hash"],
        "messages": a.messages,
        "model_alias": row["model_alias"],
        "model": row["model"],
        "params": json.loads(row["params"] or "{}"),
        "output": row["text"],
        "state": row["state"],
        "finish_reason": row["finish_reason"],
        "content_hash": row["content_hash"],
        "response_id": row["id"],
        "run_id": row["run_id"],
        "latency_ms": row["latency_ms"],
        "ttft_ms": row["ttft_ms"],
        "cost_usd": row["cost_usd"],
        "metrics": a.metrics,
        "ratings": a.thumbs,
        "preferences": a.prefs,
        "label": a.label,
    }
    return line


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _dpo_pairs(answers: list[_Answer]) -> Iterator[tuple[_Answer, _Answer, str]]:
    """(chosen, rejected, source) once per ordered pair: A/B votes first, then up/down pairs."""
    by_hash = {a.row["content_hash"]: a for a in answers}
    seen: set[tuple[str, str]] = set()
    for a in answers:
        for p in a.prefs:
            if p["content_hash"] != a.row["content_hash"] or p["value"] not in ("a", "b"):
                continue
            other = by_hash.get(p["other_content_hash"])
            if other is None or not (a.ok and other.ok):
                continue
            chosen, rejected = (a, other) if p["value"] == "a" else (other, a)
            key = (chosen.row["content_hash"], rejected.row["content_hash"])
            if key not in seen and key[::-1] not in seen:
                seen.add(key)
                yield chosen, rejected, "preference"
    by_prompt: dict[str, list[_Answer]] = {}
    for a in answers:
        if a.ok:
            by_prompt.setdefault(a.row["prompt_id"], []).append(a)
    for group in by_prompt.values():
        good = [a for a in group if a.label == "positive"]
        bad = [a for a in group if a.label == "negative"]
        for g in good:
            for b in bad:
                key = (g.row["content_hash"], b.row["content_hash"])
                if key not in seen and key[::-1] not in seen:
                    seen.add(key)
                    yield g, b, "thumbs"


def _lines(
    fmt: str, answers: list[_Answer], catalog: str, version: str | None, openai: bool
) -> Iterator[tuple[dict[str, Any], list[_Answer]]]:
    if fmt == "rated":
        for a in answers:
            yield _rated_line(a, catalog, version), [a]
    elif fmt == "sft":
        for a in answers:
            if a.ok and a.label == "positive":
                yield {"messages": a.messages + _assistant(a.row["text"])}, [a]
    elif fmt == "kto":
        for a in answers:
            if a.ok and a.label in ("positive", "negative"):
                yield (
                    {
                        "prompt": a.messages,
                        "completion": _assistant(a.row["text"]),
                        "label": a.label == "positive",
                    },
                    [a],
                )
    elif fmt == "dpo":
        for chosen, rejected, _source in _dpo_pairs(answers):
            if openai:
                yield (
                    {
                        "input": {"messages": chosen.messages},
                        "preferred_output": _assistant(chosen.row["text"]),
                        "non_preferred_output": _assistant(rejected.row["text"]),
                    },
                    [chosen, rejected],
                )
            else:
                yield (
                    {
                        "prompt": chosen.messages,
                        "chosen": _assistant(chosen.row["text"]),
                        "rejected": _assistant(rejected.row["text"]),
                    },
                    [chosen, rejected],
                )


def _pii_redactor() -> Callable[[str], str]:
    try:
        from genaicompare.metrics.pii import find_pii
    except ImportError as exc:
        raise ExportError(
            f"--redact-pii needs the PII detector (genaicompare.metrics.pii): {exc}"
        ) from None

    def redact(text: str) -> str:
        spans = find_pii(text)
        for s in reversed(spans):
            text = text[: s.start] + f"[{s.type.upper()}]" + text[s.end :]
        return text

    return redact


def _without(secrets: tuple[str, ...]) -> Callable[[str], str]:
    from genaicompare.core.sanitize import REDACTED

    def strip(text: str) -> str:
        for value in secrets:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    return strip


def _map_strings(obj: Any, fn: Callable[[str], str], skip: frozenset[str]) -> Any:
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, list):
        return [_map_strings(v, fn, skip) for v in obj]
    if isinstance(obj, dict):
        return {k: (v if k in skip else _map_strings(v, fn, skip)) for k, v in obj.items()}
    return obj


# Identifiers and hashes are not free text; masking them would break joins, not hide PII.
_NOT_TEXT = frozenset(
    {
        "id",
        "uid",
        "item",
        "content_hash",
        "other_content_hash",
        "rater",
        "model",
        "model_alias",
        "other_model_alias",
        "state",
        "finish_reason",
        "template_hash",
        "created_at",
        "value",
        "kind",
        "catalog_name",
        "role",
        "label",
        "task",
        "segment",
        "tags",
    }
)


def export(
    store: Store,
    catalog: str,
    fmt: str = "rated",
    output: str | Path = "-",
    *,
    openai: bool = False,
    filters: ExportFilters | None = None,
    redact_pii: bool = False,
    stdout: IO[str] | None = None,
) -> ExportResult:
    """Write one export and record it. ``output`` ``"-"`` writes to ``stdout``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if openai and fmt != "dpo":
        raise ExportError("--openai applies to --format dpo (sft is already OpenAI's format)")
    filters = filters or ExportFilters()
    redact = _pii_redactor() if redact_pii else None
    answers, meta = _load(store, catalog, filters, for_rated=fmt == "rated")
    from genaicompare.core.sanitize import secret_values

    # A model can echo a key it saw: the values of credential-like environment variables never
    # reach an export. (Key-shaped patterns are left alone: they would alter legitimate text.)
    secrets = secret_values()
    used: dict[int, _Answer] = {}

    def produce() -> Iterator[str]:
        if fmt == "rated":
            header: dict[str, Any] = {
                "name": catalog,
                "version": meta["version"] or "1",
                "description": f"genaicompare rated export of '{catalog}'",
            }
            from genaicompare.core.sanitize import redact as redact_keys

            models: dict[str, dict[str, Any]] = {}
            for a in answers:
                spec = {
                    "id": a.row["model_alias"],
                    "model": a.row["model"],
                    "params": json.loads(a.row["params"] or "{}"),
                }
                if a.row["api_base"]:
                    # The endpoint makes the file runnable again; a key in its URL never leaves.
                    spec["api_base"] = redact_keys(a.row["api_base"])
                models.setdefault(a.row["model_alias"], spec)
            if models:
                header["models"] = list(models.values())
            yield dumps_line(header)
        for obj, parts in _lines(fmt, answers, catalog, meta["version"], openai):
            for a in parts:
                used[a.row["id"]] = a
            if redact is not None:
                obj = _map_strings(obj, redact, _NOT_TEXT)
            if secrets:
                obj = _map_strings(obj, _without(secrets), frozenset())
            yield dumps_line(obj)

    target: str | None
    if str(output) == "-":
        out = stdout or sys.stdout
        n = sum(out.write(line + "\n") >= 0 for line in produce())
        out.flush()
        target = None
    else:
        path = Path(output).expanduser()
        if path.is_dir():
            raise ExportError(f"{path} is a folder; give a file name")
        if not path.parent.exists():
            raise ExportError(f"{path.parent}: no such folder")
        n = write_atomic(path, produce())
        target = str(path.resolve())
    if fmt == "rated":
        n -= 1  # the header line is not a record
    from genaicompare.store import now_iso

    chosen = list(used.values())
    raters = sorted({r["rater"] for a in chosen for r in (*a.thumbs, *a.prefs)})
    row = {
        "format": fmt + (" (openai)" if openai else "") + (" redacted" if redact else ""),
        "path": target,
        "filters": json.dumps(asdict(filters), sort_keys=True),
        "response_ids": json.dumps(sorted(used)),
        "run_ids": json.dumps(sorted({a.row["run_id"] for a in chosen if a.row["run_id"]})),
        "created_at": now_iso(),
        "database": str(store.path.resolve()),
        "catalog_name": catalog,
        "prompt_ids": json.dumps(sorted({a.row["prompt_id"] for a in chosen})),
        "model_aliases": json.dumps(sorted({a.row["model_alias"] for a in chosen})),
        "raters": json.dumps(raters),
        "lines": n,
    }

    def record(conn: sqlite3.Connection) -> int:
        cols = ", ".join(row)
        cur = conn.execute(
            f"INSERT INTO exports ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        return int(cur.lastrowid or 0)

    export_id = store.write(record)
    return ExportResult(
        format=fmt, path=target, lines=n, export_id=export_id, response_ids=sorted(used)
    )


def fold_rated_prompts(prompts: list[Any], positions: list[int]) -> tuple[list[Any], list[int]]:
    """For the JSONL catalog loader: a ``rated`` export repeats a prompt once per answer and
    carries a ``rated`` key. Drop the key and keep each id's first line (and its position)."""
    out: list[Any] = []
    where: list[int] = []
    seen: set[Any] = set()
    for obj, pos in zip(prompts, positions, strict=True):
        if isinstance(obj, dict) and "rated" in obj:
            obj = {k: v for k, v in obj.items() if k != "rated"}
            key = obj.get("id")
            if key in seen:
                continue
            seen.add(key)
        out.append(obj)
        where.append(pos)
    return out, where


# -- forget --------------------------------------------------------------------------------------
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
        raise ExportError("give exactly one of --prompt, --model or --rater")
    from genaicompare.ratings import rebuild_current

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
        for start in range(0, len(ids), 900):
            part = ids[start : start + 900]
            marks = ",".join("?" * len(part))
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
