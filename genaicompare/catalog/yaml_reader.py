"""YAML catalog text → checked plain data, from the libyaml event stream.

YAML is read from the libyaml event stream (ruamel.yaml's C parser, or its pure-Python parser when
the C one is not installed), never through a constructor, so no tag can build an object. One
iterative pass turns events into dicts, lists and scalars while it rejects what a catalog must
not contain: tags, anchors and aliases (no alias bombs), duplicate keys, non-string keys, more than
one document, nesting deeper than :data:`MAX_DEPTH`, and literal secrets. Plain scalars are read
with the YAML 1.2 core schema (``no`` and ``on`` stay strings; ``true``/``false``, numbers and
``null``/``~``/empty are typed).

That pass keeps no positions, which keeps a 50,000-prompt file fast. Positions are needed only
for an error, so the same pass runs a second time with position tracking when one happens.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from genaicompare.catalog.model import CatalogError
from genaicompare.catalog.positions import (
    Loc,
    Position,
    _fail,
    _index_position,
    _kind,
    _longest_prefix,
    _Problem,
)
from genaicompare.catalog.secrets import (
    _KEYISH_VALUE,
    _SECRET_MESSAGE,
    _SECRET_VALUE,
    _may_hold_secret_value,
    _secret_level,
)

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (a catalog needs about 6)."""

# YAML 1.2 core schema for plain scalars.
_INT = re.compile(r"[-+]?[0-9]+$")
_INT_OCT = re.compile(r"0o[0-7]+$")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL: dict[str, Any] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_MAYBE_TYPED = frozenset("-+.0123456789~nNtTfF")

# One rule for YAML and JSONL (jsonl_reader): text may hold any character except NUL, however it
# is written (raw, or as an escape); lone surrogates are not text (YAML cannot even write them).
_NUL_MESSAGE = "character '\\x00' (U+0000) is not allowed in a catalog"


def _too_long(digits: str) -> str:
    import sys

    limit = sys.get_int_max_str_digits()
    count = sum(c.isdigit() for c in digits)
    return f"a number with {count} digits is too long (at most {limit}); write it as a string"


class _PureEvents:
    """The pure-Python parser behind the C parser's ``get_event`` interface."""

    def __init__(self, text: str) -> None:
        from ruamel.yaml import YAML

        self._events = iter(YAML(typ="safe", pure=True).parse(text))

    def get_event(self) -> Any:
        return next(self._events)


_YAML11_BREAKS = "\x85\u2028\u2029"
"""NEL, LS and PS: line breaks to YAML 1.1 (libyaml, and ruamel's scanners), ordinary characters
to YAML 1.2 and to editors' line numbers. Text pasted from the web or JSON carries them."""


class _RestoreBreaks:
    """Parse events with the stand-ins :func:`_yaml_events` put in turned back into NEL/LS/PS."""

    def __init__(self, parser: Any, back: dict[int, str]) -> None:
        self._parser = parser
        self._back = back

    def get_event(self) -> Any:
        event = self._parser.get_event()
        value = getattr(event, "value", None)
        if isinstance(value, str):
            event.value = value.translate(self._back)
        return event


def _yaml_events(text: str) -> Any:
    """An object whose ``get_event()`` returns the parse events of ``text`` in order.

    NEL/LS/PS are read as YAML 1.2 reads them — as text, not line breaks — so a quoted prompt
    keeps them and error positions count lines as editors do: each is swapped for a private-use
    character the text does not hold (one character for one, so positions stay), then swapped
    back in every scalar."""
    back: dict[int, str] = {}
    if any(c in text for c in _YAML11_BREAKS):
        stand_in = 0xE000
        for c in _YAML11_BREAKS:
            if c in text:
                while chr(stand_in) in text:
                    stand_in += 1
                text = text.replace(c, chr(stand_in))
                back[stand_in] = c
                stand_in += 1
    try:
        from _ruamel_yaml_clibz import CParser
    except ImportError:  # the C parser is optional; the pure one gives the same events
        parser: Any = _PureEvents(text)
    else:
        parser = CParser(text)
    return _RestoreBreaks(parser, back) if back else parser


