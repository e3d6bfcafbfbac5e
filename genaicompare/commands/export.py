"""``genaicompare export CATALOG --format rated|sft|dpo|kto -o FILE``: rated answers or training data."""

from __future__ import annotations

import argparse
import sys

from genaicompare.commands._common import iso_date, open_store
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", help="catalog file, or the name of a catalog in the database")
    parser.add_argument(
        "--format",
        "-f",
        dest="fmt",
        default="rated",
        choices=["rated", "sft", "dpo", "kto", *INTEROP_FORMATS],
        help="rated (default): every answer with its ratings, loads back as a "
        "catalog; sft: thumbs-up chats; dpo: chosen/rejected; kto: thumbs; other tools: "
        "promptfoo (a config from the catalog file), hf-sft/hf-dpo/hf-kto (a Hugging Face "
        "datasets folder: Parquet + card), llm-comparator, label-studio, argilla (JSON)",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output file (written atomically), or - for stdout"
    )
    parser.add_argument(
        "--openai", action="store_true", help="dpo in OpenAI's preference fine-tuning shape"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="ALIAS",
        help="only these models (repeatable)",
    )
    parser.add_argument("--tag", action="append", default=[], help="only prompts with a tag")
    parser.add_argument("--rater", action="append", default=[], help="only these raters' ratings")
    parser.add_argument(
        "--since",
        type=iso_date,
        help="only ratings (and, for rated, answers) from this date (YYYY-MM-DD, or an ISO "
        "timestamp; UTC unless it carries an offset)",
    )
    parser.add_argument(
        "--until",
        type=iso_date,
        help="only ratings (and answers) up to this date (inclusive) or timestamp",
    )
    parser.add_argument(
        "--redact-pii",
        action="store_true",
        help="mask detected PII (emails, phones, cards, IBANs, ...) in all text",
    )


INTEROP_FORMATS = (
    "promptfoo",
    "hf-sft",
    "hf-dpo",
    "hf-kto",
    "llm-comparator",
    "label-studio",
    "argilla",
)


def main(args: argparse.Namespace) -> int:
    if args.fmt in INTEROP_FORMATS:
        from genaicompare.commands._interop_export import export_interop

        return export_interop(args)
    from genaicompare.exports import ExportError, ExportFilters, export
    from genaicompare.store import catalog_name

    filters = ExportFilters(
        models=args.model, tags=args.tag, raters=args.rater, since=args.since, until=args.until
    )
    with open_store(args) as store:
        name = catalog_name(args.catalog, store)
        try:
            result = export(
                store,
                name,
                args.fmt,
                args.output,
                openai=args.openai,
                filters=filters,
                redact_pii=args.redact_pii,
            )
        except ExportError as exc:
            raise UserError(str(exc)) from None
        except BrokenPipeError:
            raise  # the reader stopped (`| head`): guarded() ends quietly
        except OSError as exc:
            raise UserError(f"{args.output}: {exc.strerror or exc}") from None
    where = "stdout" if result.path is None else one_line(result.path, 300)
    print(
        f"exported {result.lines} {args.fmt} line(s) to {where} (export #{result.export_id})",
        file=sys.stderr,
    )
    for reason, count in sorted(result.skipped.items()):
        print(f"skipped {count} pair(s): {reason}", file=sys.stderr)
    return 0
