"""Reading a catalog file: bytes → text → plain data (YAML or JSONL reader) → :class:`Catalog`.

Every problem becomes one :class:`CatalogError` reading ``path:line:col: dotted.field: message``
(:mod:`.positions`). The readers (:mod:`.yaml_reader`, :mod:`.jsonl_reader`) reject what a
catalog must not hold, literal secrets included (:mod:`.secrets`); large YAML files are served
from :mod:`.cache`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from genaicompare.catalog.cache import CACHE_MIN_CHARS, _cache_key, _cache_read, _cache_write
from genaicompare.catalog.jsonl_reader import _jsonl_data, _jsonl_fast
from genaicompare.catalog.model import (
    CROSS_CHECKS_DEFERRED,
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogError,
)
from genaicompare.catalog.positions import _validate
from genaicompare.catalog.yaml_reader import _yaml_data
from genaicompare.core.errors import KnownError

AssertCheck = Callable[[Mapping[str, Any]], object]
"""Validates one prompt's ``assert`` entry (``{name: condition}``), raising a :class:`KnownError`
(``metrics.parse_assertions``: the grammar lives above the catalog, which cannot import it)."""


def load_catalog(path: str | Path, check_assert: AssertCheck | None = None) -> Catalog:
    """Load a YAML or JSONL catalog, raising :class:`CatalogError` with a position on any problem.

    With ``check_assert``, every prompt's ``assert`` entries are checked too, and an error there
    gets its ``file:line:col`` and field (``prompts.3.assert.rougeL``) like any other."""
    path = Path(path)
    if check_assert is None:
        return load(path)
    text = _read_text(path)
    catalog = _load_text(text, path)
    _check_assertions(catalog, text, path, check_assert)
    return catalog


def load(path: Path) -> Catalog:
    """Load the catalog at ``path`` (``.jsonl`` is JSONL; anything else is YAML)."""
    return _load_text(_read_text(path), path)


def _check_assertions(catalog: Catalog, text: str, path: Path, check: AssertCheck) -> None:
    for i, prompt in enumerate(catalog.prompts):
        for name, condition in (prompt.assert_ or {}).items():
            try:
                check({name: condition})
            except KnownError as exc:
                message = str(exc)
                for prefix in (f"assert.{name}: ", "assert: "):
                    message = message.removeprefix(prefix)
                reader = _jsonl_data if path.suffix.lower() == ".jsonl" else _yaml_data
                _, locate = reader(text, path)
                loc = ("prompts", i, "assert", name)
                line, col = locate(loc, False) or (None, None)
                raise CatalogError(path, message, line, col, f"prompts.{i}.assert.{name}") from None


def _load_text(text: str, path: Path) -> Catalog:
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
