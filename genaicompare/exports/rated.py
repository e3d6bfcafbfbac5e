"""The ``rated`` export: one line per prompt × answer, in :mod:`genaicompare.catalog.rated`'s
format, after a header naming the catalog and the models that answered (so the file loads back as
a JSONL catalog and can be run again)."""

from __future__ import annotations

import json
from typing import Any

from genaicompare.catalog.rated import rated_header, rated_line, templates_of
from genaicompare.core.sanitize import redact as redact_keys
from genaicompare.exports.answers import Selection, _Answer


def _rated_header(selection: Selection, catalog: str, version: str | None) -> dict[str, Any]:
    """The models as they answered: alias, model, params and their own system prompt (read from
    the messages each answer was generated from), so the file re-opens as the same experiment."""
    first, systems, template_prompts = selection.header_facts()
    models: list[dict[str, Any]] = []
    for row in first:
        spec = {"id": row["model_alias"], "model": row["model"]}
        spec["params"] = json.loads(row["params"] or "{}")
        if row["api_base"]:
            # The endpoint makes the file runnable again; a key in its URL never leaves.
            spec["api_base"] = redact_keys(row["api_base"])
        if row["model_alias"] in systems:
            spec["system"] = systems[row["model_alias"]]
        models.append(spec)
    return rated_header(catalog, version, models, templates_of(template_prompts))


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
