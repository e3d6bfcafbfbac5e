"""Reading catalog files: YAML or JSONL text → checked plain data → :class:`Catalog`.

Every problem becomes one :class:`CatalogError` reading ``path:line:col: dotted.field: message``
(lines and columns 1-based; ``dotted.field`` is the path of the value, list indexes 0-based, e.g.
``prompts.3.reference``).

YAML is read from the libyaml event stream (ruamel.yaml's C parser, or its pure-Python parser when
the C one is not installed), never through a constructor, so no tag can build an object. One
iterative pass turns events into dicts, lists and scalars while it rejects what a catalog must
not contain: tags, anchors and aliases (no alias bombs), duplicate keys, non-string keys, more than
one document, nesting deeper than :data:`MAX_DEPTH`, and literal secrets. Plain scalars are read
with the YAML 1.2 core schema (``no`` and ``on`` stay strings; ``true``/``false``, numbers and
``null``/``~``/empty are typed).

That pass keeps no positions, which keeps a 50,000-prompt file fast. Positions are needed only
for an error, so the same pass runs a second time with position tracking when one happens. A YAML
file of :data:`CACHE_MIN_CHARS` or more keeps its checked data, as JSON keyed by its content, in
the cache directory: reopening it skips the YAML parse, the costliest step.

JSONL: one JSON object per line; blank lines are skipped. The file is first read with a single
``json.loads`` call; only when that or validation fails does a line-by-line reader run, to say
which line is wrong. The first object may be a header
holding the catalog-level keys (``name``, ``version``, ``description``, ``models``, ``defaults``,
``templates``, ``judge``; never ``prompts``): it is a header when it has no ``id`` and at least one
of those keys. Every other line is one prompt. Without a header the catalog's name is the file's
stem. Errors name the physical line of the file. A ``rated`` export (lines carrying a ``rated``
key, one per answer) reads back as its prompts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, get_args, get_origin

from pydantic import BaseModel, ValidationError

from genaicompare.catalog import (
    CROSS_CHECKS_DEFERRED,
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogError,
)

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences accepted (a catalog needs about 6)."""

Loc = tuple[str | int, ...]
Position = tuple[int, int]

_HEADER_KEYS = frozenset(
    {"name", "version", "description", "models", "defaults", "templates", "judge"}
)

# Key shapes that are never legitimate catalog text. Deliberately specific: prompts may talk
# about "keys" and "tokens" in prose.
_SECRET_VALUE = re.compile(
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"
    r"|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bhf_[A-Za-z0-9]{30,}"
    r"|\bxox[abpr]-[A-Za-z0-9\-]{10,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|(?i:\bbearer\s+[A-Za-z0-9._~+/\-]{16,})"
)
# Names under which any non-empty value is a credential.
_SECRET_NAME = re.compile(
    r"(?:^|[_\-])(?:api[_\-]?key|apikey|secret|client[_\-]?secret|password|passwd|"
    r"authorization|private[_\-]?key|access[_\-]?token|auth[_\-]?token|bearer)$",
    re.I,
)
# Names under which a value is a credential when it also looks like one.
_KEYISH_NAME = re.compile(r"(?:^|[_\-])(?:key|token)$", re.I)
_KEYISH_VALUE = re.compile(r"^(?=[^\s]*[A-Za-z])(?=[^\s]*[0-9])[A-Za-z0-9_\-.+/=:]{20,}$")

# Cheap pre-filters (plain substring tests: a regex over 10 MB costs more than the parse).
_VALUE_MARKERS = (
    "sk-",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "hf_",
    "xoxa-",
    "xoxb-",
    "xoxp-",
    "xoxr-",
    "AKIA",
)
_NAME_MARKERS = ("key", "token", "secret", "passw", "authoriz", "bearer")


def _may_hold_secret_value(text: str) -> bool:
    return any(m in text for m in _VALUE_MARKERS) or "bearer" in text.lower()


def _secret_markers(text: str) -> tuple[bool, Callable[[str], bool] | None]:
    """One pass over ``text`` for the secret pre-filters: :func:`_may_hold_secret_value`, and
    whether a line may hold a credential (a value marker such as ``sk-``, or a name marker such
    as ``key`` in any case) testing only the markers present anywhere in ``text`` — None when
    none is (most catalogs): each marker once on the whole text is far cheaper than every marker
    on each of 50,000 lines."""
    values = tuple(m for m in _VALUE_MARKERS if m in text)
    low = text.lower()
    names = tuple(m for m in _NAME_MARKERS if m in low)
    scan = bool(values) or "bearer" in names
    if not values and not names:
        return scan, None

    def may_hold_secret(line: str) -> bool:
        if any(m in line for m in values):
            return True
        if not names:
            return False
        low = line.lower()
        return any(m in low for m in names)

    return scan, may_hold_secret


_SECRET_MESSAGE = (
    "looks like a literal API key; keys come only from environment variables "
    "(name the variable with api_key_env)"
)

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


