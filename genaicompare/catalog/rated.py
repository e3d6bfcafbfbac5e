"""The ``rated`` JSONL format, in one place: written by exports, read by the catalog and ratings.

A rated file is a JSONL catalog: a header line (catalog keys), then one line per prompt × answer
holding the prompt's own catalog fields plus everything about the answer under one ``rated`` key
(model, params, output, state, metrics, every rating and preference in force, and a label). So
the file loads back as a catalog (:func:`fold_rated_prompts`), and its ratings import into another
database (:func:`ratings_in`). Plain dicts only: this module imports nothing but the standard
library, so the JSONL reader can use it on the first paint's path.
"""

from __future__ import annotations

from typing import Any


def rated_header(catalog: str, version: str | None, models: list[dict[str, Any]]) -> dict[str, Any]:
    """The header line: the catalog's name and version, and the models that answered."""
    header: dict[str, Any] = {
        "name": catalog,
        "version": version or "1",
        "description": f"genaicompare rated export of '{catalog}'",
    }
    if models:
        header["models"] = models
    return header


def is_rated_header(obj: dict[str, Any]) -> bool:
    """Whether a line is a rated file's header (catalog keys), not an answer or a rating."""
    return "kind" not in obj and "rated" not in obj and "id" not in obj and "name" in obj


def catalog_line(prompt: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    """The stored prompt as a JSONL catalog line accepts it (a template is exported rendered)."""
    body = dict(prompt)
    if "template" in body or not any(k in body for k in ("prompt", "messages")):
        body.pop("template", None)
        body.pop("vars", None)
        body.pop("system", None)
        body.pop("few_shot", None)
        body.pop("prompt", None)
        body["messages"] = messages
    return body


def rated_line(
    prompt: dict[str, Any],
    messages: list[dict[str, str]],
    row: dict[str, Any],
    *,
    catalog: str,
    version: str | None,
    params: dict[str, Any],
    metrics: dict[str, Any],
    ratings: list[dict[str, Any]],
    preferences: list[dict[str, Any]],
    label: str | None,
) -> dict[str, Any]:
    """One answer's line: ``prompt`` as a catalog line, and the answer (``row``, a stored
    response's columns) with its metrics, ratings and preferences under ``rated``."""
    line = catalog_line(prompt, messages)
    line["rated"] = {
        "catalog": {"name": catalog, "version": version},
        "template_hash": row["template_hash"],
        "messages": messages,
        "model_alias": row["model_alias"],
        "model": row["model"],
        "params": params,
        "output": row["text"],
        "state": row["state"],
        "finish_reason": row["finish_reason"],
        "content_hash": row["content_hash"],
        "response_id": row["id"],
        "run_id": row["run_id"],
        "latency_ms": row["latency_ms"],
        "ttft_ms": row["ttft_ms"],
        "cost_usd": row["cost_usd"],
        "metrics": metrics,
        "ratings": ratings,
        "preferences": preferences,
        "label": label,
    }
    return line


def ratings_in(line: dict[str, Any]) -> list[Any]:
    """The rating rows (thumbs, then preferences) a rated line carries, as written."""
    rated = line["rated"]
    return [*rated.get("ratings", []), *rated.get("preferences", [])]


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
