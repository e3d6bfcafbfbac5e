"""The one atomic writer: a reader sees the old file or the whole new one, never half of either.

Temp file in the same folder → write → flush + fsync the file → ``os.replace`` → fsync the folder,
so the rename itself survives a power cut (ext4 and XFS may otherwise forget it). Exports, reports,
the config file, the catalog cache and ``metrics --output`` all write through here.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

# Written as \uXXXX, the way JSON escapes (the text parses back unchanged): line separators a
# splitter would break on, lone surrogates, C1 controls (U+0080–U+009F: U+009B is an 8-bit CSI
# that a terminal obeys), and the bidi and zero-width controls that make text read otherwise
# than it is (CVE-2021-42574 "Trojan Source": U+202A–202E, U+2066–2069, U+200B–200F, U+061C,
# U+FEFF).
_UNSAFE_IN_LINE = re.compile(
    "[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename in ``folder`` durable; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, *, mkdir: bool = False) -> Iterator[IO[str]]:
    """A text handle (UTF-8, ``\\n`` newlines) whose content replaces ``path`` on a clean exit.

    On any exception, the temp file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if mkdir:
        folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def write_atomic(path: str | Path, data: str | Iterable[str], *, mkdir: bool = False) -> int:
    """Write ``data`` to ``path`` atomically.

    A ``str`` is written as is (returns its length); any other iterable is taken as lines without
    their newlines, each written followed by ``\\n`` (returns how many lines).
    """
    with atomic_open(path, mkdir=mkdir) as fh:
        if isinstance(data, str):
            fh.write(data)
            return len(data)
        n = 0
        for line in data:
            fh.write(line)
            fh.write("\n")
            n += 1
        return n


def escape_line(text: str) -> str:
    """``text`` (a JSON document) with every character of :data:`_UNSAFE_IN_LINE` written as
    ``\\uXXXX``. Valid only on JSON, where such characters can only stand inside strings."""
    return _UNSAFE_IN_LINE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def dumps_line(obj: Any) -> str:
    """One JSON line that any JSON parser and any line splitter read back unchanged.

    Line separators (U+2028/U+2029/U+0085), lone surrogates, C1 controls and bidi/zero-width
    controls are written as ``\\uXXXX``, so no line splitter sees a line break inside a record, no
    terminal or editor showing the file obeys a control hidden in the text, and every string
    round-trips.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return escape_line(text)
