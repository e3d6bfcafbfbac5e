"""The ``rated`` export: one line per prompt × answer, in :mod:`genaicompare.catalog.rated`'s
format, after a header naming the catalog and the models that answered (so the file loads back as
a JSONL catalog and can be run again)."""

from __future__ import annotations

import json
from typing import Any

from genaicompare.catalog.rated import model_system, rated_header, rated_line, templates_of
from genaicompare.core.sanitize import redact as redact_keys
from genaicompare.exports.answers import _Answer


def _rated_header(answers: list[_Answer], catalog: str, version: str | None) -> dict[str, Any]:
    """The models as they answered: alias, model, params and their own system prompt (read from
    the messages each answer was generated from), so the file re-opens as the same experiment."""
    models: dict[str, dict[str, Any]] = {}
    systems: dict[str, str] = {}
    for a in answers:
        alias = a.row["model_alias"]
        spec = {"id": alias, "model": a.row["model"], "params": json.loads(a.row["params"] or "{}")}
        if a.row["api_base"]:
            # The endpoint makes the file runnable again; a key in its URL never leaves.
            spec["api_base"] = redact_keys(a.row["api_base"])
        models.setdefault(alias, spec)
        system = model_system(a.prompt, a.messages)
        if system is not None:
            systems.setdefault(alias, system)
    for alias, system in systems.items():
        models[alias]["system"] = system
    templates = templates_of([a.prompt for a in answers])
    return rated_header(catalog, version, list(models.values()), templates)


def _rated_line(a: _Answer, catalog: str, version: str | None) -> dict[str, Any]:
    return rated_line(
        a.prompt,
        a.messages,
        a.row,
        catalog=catalog,
        version=version,
        params=json.loads(a.row["params"] or "{}"),
        metrics=a.metrics,
        ratings=a.thumbs,
        preferences=a.prefs,
        rubric=a.rubric,
        corrections=a.corrections,
        label=a.label,
    )
