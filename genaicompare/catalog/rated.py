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


def rated_header(
    catalog: str,
    version: str | None,
    models: list[dict[str, Any]],
    templates: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The header line: the catalog's name and version, the models that answered, and the
    templates the exported template prompts use."""
    header: dict[str, Any] = {
        "name": catalog,
        "version": version or "1",
        "description": f"genaicompare rated export of '{catalog}'",
    }
    if models:
        header["models"] = models
    if templates:
        header["templates"] = dict(sorted(templates.items()))
    return header


def templates_of(prompts: list[dict[str, Any]]) -> dict[str, str]:
    """The templates (name → text) that stored template prompts carry (``template_text``)."""
    out: dict[str, str] = {}
    for p in prompts:
        name, text = p.get("template"), p.get("template_text")
        if isinstance(name, str) and isinstance(text, str):
            out.setdefault(name, text)
    return out


def is_rated_header(obj: dict[str, Any]) -> bool:
    """Whether a line is a rated file's header (catalog keys), not an answer or a rating."""
    return "kind" not in obj and "rated" not in obj and "id" not in obj and "name" in obj


def catalog_line(prompt: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
    """The stored prompt as a JSONL catalog line accepts it (a template is exported rendered).

    ``messages`` are one answer's messages. A rendered prompt keeps only what belongs to the
    prompt: the system prompt the model (or the catalog's defaults) put first stays with the model
    in the header (:func:`model_system`), and the context block stays in ``context``, so the line
    renders for every model the messages that model was sent."""
    if "template" in prompt and "template_text" in prompt:
        # The template text came with the stored prompt: the line stays a template prompt (its
        # text in the header's ``templates``, :func:`templates_of`), so it renders the same
        # messages and the same template hash when the file is re-opened.
        return {k: v for k, v in prompt.items() if k != "template_text"}
    if "template" not in prompt and any(k in prompt for k in ("prompt", "messages")):
        return dict(prompt)
    rendered = [dict(m) for m in messages]
    if rendered and rendered[0].get("role") == "system":
        rendered = rendered[1:]  # the prompt's own system stays in "system"; else the model's
    passages = prompt.get("context")
    if passages:
        from genaicompare.catalog.model import context_block  # lazy: pydantic, off first paint

        block = context_block([passages] if isinstance(passages, str) else list(passages))
        for m in reversed(rendered):
            if m.get("role") == "user":
                if m["content"].startswith(block):
                    m["content"] = m["content"][len(block) :]
                break
    body: dict[str, Any] = {}
    for key, value in prompt.items():  # the order a catalog's prompt has: re-exports match
        if key == "template":
            body["messages"] = rendered
        elif key == "vars":
            body[key] = {}
        elif key == "few_shot":
            body[key] = []  # rendered into the messages
        elif key != "prompt":
            body[key] = value
    body.setdefault("messages", rendered)
    return body


def model_system(prompt: dict[str, Any], messages: list[dict[str, str]]) -> str | None:
    """The system prompt the model (or the catalog's defaults) gave this answer, if any: the
    leading system message, unless the prompt set its own."""
    if prompt.get("system") is not None:
        return None
    own = prompt.get("messages")
    if isinstance(own, list) and any(
        isinstance(m, dict) and m.get("role") == "system" for m in own
    ):
        return None
    if messages and messages[0].get("role") == "system":
        return messages[0].get("content")
    return None


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
    rubric: list[dict[str, Any]] | None = None,
    corrections: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One answer's line: ``prompt`` as a catalog line, and the answer (``row``, a stored
    response's columns) with its metrics, ratings and preferences under ``rated``.

    ``preferences`` are whole rating rows: A/B votes (kind ``pair``) with their ``strength``
    (2 = A≫B, 1 = A>B; absent on votes from before graded votes — read as 1), and best-of-N
    picks (kind ``best``, on the pick and on every answer it beat) with the ``others`` it beat
    and the ``pane_order`` shown. Readers take what they know and ignore the rest, so lines
    written before either existed load and import as they did.

    ``rubric`` (rubric score rows) adds ``rubric``: one field per criterion, the scores in force
    (one per rater: ``{"accuracy": [4, 5], "tone": ["pass"]}``; numeric scales as numbers), and
    the rows under ``rubric_ratings``; ``corrections`` (correction rows, the corrected text in
    ``value``) adds ``corrections``. Both are left out when there are none."""
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
    if rubric:
        per: dict[str, list[Any]] = {}
        for r in rubric:
            criterion = str(r.get("item", "")).split(":", 2)[-1]
            value = r.get("value")
            per.setdefault(criterion, []).append(
                int(value) if isinstance(value, str) and value.isdigit() else value
            )
        line["rated"]["rubric"] = dict(sorted(per.items()))
        line["rated"]["rubric_ratings"] = rubric
    if corrections:
        line["rated"]["corrections"] = corrections
    return line


def ratings_in(line: dict[str, Any]) -> list[Any]:
    """The rating rows (thumbs, then preferences) a rated line carries, as written."""
    rated = line["rated"]
    return [
        *rated.get("ratings", []),
        *rated.get("preferences", []),
        *rated.get("rubric_ratings", []),
        *rated.get("corrections", []),
    ]


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
