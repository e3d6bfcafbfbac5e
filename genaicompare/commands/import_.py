"""``genaicompare import FORMAT FILE [-o catalog.yaml]``: a catalog from another tool's file.

Formats: promptfoo, openai-evals, inspect, hf (JSONL/CSV/Parquet with a column mapping),
label-studio, argilla. Every item that does not map is printed, ``file:line:col: field: not
imported: why``; answers and votes in the file (Inspect outputs, annotation tools' pairs) are
stored in the database so they can be rated, scored and compared with live models.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from genaicompare.interop.writing import Imported

FORMATS = ("promptfoo", "openai-evals", "inspect", "hf", "label-studio", "argilla")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=FORMATS, help="the file's format")
    parser.add_argument("file", help="the file to import")
    parser.add_argument(
        "-o", "--output", help="catalog to write (default: FILE's name + .catalog.yaml, here)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing --output")
    parser.add_argument("--name", help="catalog name (default: from the file)")
    parser.add_argument("--rater", help="record imported votes under this rater name")
    group = parser.add_argument_group("hf column mapping")
    group.add_argument("--id-col", help="column with the prompt id (default: row-N)")
    group.add_argument("--prompt-col", help="prompt text or chat messages (default: prompt)")
    group.add_argument("--reference-col", help="reference text, or a list (default: reference)")
    group.add_argument("--system-col", help="system prompt column")
    group.add_argument("--tags-col", help="tags column (a list, or comma-separated)")


def main(args: argparse.Namespace) -> int:
    from genaicompare.interop import write_catalog
    from genaicompare.interop.writing import store_imported

    source = Path(args.file)
    if not source.is_file():
        raise UserError(f"{args.file}: no such file")
    output = Path(args.output or f"{source.stem}.catalog.yaml")
    if output.resolve() == source.resolve():
        raise UserError(f"{output}: the catalog would overwrite the file it is imported from")
    if output.exists() and not args.force:
        raise UserError(f"{output} exists; give another -o or --force")
    imported: Imported = _read(args, source)
    for item in imported.report.not_mapped:
        print(one_line(str(item), 500), file=sys.stderr)
    if not imported.catalog.get("prompts"):
        raise UserError(f"{args.file}: nothing to import (no prompt could be read)")
    catalog = write_catalog(imported.catalog, output)
    print(f"{imported.report.summary()}", file=sys.stderr)
    print(
        f"wrote {output} ({len(catalog.prompts)} prompts, {len(catalog.models)} models)",
        file=sys.stderr,
    )
    if imported.answers:
        from genaicompare.commands._common import open_store

        with open_store(args) as store:
            answers, votes = store_imported(store, catalog, output, imported, args.rater)
        print(
            f"stored {answers} answer(s) and {votes} vote(s) in {one_line(str(store.path), 300)}"
            + (
                " (the rest were already there)"
                if (answers, votes) != (len(imported.answers), len(imported.votes))
                else ""
            ),
            file=sys.stderr,
        )
    return 0


def _read(args: argparse.Namespace, source: Path) -> Imported:
    fmt = args.format
    if fmt == "promptfoo":
        from genaicompare.interop.promptfoo import import_config

        imported = import_config(source)
        if args.name:
            imported.catalog["name"] = args.name
        return imported
    if fmt == "openai-evals":
        from genaicompare.interop.openai_evals import import_samples

        return import_samples(source, args.name)
    if fmt == "inspect":
        from genaicompare.interop.inspect_log import import_log

        return import_log(source, args.name)
    if fmt == "hf":
        from genaicompare.interop.hf_files import Columns, import_rows

        cols = Columns(
            args.id_col, args.prompt_col, args.reference_col, args.system_col, args.tags_col
        )
        return import_rows(source, cols, args.name)
    from genaicompare.interop.annotation import import_argilla, import_label_studio

    read = import_label_studio if fmt == "label-studio" else import_argilla
    return read(source, args.name, args.rater)


def recognised(path: str | Path) -> str | None:
    """The import format of a file ``genaicompare FILE`` opens directly: a promptfoo config
    (``promptfooconfig.yaml`` / ``.yml``), else None (a catalog)."""
    name = Path(path).name.lower()
    return "promptfoo" if name in ("promptfooconfig.yaml", "promptfooconfig.yml") else None


def import_for_tui(path: str) -> str:
    """Import a recognised file into a catalog under the data dir's ``imported/`` and return its
    path; what did not map is printed first (stderr), as ``genaicompare import`` does."""
    from genaicompare.core.paths import data_dir
    from genaicompare.interop import write_catalog
    from genaicompare.interop.promptfoo import import_config

    source = Path(path).resolve()
    imported = import_config(source)
    for item in imported.report.not_mapped:
        print(one_line(str(item), 500), file=sys.stderr)
    folder = data_dir() / "imported"
    folder.mkdir(parents=True, exist_ok=True)
    stem = source.parent.name or "promptfoo"
    out = folder / f"{stem}-promptfoo.catalog.yaml"
    write_catalog(imported.catalog, out)
    print(f"{imported.report.summary()}; opening {one_line(str(out), 300)}", file=sys.stderr)
    return str(out)
