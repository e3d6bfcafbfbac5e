"""``genaicompare export --format promptfoo|hf-sft|hf-dpo|hf-kto|llm-comparator|label-studio|
argilla``: the exports package chooses the lines (rated or training, with every filter and
redaction), the interop package writes them in the other tool's shape."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import Any

from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line


def export_interop(args: argparse.Namespace) -> int:
    fmt = args.fmt
    if args.output == "-" and fmt.startswith("hf-"):
        raise UserError(f"--format {fmt} writes a folder; give -o FOLDER")
    if fmt == "promptfoo":
        return _promptfoo(args)
    from genaicompare.commands._common import open_store
    from genaicompare.exports import ExportError, ExportFilters, export, record_target
    from genaicompare.store import catalog_name

    filters = ExportFilters(
        models=args.model, tags=args.tag, raters=args.rater, since=args.since, until=args.until
    )
    base = fmt[3:] if fmt.startswith("hf-") else "rated"
    buf = io.StringIO()
    with open_store(args) as store:
        name = catalog_name(args.catalog, store)
        try:
            result = export(
                store, name, base, "-", filters=filters, redact_pii=args.redact_pii, stdout=buf
            )
        except ExportError as exc:
            raise UserError(str(exc)) from None
        lines = [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]
        if base == "rated":
            version = lines[0].get("version") if lines else None
        else:
            rows = store.query(
                "SELECT version FROM catalogs WHERE name = ? ORDER BY id DESC LIMIT 1", [name]
            )
            version = rows[0]["version"] if rows else None
        n, note = _write(fmt, lines, args.output, name, version)
        if args.output != "-":
            record_target(store, result.export_id, args.output, fmt)
    where = "stdout" if args.output == "-" else one_line(str(Path(args.output).resolve()), 300)
    print(
        f"exported {n} {fmt} record(s) to {where} (export #{result.export_id}){note}",
        file=sys.stderr,
    )
    for reason, count in sorted(result.skipped.items()):
        print(f"skipped {count} pair(s): {reason}", file=sys.stderr)
    return 0


def _write(
    fmt: str, lines: list[dict[str, Any]], output: str, name: str, version: str | None
) -> tuple[int, str]:
    if fmt.startswith("hf-"):
        from genaicompare.interop.hf_dataset import write_dataset

        return write_dataset(output, fmt[3:], lines, name, version), ""
    from genaicompare.interop.annotation import pairs_from_rated, to_argilla, to_label_studio

    note = ""
    doc: Any
    if fmt == "llm-comparator":
        from genaicompare.interop.llm_comparator import to_llm_comparator

        doc, left = to_llm_comparator(lines, f"genaicompare: {name} v{version}")
        n = len(doc.get("examples", []))
        if left:
            note = f"; {left} prompt(s) without two models' answers left out"
    else:
        pairs = pairs_from_rated(lines)
        doc = to_label_studio(pairs) if fmt == "label-studio" else to_argilla(pairs)
        n = len(doc)
    if n == 0:
        raise UserError(f"{name}: no prompt has two models' answers to export as {fmt}")
    _emit(json.dumps(doc, ensure_ascii=False, indent=1), output)
    return n, note


def _emit(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text + "\n")
        return
    from genaicompare.core.files import write_atomic

    write_atomic(output, text + "\n")


def _promptfoo(args: argparse.Namespace) -> int:
    from genaicompare.catalog import load_catalog
    from genaicompare.interop.promptfoo import export_config
    from genaicompare.interop.writing import dump_yaml

    if not Path(args.catalog).is_file():
        raise UserError(f"{args.catalog}: --format promptfoo exports a catalog file")
    catalog = load_catalog(args.catalog)
    config, missing = export_config(catalog)
    for line in missing:
        print(
            f"{one_line(args.catalog, 300)}: {one_line(line, 300)}: not exported", file=sys.stderr
        )
    if not config["providers"]:
        raise UserError(
            f"{args.catalog}: no model maps to a promptfoo provider; promptfoo needs at least one"
        )
    _emit(dump_yaml(config).rstrip("\n"), args.output)
    where = "stdout" if args.output == "-" else one_line(args.output, 300)
    print(
        f"exported {len(config['tests'])} test(s), {len(config['providers'])} provider(s) to "
        f"{where}",
        file=sys.stderr,
    )
    return 0
