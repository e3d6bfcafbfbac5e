"""Run the real CLI with its database about to fill up: ``python -m tests.support.disk_full
PAGES genaicompare-args…``.

What is simulated, honestly: not a full filesystem (no small tmpfs here) but SQLite's own limit.
When the run stores its first answer, the connection's ``PRAGMA max_page_count`` is set to the
database's size plus ``PAGES`` pages; once those are used, every write fails with SQLite's real
``SQLITE_FULL`` ("database or disk is full") — the same error code and message a full disk
gives, through the same code paths. Reads keep working, as on a full disk. Production code has
no hook for this: the launcher wraps ``sqlite3.connect`` before genaicompare imports it.
"""

from __future__ import annotations

import runpy
import sqlite3
import sys
from typing import Any

_connect = sqlite3.connect


class _FillingConnection(sqlite3.Connection):
    pages = 0
    limited = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        if not self.limited and sql.lstrip().upper().startswith("INSERT INTO RESPONSES"):
            self.limited = True
            (count,) = super().execute("PRAGMA page_count").fetchone()
            super().execute(f"PRAGMA max_page_count = {count + self.pages}")
        return super().execute(sql, *args)


def main() -> None:
    _FillingConnection.pages = int(sys.argv[1])

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _FillingConnection)
        return _connect(*args, **kwargs)

    sqlite3.connect = connect  # type: ignore[assignment]
    sys.argv = ["genaicompare", *sys.argv[2:]]
    runpy.run_module("genaicompare", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
