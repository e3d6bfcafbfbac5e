"""User-facing failure handling: no traceback, no locals, no secrets ever reach a terminal.

Known errors print one clean line and exit 2. Anything unexpected prints a short redacted summary
(exception type and message, file:line of the innermost genaicompare frame) and writes the redacted
traceback — without local variables — to a crash log under the cache dir.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable

from genaicompare.core.sanitize import one_line, redact


class KnownError(Exception):
    """A failure whose message is written for the user: printed on one line, exit code 2.

    Every package's user-facing error subclasses this (``CatalogError`` too), so handling one never
    has to import the package that raised it.
    """


class UserError(KnownError):
    """A problem the user can fix (bad option, missing file). Printed as is; exit code 2."""


class StoreError(KnownError):
    """The database could not be opened or written (message is user-facing); exit code 2.

    Defined here, not in ``store``, so that handling an error never imports sqlite-utils.
    """


class StoreBusy(StoreError):
    """Another process held the database's write lock for longer than the store waits (a long
    transaction elsewhere); nothing was written. Callers that must not lose the write queue it."""


def write_crash_log(exc: BaseException) -> str | None:
    """Write a redacted, locals-free traceback; return its path (or None if it could not)."""
    import datetime as dt

    from genaicompare.core.paths import cache_dir

    try:
        folder = cache_dir() / "crashes"
        folder.mkdir(parents=True, exist_ok=True)
        text = redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        # Microseconds and the pid tell crashes apart; O_EXCL (with a counter) makes sure a second
        # crash in the same instant never overwrites the first one's log.
        stem = f"crash-{dt.datetime.now():%Y%m%d-%H%M%S-%f}-{os.getpid()}"
        for n in range(100):
            path = folder / (f"{stem}.log" if n == 0 else f"{stem}-{n}.log")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            return str(path)
        return None
    except OSError:
        return None


def report_crash(exc: BaseException) -> None:
    log = write_crash_log(exc)
    print(
        f"genaicompare: internal error: {type(exc).__name__}: {one_line(redact(str(exc)), 300)}",
        file=sys.stderr,
    )
    if log:
        print(f"genaicompare: details (no secrets, no local variables) in {log}", file=sys.stderr)


def guarded(fn: Callable[[], int]) -> int:
    try:
        return fn()
    except BrokenPipeError:
        # The reader of our stdout went away (`genaicompare export … -o - | head`): what it
        # read is what it wanted. Stop quietly, as cat and grep do; point stdout at /dev/null so
        # the interpreter's final flush does not fail again.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by a closed pipe
    except KeyboardInterrupt:
        print("genaicompare: interrupted", file=sys.stderr)
        return 130
    except KnownError as exc:
        print(f"genaicompare: {one_line(redact(str(exc)), 2000)}", file=sys.stderr)
        return 2
    except Exception as exc:
        report_crash(exc)
        return 2