def _yaml_data(text: str, path: Path) -> tuple[Any, Callable[[Loc, bool], Position | None]]:
    scan_secrets = _may_hold_secret_value(text)
    try:
        data, _, _ = _build(_yaml_events(text), text, track=False, scan_secrets=scan_secrets)
    except _Problem:
        # Rerun with positions to name the field; the same problem is raised again.
        try:
            _build(_yaml_events(text), text, track=True, scan_secrets=scan_secrets)
        except _Problem as tracked:
            _fail(path, tracked)
        raise  # pragma: no cover - the build is deterministic
    if data is _MISSING:
        raise CatalogError(
            path, "the file is empty; a catalog needs at least 'name' and 'prompts'", 1, 1
        )
    if not isinstance(data, dict):
        raise CatalogError(
            path,
            f"the top level must be a mapping with 'name', 'models' and 'prompts', not "
            f"{_kind(data)}",
            1,
            1,
        )

    cache: dict[str, tuple[dict[Loc, Position], dict[Loc, Position]]] = {}

    def locate(loc: Loc, at_key: bool) -> Position | None:
        if "maps" not in cache:
            _, values, keys = _build(_yaml_events(text), text, track=True, scan_secrets=False)
            cache["maps"] = (values or {}, keys or {})
        values, keys = cache["maps"]
        if at_key and loc in keys:
            return keys[loc]
        return _longest_prefix(values, loc)

    return data, locate


_MISSING: Any = object()


