"""sqlite-utils, imported without pandas.

sqlite-utils imports pandas at import time when it is installed (sentence-transformers' stack
brings it) only to map ``pandas.Timestamp`` to a TEXT column, a type genaicompare never inserts.
That import costs 0.5–2 s wherever the store opens — the TUI's main screen, every CLI command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils
else:
    from genaicompare.core.lazy import import_without

    sqlite_utils = import_without("sqlite_utils", "pandas")

__all__ = ["sqlite_utils"]
