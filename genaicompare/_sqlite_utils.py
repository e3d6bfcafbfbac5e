"""sqlite-utils, imported without pandas.

sqlite-utils imports pandas at import time when it is installed (sentence-transformers' stack
brings it) only to map ``pandas.Timestamp`` to a TEXT column, a type genaicompare never inserts.
That import costs 0.5–2 s on these machines wherever the store opens — the TUI's main screen, every
CLI command. So pandas is hidden for the duration of that one import; anything that imports
pandas later gets it as usual, and if pandas is already loaded nothing is hidden.
"""

from __future__ import annotations

import sys

if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
    import sqlite_utils
else:
    sys.modules["pandas"] = None  # type: ignore[assignment]  # "import pandas" → ImportError
    try:
        import sqlite_utils
    finally:
        if sys.modules.get("pandas", 0) is None:
            del sys.modules["pandas"]

__all__ = ["sqlite_utils"]
