"""What never leaves in an export: detected PII (with ``--redact-pii``) and the values of
credential-like environment variables. Identifiers and hashes are left alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genaicompare.exports.answers import ExportError


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
    # The one rule, shared with the stream, the store, reports and --json (core.sanitize).
    from genaicompare.core.sanitize import redact_secrets

    def strip(text: str) -> str:
        return redact_secrets(text, secrets)

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