def _build(
    parser: Any, text: str, *, track: bool, scan_secrets: bool
) -> tuple[Any, dict[Loc, Position] | None, dict[Loc, Position] | None]:
    """Events → plain data, enforcing the catalog's YAML rules.

    With ``track``, also returns the position of every value and every mapping key by path.
    """
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        SequenceEndEvent,
        SequenceStartEvent,
        StreamEndEvent,
    )

    values: dict[Loc, Position] | None = {} if track else None
    keys: dict[Loc, Position] | None = {} if track else None
    root: Any = _MISSING
    documents = 0
    # Frames: [container, is_mapping, pending key (or _MISSING), path]
    stack: list[list[Any]] = []
    secret_names: dict[str, int] = {}  # key → 0 plain, 1 any value is a secret, 2 key-shaped

    def pos(event: Any) -> Position:
        return event.start_mark.line + 1, event.start_mark.column + 1

    def here(child: str | int | None = None) -> Loc | None:
        if not track or not stack:
            return () if track else None
        frame = stack[-1]
        base: Loc = frame[3]
        if child is not None:
            return (*base, child)
        if frame[1]:
            return (*base, frame[2]) if frame[2] is not _MISSING else base
        return (*base, len(frame[0]))

    frame: list[Any] | None = None  # the innermost open container (stack[-1])
    try:
        get_event = parser.get_event
        while True:
            event = get_event()
            kind = type(event)
            if kind is ScalarEvent or kind is MappingStartEvent or kind is SequenceStartEvent:
                if event.anchor is not None or event.ctag is not None:
                    if event.anchor is not None:
                        raise _Problem(
                            f"anchors (&{event.anchor}) are not allowed in a catalog: write the "
                            "value out",
                            pos(event),
                            here(),
                        )
                    if str(event.ctag) != "!":
                        raise _Problem(
                            f"tags ({_short_tag(str(event.ctag))}) are not allowed in a catalog",
                            pos(event),
                            here(),
                        )
                if frame is not None and frame[1] and frame[2] is _MISSING:
                    # A mapping key.
                    if kind is not ScalarEvent:
                        raise _Problem("mapping keys must be plain strings", pos(event), here())
                    key = event.value
                    if "\x00" in key:
                        raise _Problem(_NUL_MESSAGE, pos(event), here())
                    if key in frame[0]:
                        first = keys.get((*frame[3], key)) if keys is not None else None
                        where = f" (first at {first[0]}:{first[1]})" if first else ""
                        raise _Problem(f"duplicate key '{key}'{where}", pos(event), here(key))
                    if scan_secrets and _SECRET_VALUE.search(key):
                        raise _Problem(_SECRET_MESSAGE, pos(event), here())  # not echoing it
                    frame[2] = key
                    if keys is not None:
                        keys[(*frame[3], key)] = pos(event)
                    continue
                if kind is ScalarEvent:
                    raw = event.value
                    if event.implicit[0] and (not raw or raw[0] in _MAYBE_TYPED):
                        try:
                            value: Any = _plain_scalar(raw)
                        except ValueError:  # an integer longer than Python reads (4300 digits)
                            raise _Problem(_too_long(raw), pos(event), here()) from None
                    else:
                        value = raw
                        if "\x00" in raw:  # an escape ("\0", "\x00"): raw NUL is a reader error
                            raise _Problem(_NUL_MESSAGE, pos(event), here())
                    if frame is not None and frame[1] and type(value) is str and value:
                        name = frame[2]
                        level = secret_names.get(name)
                        if level is None:
                            level = _secret_level(name)
                            secret_names[name] = level
                        if level == 1 or (level == 2 and _KEYISH_VALUE.match(value.strip())):
                            raise _Problem(_SECRET_MESSAGE, pos(event), here())
                    if scan_secrets and type(value) is str and _SECRET_VALUE.search(value):
                        raise _Problem(_SECRET_MESSAGE, pos(event), here())
                else:
                    if len(stack) >= MAX_DEPTH:
                        raise _Problem(
                            f"nesting deeper than {MAX_DEPTH} levels", pos(event), here()
                        )
                    value = {} if kind is MappingStartEvent else []
                # Attach to the parent.
                loc = here() if track else None
                if values is not None and loc is not None:
                    values[loc] = pos(event)
                if frame is None:
                    root = value
                elif frame[1]:
                    frame[0][frame[2]] = value
                    frame[2] = _MISSING
                else:
                    frame[0].append(value)
                if kind is not ScalarEvent:
                    frame = [value, kind is MappingStartEvent, _MISSING, loc]
                    stack.append(frame)
            elif kind is MappingEndEvent or kind is SequenceEndEvent:
                stack.pop()
                frame = stack[-1] if stack else None
            elif kind is AliasEvent:
                raise _Problem(
                    f"aliases (*{event.anchor}) are not allowed in a catalog: write the value out",
                    pos(event),
                    here(),
                )
            elif kind is StreamEndEvent:
                break
            elif kind is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Problem(
                        "more than one YAML document ('---'); a catalog is one document",
                        pos(event),
                    )
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "invalid YAML"
        if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
            problem += " (a tab: indent with spaces)"
        message = f"{exc.context}: {problem}" if exc.context else problem
        raise _Problem(
            f"YAML syntax error: {message}",
            (mark.line + 1, mark.column + 1) if mark is not None else None,
        ) from None
    except YAMLError as exc:
        # ReaderError (a control character) carries a byte offset, not a mark.
        offset = getattr(exc, "position", None)
        character = getattr(exc, "character", None)
        if isinstance(character, int):
            character = chr(character)
        what = (
            f"character {character!r} (U+{ord(character):04X}) is not allowed in YAML"
            if isinstance(character, str) and len(character) == 1
            else f"invalid YAML ({type(exc).__name__})"
        )
        at: Position | None = None
        if isinstance(offset, int):
            # The C reader counts UTF-8 bytes, the pure one characters.
            if not isinstance(parser, _PureEvents):
                offset = len(text.encode("utf-8")[:offset].decode("utf-8", "ignore"))
            at = _index_position(text, offset)
        raise _Problem(what, at) from None
    return root, values, keys


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _plain_scalar(raw: str) -> Any:
    special = _SPECIAL.get(raw, _MISSING)
    if special is not _MISSING:
        return special
    if _INT.match(raw):
        return int(raw)
    if _FLOAT.match(raw) and any(c.isdigit() for c in raw):
        return float(raw)
    if _INT_OCT.match(raw):
        return int(raw[2:], 8)
    if _INT_HEX.match(raw):
        return int(raw[2:], 16)
    return raw


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag
