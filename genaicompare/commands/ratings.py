"""``genaicompare ratings import FILE`` / ``ratings export -o FILE``: exchange raters' ratings."""

from __future__ import annotations

import argparse
import sys

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser(
        "import",
        help="merge ratings from a ratings or rated export (importing twice changes nothing)",
    )
    imp.add_argument("file", help="JSONL written by `ratings export` or `export --format rated`")
    exp = sub.add_parser("export", help="write every rating row (retractions too) as JSONL")
    exp.add_argument("-o", "--output", required=True, help="output file, or - for stdout")
    exp.add_argument("--rater", help="only this rater's rows")
    for p in (imp, exp):
        # Also accepted after the action; SUPPRESS keeps a value given before it.
        p.add_argument("--db", default=argparse.SUPPRESS, help="SQLite database file")


def main(args: argparse.Namespace) -> int:
    from genaicompare.ratings import Ratings

    with open_store(args) as store:
        ratings = Ratings(store, rater="-")
        if args.action == "import":
            res = ratings.import_jsonl(args.file)
            print(f"read {res.read} rating(s): {res.added} added, {res.skipped} already present")
            return 0
        lines = ratings.export_jsonl(args.rater)
        if args.output == "-":
            n = sum(sys.stdout.write(line + "\n") >= 0 for line in lines)
        else:
            from genaicompare.core.files import write_atomic

            try:
                n = write_atomic(args.output, lines)
            except OSError as exc:
                raise UserError(f"{args.output}: {exc.strerror or exc}") from None
        where = "stdout" if args.output == "-" else one_line(args.output, 300)
        print(f"wrote {n} rating row(s) to {where}", file=sys.stderr)
    return 0
