"""One export: choose the lines, redact them, write them atomically, record the export.

Writes are atomic (:func:`genaicompare.core.files.atomic_open`: temporary file in the target
folder, fsync, rename, fsync of the folder). Every string round-trips (:func:`dumps_line`). Each
export is recorded in the ``exports`` table, so ``forget`` can name the files that still hold text
it deletes from the database: an export is recorded or not written (the record is made before
the file takes its name; a record that fails is an :class:`ExportError` and leaves no file).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from genaicompare.core.errors import StoreError
from genaicompare.core.files import atomic_open, dumps_line
from genaicompare.core.paths import data_dir
from genaicompare.exports.answers import ExportError, ExportFilters, Selection, _Answer
from genaicompare.exports.rated import _rated_header, _rated_line
from genaicompare.exports.redact import _NOT_TEXT, _map_strings, _pii_redactor, _without
from genaicompare.exports.training import _training_lines
from genaicompare.store import now_iso

if TYPE_CHECKING:
    from genaicompare.store import Store

FORMATS = ("rated", "sft", "dpo", "kto")


@dataclass
class ExportResult:
    format: str
    path: str | None
    lines: int
    export_id: int
    response_ids: list[int]
    skipped: dict[str, int] = field(default_factory=dict)
    """Records left out, by reason (e.g. DPO pairs with identical texts): what the summary says."""


def _lines(
    fmt: str,
    selection: Selection,
    catalog: str,
    version: str | None,
    openai: bool,
    skipped: Counter[str],
) -> Iterator[tuple[dict[str, Any], list[_Answer]]]:
    if fmt == "rated":
        for a in selection.answers():
            yield _rated_line(a, catalog, version), [a]
    else:
        yield from _training_lines(fmt, selection, openai, skipped)


@dataclass
class _Used:
    """What the export record names (``forget`` reads it): kept as the lines go by, not the
    answers themselves."""

    ids: array[int] = field(default_factory=lambda: array("q"))
    runs: set[int] = field(default_factory=set)
    prompts: set[str] = field(default_factory=set)
    models: set[str] = field(default_factory=set)
    raters: set[str] = field(default_factory=set)
    _sorted: list[int] | None = None

    def add(self, a: _Answer) -> None:
        self._sorted = None
        self.ids.append(a.row["id"])
        if a.row["run_id"]:
            self.runs.add(a.row["run_id"])
        self.prompts.add(a.row["prompt_id"])
        self.models.add(a.row["model_alias"])
        self.raters.update(r["rater"] for r in (*a.thumbs, *a.prefs))

    def response_ids(self) -> list[int]:
        """Every answer the lines hold, once, in id order (sorted once: the record and the
        result both name them)."""
        if self._sorted is None:
            self._sorted = sorted(set(self.ids))
        return self._sorted


def export(
    store: Store,
    catalog: str,
    fmt: str = "rated",
    output: str | Path = "-",
    *,
    openai: bool = False,
    filters: ExportFilters | None = None,
    redact_pii: bool = False,
    stdout: IO[str] | None = None,
) -> ExportResult:
    """Write one export and record it. ``output`` ``"-"`` writes to ``stdout``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if openai and fmt != "dpo":
        raise ExportError("--openai applies to --format dpo (sft is already OpenAI's format)")
    filters = filters or ExportFilters()
    redact = _pii_redactor() if redact_pii else None
    with Selection(store, catalog, filters, for_rated=fmt == "rated") as selection:
        return _export(store, catalog, fmt, output, openai, filters, redact, stdout, selection)


