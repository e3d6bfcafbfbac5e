"""The cache of large YAML catalogs: checked data as JSON, keyed by the file's content.

Reading YAML costs several times more than reading JSON, so a file of :data:`CACHE_MIN_CHARS` or
more keeps its checked data in the cache directory; reopening it skips the YAML parse. The key
covers the bytes, the reading rules and the version, so an entry is never served stale; errors are
never cached.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