class _Problem(Exception):
    """Internal: a problem found while reading, before it is tied to a file path."""

    def __init__(self, message: str, position: Position | None, loc: Loc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.loc = loc


# -- entry point -------------------------------------------------------------------------------


def load(path: Path) -> Catalog:
    """Load the catalog at ``path`` (``.jsonl`` is JSONL; anything else is YAML)."""
    text = _read_text(path)
    if path.suffix.lower() == ".jsonl":
        fast = _jsonl_fast(text, path)
        if fast is not None:
            catalog = _validate_quietly(fast)
            if catalog is not None:
                return catalog
        # Something is wrong (or unusual): the line-by-line reader finds it and says where.
        data, locate = _jsonl_data(text, path)
        return _validate(data, path, locate)
    key = _cache_key(text) if len(text) >= CACHE_MIN_CHARS else None
    if key is not None:
        cached = _cache_read(key)
        if cached is not None:
            catalog = _validate_quietly(cached)
            if catalog is not None:
                return catalog
    data, locate = _yaml_data(text, path)
    catalog = _validate(data, path, locate)
    if key is not None:
        _cache_write(key, data)
    return catalog


def _validate_quietly(data: dict[str, Any]) -> Catalog | None:
    """The catalog, or None when anything is wrong (the caller then finds out what, and where)."""
    try:
        catalog = Catalog.model_validate(data, context={CROSS_CHECKS_DEFERRED: True})
    except ValidationError:
        return None
    return None if catalog.problems() else catalog


# -- cache for large YAML files ---------------------------------------------------------------

CACHE_MIN_CHARS = 1_000_000
"""YAML files at least this large keep their checked data in the cache directory (JSON, keyed by
content), because reading YAML costs several times more than reading JSON."""
CACHE_ENTRIES = 8
_CACHE_FORMAT = "2"  # bump when the reading rules change, so old entries are never used


def _cache_key(text: str) -> str:
    import hashlib

    from genaicompare import __version__

    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return hashlib.sha256(f"{_CACHE_FORMAT}:{__version__}:{digest}".encode()).hexdigest()[:40]


def _cache_folder() -> Path:
    from genaicompare.core.paths import cache_dir

    return cache_dir() / "catalogs"


def _cache_read(key: str) -> dict[str, Any] | None:
    try:
        raw = (_cache_folder() / f"{key}.json").read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _cache_write(key: str, data: dict[str, Any]) -> None:
    from genaicompare.core.files import atomic_open

    # Best effort: a read-only or full cache directory only costs speed next time.
    try:
        folder = _cache_folder()
        with atomic_open(folder / f"{key}.json", mkdir=True) as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        entries = sorted(folder.glob("*.json"), key=lambda e: e.stat().st_mtime, reverse=True)
        for old in entries[CACHE_ENTRIES:]:
            old.unlink(missing_ok=True)
    except (OSError, ValueError, TypeError):
        return


def _fail(path: Path, problem: _Problem) -> NoReturn:
    line, col = problem.position if problem.position else (None, None)
    field = _dotted(problem.loc) if problem.loc else None
    raise CatalogError(path, problem.message, line, col, field)


# -- bytes → text ------------------------------------------------------------------------------


def _read_text(path: Path) -> str:
    try:
        if path.is_dir():
            raise CatalogError(path, "is a directory, not a catalog file")
        size = path.stat().st_size
        if size > MAX_CATALOG_BYTES:
            raise CatalogError(
                path,
                f"file is {size / 1024 / 1024:.1f} MB; catalogs are limited to "
                f"{MAX_CATALOG_BYTES // 1024 // 1024} MB (split it, or use JSONL)",
            )
        with path.open("rb") as fh:
            # Bounded read: st_size can lie (pipes, /proc files, a file growing meanwhile).
            raw = fh.read(MAX_CATALOG_BYTES + 1)
    except FileNotFoundError:
        raise CatalogError(path, "no such file") from None
    except PermissionError:
        raise CatalogError(path, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise CatalogError(
            path, f"cannot read the file: {exc.strerror or type(exc).__name__}"
        ) from None
    if len(raw) > MAX_CATALOG_BYTES:
        raise CatalogError(
            path,
            f"file is larger than {MAX_CATALOG_BYTES // 1024 // 1024} MB; catalogs are "
            "limited to that size",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        raise CatalogError(
            path,
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save the catalog as UTF-8",
            line,
            col,
        ) from None


# -- YAML --------------------------------------------------------------------------------------


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
                        value: Any = _plain_scalar(raw)
                    else:
                        value = raw
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


def _secret_level(name: Any) -> int:
    if not isinstance(name, str) or name.lower().endswith("_env"):
        return 0
    if _SECRET_NAME.search(name):
        return 1
    if _KEYISH_NAME.search(name):
        return 2
    return 0


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _index_position(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _longest_prefix(table: dict[Loc, Position], loc: Loc) -> Position | None:
    for n in range(len(loc), -1, -1):
        hit = table.get(loc[:n])
        if hit is not None:
            return hit
    return None


# -- JSONL -------------------------------------------------------------------------------------


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
    from genaicompare.exports import fold_rated_prompts  # only for exported files: heavy import

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
        if not isinstance(obj, dict):
            raise CatalogError(
                path, f"each line must be a JSON object (one prompt), not {_kind(obj)}", number, 1
            )
        if line.count("[") + line.count("{") > MAX_DEPTH and _depth(obj) > MAX_DEPTH:
            raise CatalogError(path, f"nesting deeper than {MAX_DEPTH} levels", number, 1)
        is_header = (
            header is None and not prompts and "id" not in obj and bool(_HEADER_KEYS & obj.keys())
        )
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


def _check_secrets(obj: Any, loc: Loc, scan: bool) -> None:
    stack: list[tuple[Any, Loc, Any]] = [(obj, loc, None)]
    while stack:
        value, where, name = stack.pop()
        if isinstance(value, dict):
            for k in value:
                if scan and isinstance(k, str) and _SECRET_VALUE.search(k):
                    raise _Problem(_SECRET_MESSAGE, None, where)  # never echo the key itself
            stack.extend((v, (*where, k), k) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*where, i), name) for i, v in enumerate(value))
        elif isinstance(value, str) and value:
            level = _secret_level(name)
            if (
                level == 1
                or (level == 2 and _KEYISH_VALUE.match(value.strip()))
                or (scan and _SECRET_VALUE.search(value))
            ):
                raise _Problem(_SECRET_MESSAGE, None, where)


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


# -- validation --------------------------------------------------------------------------------


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
