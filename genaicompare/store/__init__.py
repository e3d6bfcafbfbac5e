"""SQLite storage: the :class:`Store` (one file, WAL, short retried write transactions), its
append-only named migrations, and :func:`forget`. Knows nothing of the UI.

* :mod:`.database` — :class:`Store`, :func:`now_iso`, :func:`catalog_name`
* :mod:`.opening` — opening a file: every failure one ``StoreError`` naming it (plain sqlite3)
* :mod:`.migrations` — the schema, one named function per change
* :mod:`.forget` — :func:`forget`: delete a prompt's, model's or rater's rows for good

The database names load on first use (PEP 562): ``genaicompare.store.opening`` can check a ``--db``
before the TUI's first paint without importing sqlite-utils (≈0.15 s) through this face.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Cheap (plain sqlite3), and eager: importing the submodule ``forget`` sets the package attribute
# of that name, which must be the function.
from genaicompare.store.forget import ForgetError, ForgetResult, forget
from genaicompare.store.opening import BUSY_TIMEOUT_MS, WRITE_ATTEMPTS

if TYPE_CHECKING:
    from genaicompare.store.database import Store, catalog_name, now_iso

_LAZY = {"Store", "catalog_name", "now_iso"}  # genaicompare.store.database: sqlite-utils

__all__ = [
    "BUSY_TIMEOUT_MS",
    "WRITE_ATTEMPTS",
    "ForgetError",
    "ForgetResult",
    "Store",
    "catalog_name",
    "forget",
    "now_iso",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("genaicompare.store.database"), name)
    globals()[name] = value
    return value
