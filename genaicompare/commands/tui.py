"""``genaicompare [CATALOG]``: the comparison TUI."""

from __future__ import annotations

import argparse

from genaicompare.commands._common import add_model_arguments
from genaicompare.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", nargs="?", help="catalog file (.yaml or .jsonl)")
    add_model_arguments(parser)


def main(args: argparse.Namespace) -> int:
    raise UserError("the TUI is not available yet; use `genaicompare run CATALOG`")
