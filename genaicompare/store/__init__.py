"""SQLite storage: the :class:`Store` (one file, WAL, short retried write transactions), its
append-only named migrations, and :func:`forget`. Knows nothing of the UI.

* :mod:`.database` — :class:`Store`, :func:`now_iso`, :func:`catalog_name`
* :mod:`.migrations` — the schema, one named function per change
* :mod:`.forget` — :func:`forget`: delete a prompt's, model's or rater's rows for good
"""

from genaicompare.store.database import (
    BUSY_TIMEOUT_MS,
    WRITE_ATTEMPTS,
    Store,
    catalog_name,
    now_iso,
)
from genaicompare.store.forget import ForgetError, ForgetResult, forget

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
