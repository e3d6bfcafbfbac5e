"""Pieces every command shares: opening the store, loading a catalog with ``-m`` models, and the
argparse ``type=`` checks that turn a bad option value into a usage error (exit code 2, naming the
option) before any work starts."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaicompare.core.errors import UserError
from genaicompare.core.paths import default_db_path

if TYPE_CHECKING:  # sqlite-utils imports pandas (≈1 s): the TUI opens the store after first paint
    from genaicompare.catalog import Catalog  # pydantic: the TUI reads catalogs after first paint
    from genaicompare.store import Store


# -- option values: argparse ``type=`` functions ---------------------------------------------------
# argparse reports an ArgumentTypeError as ``PROG: error: argument --NAME: MESSAGE`` and exits 2.


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def non_negative_int(text: str) -> int:
    """A whole number ≥ 0 (``--retries``, ``--max-errors``)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """A whole number ≥ 1 (``--jobs``, ``--repeat``)."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text!r}")
    return value


def int_between(low: int, high: int) -> Callable[[str], int]:
    """A whole number from ``low`` to ``high`` inclusive (``--prefetch``: 0–10)."""

    def check(text: str) -> int:
        value = _int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, got {text!r}")
        return value

    check.__name__ = f"int_between_{low}_{high}"
    return check


def positive_seconds(text: str) -> float:
    """A finite number of seconds > 0 (timeouts): not 0, negative, ``nan`` or ``inf``."""
    try:
        value = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, got {text!r}")
    return value


def iso_date(text: str) -> str:
    """``YYYY-MM-DD`` or an ISO timestamp, in the stored timestamps' form (UTC, milliseconds)
    so that comparing strings compares times; a timestamp without an offset is UTC."""
    raw = text.strip()
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (YYYY-MM-DD) or an ISO timestamp (2026-01-31T12:00), got {text!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-m",
        "--model",
        dest="models",
        action="append",
        default=[],
        metavar="MODEL",
        help="litellm model string to compare (repeatable), e.g. -m openai/gpt-4o-mini; "
        "added to the catalog's models unless --replace-models",
    )
    parser.add_argument(
        "--replace-models", action="store_true", help="use only the -m models, not the catalog's"
    )


def db_path(args: argparse.Namespace) -> Path:
    return Path(args.db).expanduser() if getattr(args, "db", None) else default_db_path()


def open_store(args: argparse.Namespace) -> Store:
    """The ``--db`` database; an upgrade that reads many stored answers is announced on stderr
    (stdout keeps only the command's output: ``--json``, exports)."""
    from genaicompare.store import Store

    def notice(message: str) -> None:
        print(f"genaicompare: {message}", file=sys.stderr, flush=True)

    return Store(db_path(args), notice=notice)


def load_with_models(path: str, models: list[str], replace: bool) -> Catalog:
    if not Path(path).exists():
        raise UserError(f"{path}: no such file")
    from genaicompare.catalog import load_catalog, with_models

    catalog = load_catalog(path, check_assert=_check_assert)
    if models or replace:
        catalog = with_models(catalog, models, replace)
    if not catalog.models:
        raise UserError(f"{path}: no models to run: add 'models:' to the catalog or pass -m MODEL")
    return catalog


def _check_assert(spec: Mapping[str, Any]) -> None:
    """One prompt's ``assert`` entry, read by the metrics' grammar (a bad one: the loader gives
    it the entry's file:line:col)."""
    # lazy: only with assert:, and only the grammar and the names (the engine imports numpy)
    from genaicompare.metrics.assertions import parse_assertions
    from genaicompare.metrics.names import is_known_metric

    parse_assertions(spec, is_known_metric)
