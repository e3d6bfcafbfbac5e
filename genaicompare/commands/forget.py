"""``genaicompare forget --prompt ID | --model ALIAS | --rater NAME``: delete rows for good."""

from __future__ import annotations

import argparse

from genaicompare.commands._common import open_store
from genaicompare.core.errors import UserError
from genaicompare.core.sanitize import one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--prompt", metavar="ID", help="a prompt id: its answers, metrics, ratings")
    who.add_argument("--model", metavar="ALIAS", help="a model alias: its answers and ratings")
    who.add_argument("--rater", metavar="NAME", help="a rater: every rating they gave")


def main(args: argparse.Namespace) -> int:
    from genaicompare.store import ForgetError, forget

    with open_store(args) as store:
        try:
            res = forget(store, prompt=args.prompt, model=args.model, rater=args.rater)
        except ForgetError as exc:
            raise UserError(str(exc)) from None
        path = store.path
    print(
        f"deleted {res.responses} answer(s), {res.metrics} metric value(s), "
        f"{res.ratings} rating(s), {res.prompts} prompt row(s) from {one_line(str(path), 300)}"
    )
    if not res.checkpointed:
        print(
            "warning: another process is reading the database; the old pages leave the "
            "write-ahead log when it closes (run forget again to be sure)"
        )
    if res.exports:
        print("these earlier exports contain deleted rows; delete the files too:")
        for e in res.exports:
            print(
                f"  #{e['id']} {one_line(e['format'], 40)} {e['created_at']} "
                f"{one_line(e['path'] or '(stdout)', 300)}"
            )
    return 0
