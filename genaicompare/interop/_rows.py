"""Shared by the row-based importers: reading JSON with positions, chat messages, text parts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from genaicompare.interop.report import ImportReport

Loc = tuple[str | int, ...]
Position = tuple[int, int]
ROLES = ("system", "user", "assistant")


def read_text(path: Path) -> str:
    from genaicompare.catalog.model import CatalogError

    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError(path, exc.strerror or str(exc)) from None
    except UnicodeDecodeError as exc:
        raise CatalogError(path, f"not UTF-8 text (byte {exc.start})") from None


def json_with_positions(path: Path) -> tuple[Any, Callable[[Loc], Position | None]]:
    """A JSON (or YAML) document and a ``locate(loc)`` for its values, through the catalog's
    event reader (no constructors, duplicate keys refused, positions on demand)."""
    from genaicompare.catalog.model import CatalogError
    from genaicompare.catalog.yaml_reader import _yaml_data  # lazy: ruamel

    text = read_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):
        # The reader wants a mapping at the top: wrap a top-level list, shift nothing.
        data, locate = _yaml_data('{"_": ' + text + "}", path)
        return data["_"], lambda loc: _shift(locate(("_", *loc), False))
    try:
        data, locate = _yaml_data(text, path)
    except CatalogError:
        raise
    return data, lambda loc: locate(loc, False)


def _shift(pos: Position | None) -> Position | None:
    if pos is None:
        return None
    line, col = pos
    return (line, col - 6) if line == 1 else pos


def jsonl_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    from genaicompare.catalog.model import CatalogError

    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(path, f"not JSON: {exc.msg}", n, exc.colno) from None
        if not isinstance(obj, dict):
            raise CatalogError(path, "expected a JSON object", n, 1)
        yield n, obj


def key_column(line: str, key: str) -> int:
    idx = line.find(json.dumps(key))
    return idx + 1 if idx >= 0 else 1


def text_of(content: Any) -> str | None:
    """A message's text: a string, or a list of parts of which only text parts are kept (None
    when any part is not text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if (
                isinstance(part, dict)
                and part.get("type") == "text"
                and isinstance(part.get("text"), str)
            ):
                parts.append(part["text"])
            else:
                return None
        return "".join(parts)
    return None


def chat(
    value: Any,
    report: ImportReport,
    path: Path,
    where: Callable[[Loc], Position | None],
    field: str,
) -> list[dict[str, str]] | None:
    """Chat messages as the catalog takes them (role + text content), or None when they cannot
    be (reported)."""
    if not isinstance(value, list) or not value:
        report.skip(path, where(()), field, "not a list of chat messages")
        return None
    out = []
    for i, m in enumerate(value):
        text = text_of(m.get("content")) if isinstance(m, dict) else None
        role = m.get("role") if isinstance(m, dict) else None
        if role not in ROLES or text is None:
            report.skip(
                path, where((i,)), f"{field}.{i}", f"message role {role!r} or non-text content"
            )
            return None
        out.append({"role": str(role), "content": text})
    return out


def model_string(name: str) -> str:
    """A model string for answers produced elsewhere: the name as given when it reads as a
    litellm string (``provider/model``), else ``imported/<name>``."""
    return name if "/" in name else f"imported/{name}"


def alias_of(name: str) -> str:
    alias = name.split("/", 1)[1] if "/" in name else name
    return alias[:64] or "model"
