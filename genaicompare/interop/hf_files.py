"""Local Hugging Face dataset files — JSONL, CSV and Parquet — as catalogs, with a column
mapping: ``id`` (else ``row-N``), ``prompt`` (text, or chat messages as they are), ``reference``
(text, or a list: several gold answers), ``system`` and ``tags`` (a list, or comma-separated).
A column that is mapped to nothing is listed once, with where it first appears."""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genaicompare.interop._rows import chat, jsonl_objects, key_column, read_text
from genaicompare.interop.report import ImportReport
from genaicompare.interop.writing import Imported, slug, unique


@dataclass(frozen=True)
class Columns:
    id: str | None = None
    prompt: str | None = None
    """Default: ``prompt``, else ``messages``, else ``question``."""
    reference: str | None = None
    """Default: ``reference``, else ``answer``, if present."""
    system: str | None = None
    tags: str | None = None


Row = tuple[dict[str, Any], dict[str, tuple[int, int]], str]
"""A row, each column's position (line, col; for Parquet: row, column number), its label."""


def _rows(path: Path) -> Iterator[Row]:
    from genaicompare.catalog.model import CatalogError

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        lines = read_text(path).splitlines()
        for n, obj in jsonl_objects(path):
            yield obj, {k: (n, key_column(lines[n - 1], k)) for k in obj}, f"line {n}"
    elif suffix == ".csv":
        text = read_text(path)
        reader = csv.reader(text.splitlines())
        header = next(reader, [])
        for n, row in enumerate(reader, 2):
            yield dict(zip(header, row, strict=False)), {k: (n, 1) for k in header}, f"line {n}"
    elif suffix == ".parquet":
        try:
            import pyarrow.parquet as pq  # lazy: optional (the interop extra)
        except ImportError:
            raise CatalogError(
                path, "reading Parquet needs pyarrow: pip install 'genaicompare[interop]'"
            ) from None
        table = pq.read_table(path)
        names = table.column_names
        for n, obj in enumerate(table.to_pylist(), 1):
            yield obj, {k: (n, j + 1) for j, k in enumerate(names)}, f"row {n}"
    else:
        raise CatalogError(path, "a dataset file is .jsonl, .csv or .parquet")


def import_rows(
    path: str | Path, columns: Columns | None = None, name: str | None = None
) -> Imported:
    from genaicompare.catalog.model import CatalogError

    path = Path(path)
    cols = columns or Columns()
    report = ImportReport()
    prompts: list[dict[str, Any]] = []
    taken: set[str] = set()
    listed: set[str] = set()
    for i, (row, pos, label) in enumerate(_rows(path)):
        pcol = cols.prompt or next(
            (c for c in ("prompt", "messages", "question") if c in row), None
        )
        rcol = cols.reference or next((c for c in ("reference", "answer") if c in row), None)
        if pcol is None or pcol not in row:
            raise CatalogError(
                path,
                f"{label}: no prompt column {pcol or 'prompt'!r} (choose one with --prompt-col)",
                *pos.get(pcol or "", (None, None)),
            )
        mapped = {c for c in (cols.id, pcol, rcol, cols.system, cols.tags) if c}
        for key in row:
            if key not in mapped and key not in listed:
                listed.add(key)
                report.skip(path, pos.get(key), key, "column mapped to no catalog field")
        raw_id = row.get(cols.id) if cols.id else None
        pid = unique(
            slug(str(raw_id), f"row-{i + 1}") if raw_id is not None else f"row-{i + 1}", taken
        )
        entry: dict[str, Any] = {"id": pid}
        value = row[pcol]
        if isinstance(value, str) and value.lstrip().startswith("[") and path.suffix == ".csv":
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if isinstance(value, str):
            entry["prompt"] = value
        else:
            at = pos.get(pcol)
            messages = chat(value, report, path, lambda _l: at, f"{label}.{pcol}")  # noqa: B023 (called now)
            if messages is None:
                continue
            entry["messages"] = messages
        if rcol and row.get(rcol) not in (None, ""):
            ref = row[rcol]
            refs = [str(r) for r in ref] if isinstance(ref, list) else [str(ref)]
            entry["reference"] = refs[0]
            if len(refs) > 1:
                entry["references"] = refs
        if cols.system and row.get(cols.system):
            if "messages" in entry:
                report.skip(
                    path,
                    pos.get(cols.system),
                    f"{label}.{cols.system}",
                    "a system column beside chat messages (write it as a message)",
                )
            else:
                entry["system"] = str(row[cols.system])
        if cols.tags and row.get(cols.tags) not in (None, ""):
            tags = row[cols.tags]
            entry["tags"] = (
                [str(t) for t in tags]
                if isinstance(tags, list)
                else [t.strip() for t in str(tags).split(",") if t.strip()]
            )
        prompts.append(entry)
        report.count("prompts")
    return Imported(
        catalog={"name": name or path.stem, "version": "1", "prompts": prompts}, report=report
    )
