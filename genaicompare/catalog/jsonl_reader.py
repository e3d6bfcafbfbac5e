"""JSONL catalog text → checked plain data.

One JSON object per line; blank lines are skipped. The file is first read with a single
``json.loads`` call; only when that or validation fails does a line-by-line reader run, to say
which line is wrong. The first object may be a header holding the catalog-level keys (``name``,
``version``, ``description``, ``models``, ``defaults``, ``templates``, ``judge``; never
``prompts``): it is a header when it has no ``id`` and at least one of those keys. Every other
line is one prompt. Without a header the catalog's name is the file's stem. Errors name the
physical line of the file. A ``rated`` export (lines carrying a ``rated`` key, one per answer)
reads back as its prompts (:mod:`genaicompare.catalog.rated`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genaicompare.catalog.model import CatalogError
from genaicompare.catalog.positions import (
    Loc,
    Position,
    _dotted,
    _kind,
    _longest_prefix,
    _Problem,
)
from genaicompare.catalog.rated import fold_rated_prompts
from genaicompare.catalog.secrets import _check_secrets, _secret_markers
from genaicompare.catalog.yaml_reader import (
    _NUL_MESSAGE,
    MAX_DEPTH,
    _build,
    _too_long,
    _yaml_events,
)

# Escapes that decode to what a catalog may not hold (the YAML reader's rule): NUL, and UTF-16
# surrogates, which are fine in pairs (one character) and not text alone.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"\d{1000,}")

_HEADER_KEYS = frozenset(
    {"name", "version", "description", "models", "defaults", "templates", "judge"}
)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return out


def _jsonl_fast(text: str, path: Path) -> dict[str, Any] | None:
    """The whole file in one ``json.loads`` call, or None to take the line-by-line reader.

    Returns data only when every check passes; any doubt (a parse error, a duplicate key, a line
    that is not exactly one object, a possible secret, a deep header) means None.
    """
    if _SUSPECT_ESCAPE.search(text):
        return None  # the line-by-line reader checks what those escapes decode to
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return None
    try:
        objs = json.loads("[" + ",".join(lines) + "]", object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        return None
    if len(objs) != len(lines) or not all(type(o) is dict for o in objs):
        return None  # a line held zero or several values
    header: dict[str, Any] | None = None
    first = objs[0]
    if "id" not in first and _HEADER_KEYS & first.keys():
        if "prompts" in first or _depth(first) > MAX_DEPTH:
            return None
        header, objs = first, objs[1:]
    scan, may_hold_secret = _secret_markers(text)
    if may_hold_secret is None:
        return _fast_data(header, objs, path)
    for line, obj in zip(lines[1:] if header is not None else lines, objs, strict=True):
        if may_hold_secret(line):
            try:
                _check_secrets(obj, (), scan)
            except _Problem:
                return None
    if header is not None and may_hold_secret(lines[0]):
        try:
            _check_secrets(header, (), scan)
        except _Problem:
            return None
    return _fast_data(header, objs, path)


def _fast_data(header: dict[str, Any] | None, objs: list[Any], path: Path) -> dict[str, Any]:
    data: dict[str, Any] = dict(header or {})
    data.setdefault("name", path.stem)
    data["prompts"], _ = _fold_rated(objs, list(range(len(objs))))
    return data


def _fold_rated(prompts: list[Any], lines: list[int]) -> tuple[list[Any], list[int]]:
    """A ``genaicompare export --format rated`` file repeats each prompt once per answer, with
    the answer under ``rated``: read it back as its prompts (first occurrence of each id)."""
    if not any(type(p) is dict and "rated" in p for p in prompts):
        return prompts, lines
    return fold_rated_prompts(prompts, lines)


def _jsonl_data(text: str, path: Path) -> tuple[Any, Callable[[Loc, bool], Position | None]]:
    header: dict[str, Any] | None = None
    header_line = 0
    prompts: list[Any] = []
    prompt_lines: list[int] = []
    raw_lines: dict[int, str] = {}
    decode = json.JSONDecoder(object_pairs_hook=_no_duplicates).decode
    scan_secrets, may_hold_secret = _secret_markers(text)

    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = decode(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(path, f"invalid JSON: {exc.msg}", number, exc.colno) from None
        except _DuplicateKey as exc:
            col = _json_key_column(line, exc.key, nth=2)
            raise CatalogError(path, f"duplicate key '{exc.key}'", number, col) from None
        except RecursionError:
            raise CatalogError(path, f"nesting deeper than {MAX_DEPTH} levels", number, 1) from None
        except ValueError:  # an integer longer than Python reads (4300 digits)
            long = _LONG_NUMBER.search(line)
            raise CatalogError(
                path,
                _too_long(long.group() if long else ""),
                number,
                long.start() + 1 if long else 1,
            ) from None
        if not isinstance(obj, dict):
            raise CatalogError(
                path, f"each line must be a JSON object (one prompt), not {_kind(obj)}", number, 1
            )
        if line.count("[") + line.count("{") > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
            raise CatalogError(path, f"nesting deeper than {MAX_DEPTH} levels", number, 1)
        is_header = (
            header is None and not prompts and "id" not in obj and bool(_HEADER_KEYS & obj.keys())
        )
        if _SUSPECT_ESCAPE.search(line):
            # A rated export's ``rated`` payload is stored data (answers and comments as they
            # were), not catalog text: it round-trips whatever it holds.
            text_part = {k: v for k, v in obj.items() if k != "rated"} if "rated" in obj else obj
            bad = _not_text(text_part, ())
            if bad is not None:
                inner, message, code = bad
                dotted = _dotted(inner if is_header else ("prompts", len(prompts), *inner))
                escape = re.search(rf"\\u{code:04x}", line, re.IGNORECASE)
                col = escape.start() + 1 if escape else _json_column(line, inner, False)
                raise CatalogError(path, message, number, col, dotted or None)
        try:
            # Walk the object only when the line could hold a credential at all.
            if may_hold_secret is not None and may_hold_secret(line):
                _check_secrets(obj, () if is_header else ("prompts", len(prompts)), scan_secrets)
        except _Problem as problem:
            loc = problem.loc or ()
            field = _dotted(loc) or None
            inner = loc if is_header else loc[2:]
            col = _json_key_column(line, str(inner[-1])) if inner else 1
            raise CatalogError(path, problem.message, number, col, field) from None
        if is_header:
            if "prompts" in obj:
                raise CatalogError(
                    path,
                    "a JSONL header holds catalog keys only; put each prompt on its own line",
                    number,
                    _json_key_column(line, "prompts"),
                    "prompts",
                )
            header, header_line = obj, number
            raw_lines[number] = line
            continue
        prompts.append(obj)
        prompt_lines.append(number)
        raw_lines[number] = line

    if header is None and not prompts:
        raise CatalogError(path, "the file is empty; a JSONL catalog has one prompt per line", 1, 1)
    prompts, prompt_lines = _fold_rated(prompts, prompt_lines)
    data: dict[str, Any] = dict(header or {})
    data.setdefault("name", path.stem)
    data["prompts"] = prompts

    def locate(loc: Loc, at_key: bool) -> Position | None:
        if len(loc) >= 2 and loc[0] == "prompts" and isinstance(loc[1], int):
            if loc[1] >= len(prompt_lines):
                return None
            number, inner = prompt_lines[loc[1]], loc[2:]
        elif header is not None:
            number, inner = header_line, loc
        else:
            return None
        return number, _json_column(raw_lines[number], inner, at_key)

    return data, locate


def _not_text(obj: Any, loc: Loc) -> tuple[Loc, str, int] | None:
    """The first key or string in ``obj`` holding NUL or a lone surrogate: (its loc, message,
    the code point)."""
    stack: list[tuple[Any, Loc]] = [(obj, loc)]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                if _NOT_TEXT.search(key):
                    return (*at, key), *_not_text_message(key)
                stack.append((item, (*at, key)))
        elif isinstance(value, list):
            stack.extend((item, (*at, i)) for i, item in enumerate(value))
        elif isinstance(value, str) and _NOT_TEXT.search(value):
            return at, *_not_text_message(value)
    return None


def _not_text_message(text: str) -> tuple[str, int]:
    found = _NOT_TEXT.search(text)
    assert found is not None
    code = ord(found.group())
    if code == 0:
        return _NUL_MESSAGE, code
    return (
        f"\\u{code:04x} is half of a UTF-16 surrogate pair, not a character: write the "
        "character itself, or both halves of its pair"
    ), code


def _depth(obj: Any) -> int:
    deepest, stack = 0, [(obj, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            items = value.values() if isinstance(value, dict) else value
            stack.extend((v, level + 1) for v in items)
    return deepest


def _json_key_column(line: str, key: str, nth: int = 1) -> int:
    needle, index = json.dumps(key, ensure_ascii=False), -1
    for _ in range(nth):
        index = line.find(needle, index + 1)
        if index < 0:
            return 1
    return index + 1


def _json_column(line: str, loc: Loc, at_key: bool) -> int:
    """Column of ``loc`` inside one JSON line, found by reading the line as YAML (JSON is YAML
    flow syntax) with positions; column 1 when that fails."""
    try:
        _, values, keys = _build(_yaml_events(line), line, track=True, scan_secrets=False)
    except _Problem:
        return 1
    if at_key and keys and loc in keys:
        return keys[loc][1]
    hit = _longest_prefix(values or {}, loc)
    return hit[1] if hit else 1