def _export(
    store: Store,
    catalog: str,
    fmt: str,
    output: str | Path,
    openai: bool,
    filters: ExportFilters,
    redact: Any,
    stdout: IO[str] | None,
    selection: Selection,
) -> ExportResult:
    from genaicompare.core.sanitize import secret_values

    # A model can echo a key it saw: the values of credential-like environment variables never
    # reach an export. (Key-shaped patterns are left alone: they would alter legitimate text.)
    secrets = secret_values()
    used = _Used()
    skipped: Counter[str] = Counter()
    version = selection.version

    def produce() -> Iterator[str]:
        if fmt == "rated":
            yield dumps_line(_rated_header(selection, catalog, version))
        for obj, parts in _lines(fmt, selection, catalog, version, openai, skipped):
            for a in parts:
                used.add(a)
            if redact is not None:
                obj = _map_strings(obj, redact, _NOT_TEXT)
            if secrets:
                obj = _map_strings(obj, _without(secrets), frozenset())
            yield dumps_line(obj)

    target: str | None = None

    def record(n: int) -> int:
        """Record the export (``n`` lines); a failure is the user's error, nothing recorded."""
        row = {
            "format": fmt + (" (openai)" if openai else "") + (" redacted" if redact else ""),
            "path": target,
            "filters": json.dumps(asdict(filters), sort_keys=True),
            "response_ids": json.dumps(used.response_ids()),
            "run_ids": json.dumps(sorted(used.runs)),
            "created_at": now_iso(),
            "database": str(store.path.resolve()),
            "catalog_name": catalog,
            "prompt_ids": json.dumps(sorted(used.prompts)),
            "model_aliases": json.dumps(sorted(used.models)),
            "raters": json.dumps(sorted(used.raters)),
            "lines": n,
        }

        def insert(conn: sqlite3.Connection) -> int:
            cols = ", ".join(row)
            cur = conn.execute(
                f"INSERT INTO exports ({cols}) VALUES ({', '.join('?' * len(row))})",
                list(row.values()),
            )
            return int(cur.lastrowid or 0)

        try:
            return store.write(insert)
        except (sqlite3.Error, StoreError) as exc:
            where = "stdout" if target is None else f"{target}: not written"
            raise ExportError(
                f"{where}: the export could not be recorded in {store.path} "
                f"(forget would not know the file): {exc}"
            ) from None

    header = 1 if fmt == "rated" else 0  # the header line is not a record
    if str(output) == "-":
        out = stdout or sys.stdout
        n = sum(out.write(line + "\n") >= 0 for line in produce())
        out.flush()
        export_id = record(n - header)
    else:
        path = Path(output).expanduser()
        if path.is_dir():
            raise ExportError(f"{path} is a folder; give a file name")
        if not path.parent.exists():
            raise ExportError(f"{path.parent}: no such folder")
        target = str(path.resolve())
        # Recorded or not written: the record is made before the file takes its name; a failed
        # record leaves no file (and an older file of that name as it was), a failed rename
        # takes the record back.
        export_id = 0
        try:
            with atomic_open(path) as fh:
                n = 0
                for line in produce():
                    fh.write(line)
                    fh.write("\n")
                    n += 1
                export_id = record(n - header)
        except OSError:
            if export_id:
                with contextlib.suppress(sqlite3.Error, StoreError):
                    store.write(
                        lambda c: c.execute("DELETE FROM exports WHERE id = ?", [export_id])
                    )
            raise
    n -= header
    return ExportResult(
        format=fmt,
        path=target,
        lines=n,
        export_id=export_id,
        response_ids=used.response_ids(),
        skipped=dict(skipped),
    )


def export_file(store: Store, catalog: str, fmt: str) -> tuple[str | None, int, dict[str, int]]:
    """Write ``catalog``'s ``fmt`` export (rated, sft, dpo, kto) to a new file in the data
    folder's ``exports/`` (named with the time: an earlier export is never overwritten) and
    return ``(path, lines, skipped)``, ``skipped`` the records left out by reason. When nothing
    qualifies the empty file is removed: path None, 0 lines (the attempt stays in the exports
    table with 0 lines)."""
    folder = data_dir() / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", catalog)
    stem = f"{name}-{fmt}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = folder / f"{stem}.jsonl", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.jsonl"
    result = export(store, catalog, fmt, path)
    if result.lines == 0:
        path.unlink(missing_ok=True)
        return None, 0, dict(result.skipped)
    return result.path, result.lines, dict(result.skipped)


def record_target(store: Store, export_id: int, path: str | Path, fmt: str) -> None:
    """Name the file (or folder) an export's lines were turned into by another writer (the
    interop formats), so ``forget`` lists it like any other export."""
    store.write(
        lambda c: c.execute(
            "UPDATE exports SET path = ?, format = ? WHERE id = ?",
            [str(Path(path).resolve()), fmt, export_id],
        )
    )
