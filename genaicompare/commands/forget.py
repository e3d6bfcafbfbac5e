"""`genaicompare forget` — not implemented yet (see the issue that owns it)."""

from __future__ import annotations

import argparse

from genaicompare.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("args", nargs="*")


def main(args: argparse.Namespace) -> int:
    raise UserError("'forget' is not available yet")
