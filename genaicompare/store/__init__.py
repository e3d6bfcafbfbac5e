"""SQLite storage: the :class:`Store` (one file, WAL, short retried write transactions), its
append-only named migrations, and :func:`forget`. Knows nothing of the UI.

* :mod:`.database` — :class:`Store`, :func:`now_iso`, :func:`catalog_name`
* :mod:`.migrations` — the schema, one named function per change
"""

from genaicompare.store.database import (
    BUSY_TIMEOUT_MS,
    WRITE_ATTEMPTS,
    Store,
    catalog_name,
    now_iso,
)

__all__ = ["BUSY_TIMEOUT_MS", "WRITE_ATTEMPTS", "Store", "catalog_name", "now_iso"]
