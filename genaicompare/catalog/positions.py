"""Where a catalog problem is: ``path:line:col: dotted.field: message``.

Lines and columns are 1-based; ``dotted.field`` is the path of the value, list indexes 0-based
(``prompts.3.reference``). The readers hand over plain data and a ``locate(loc, at_key)`` that
finds a position only when an error needs one; this module turns pydantic's errors and the
catalog's cross-field problems into one :class:`CatalogError` at that position.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, get_args, get_origin

from pydantic import BaseModel, ValidationError

from genaicompare.catalog.model import CROSS_CHECKS_DEFERRED, Catalog, CatalogError

Loc = tuple[str | int, ...]
Position = tuple[int, int]


class _Problem(Exception):
    """Internal: a problem found while reading, before it is tied to a file path."""

    def __init__(self, message: str, position: Position | None, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.loc = loc


def _fail(path: Path, problem: _Problem) -> NoReturn:
    line, col = problem.position if problem.position else (None, None)
    field = _dotted(problem.loc) if problem.loc else None
    raise CatalogError(path, problem.message, line, col, field)


def _index_position(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _longest_prefix(table: dict[Loc, Position], loc: Loc) -> Position | None:
    for n in range(len(loc), -1, -1):
        hit = table.get(loc[:n])
        if hit is not None:
            return hit
    return None


def _validate(
    data: dict[str, Any], path: Path, locate: Callable[[Loc, bool], Position | None]
) -> Catalog:
    try:
        catalog = Catalog.model_validate(data, context={CROSS_CHECKS_DEFERRED: True})
    except ValidationError as exc:
        raise _from_validation(exc, data, path, locate) from None
    problems = catalog.problems()
    if problems:
        loc, message = problems[0]
        line, col = locate(loc, len(loc) > 3) or (None, None)
        raise CatalogError(path, message + _more(len(problems) - 1), line, col, _dotted(loc))
    return catalog


def _from_validation(
    exc: ValidationError, data: Any, path: Path, locate: Callable[[Loc, bool], Position | None]
) -> CatalogError:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    fields: list[str] = []
    first: CatalogError | None = None
    for error in errors:
        loc = _data_loc(data, tuple(error["loc"]), error["type"])
        dotted = _dotted(loc)
        if dotted in fields:
            continue  # one union member's error per value is enough
        fields.append(dotted)
        if first is None:
            message = _message(error, loc)
            line, col = locate(loc, error["type"] == "extra_forbidden") or (None, None)
            first = CatalogError(path, message, line, col, dotted or None)
    assert first is not None
    more = len(fields) - 1
    if more:
        first = CatalogError(path, first.message + _more(more), first.line, first.col, first.field)
    return first


def _data_loc(data: Any, loc: Loc, error_type: str) -> Loc:
    """The part of a pydantic ``loc`` that names data in the file (drops union member names)."""
    out: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif error_type == "missing" and i == len(loc) - 1:
            pass  # the missing key itself
        else:
            break
        out.append(part)
    return tuple(out)


def _message(error: Any, loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        name = str(loc[-1]) if loc else "?"
        hint = ""
        if allowed:
            import difflib

            close = difflib.get_close_matches(name, allowed, n=1)
            hint = (
                f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
            )
        return f"unknown key '{name}'{hint}"
    if kind == "missing":
        return _MISSING_MESSAGES.get(loc, "required key is missing")
    if kind == "too_short" and loc == ("prompts",):
        return "a catalog needs at least one prompt"
    message = str(error["msg"])
    if kind in ("value_error", "assertion_error"):
        message = re.sub(r"^(Value|Assertion) error, ", "", message)
    return message


_MISSING_MESSAGES: dict[Loc, str] = {
    ("name",): "required key is missing: give the catalog a name",
    ("prompts",): "required key is missing: a catalog needs a list of prompts",
}


def _allowed_keys(loc: Loc) -> list[str]:
    """Keys the model at ``loc`` accepts (by alias), following the Catalog's field types."""
    model: Any = Catalog
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return []
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return []
        model = _inner_model(field.annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        if model.model_config.get("extra") != "forbid":
            return []
        return sorted(f.alias or n for n, f in model.model_fields.items())
    return []


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is dict:
        return None
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _dotted(loc: Loc | None) -> str:
    if not loc:
        return ""
    if len(loc) > 8:  # deep-nesting errors: the start of the path says where
        return ".".join(str(p) for p in loc[:6]) + ".…"
    return ".".join(str(p) for p in loc)


def _more(n: int) -> str:
    return f" (and {n} more problem{'s' if n > 1 else ''})" if n > 0 else ""


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return type(value).__name__
