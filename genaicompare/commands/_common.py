"""Pieces every command shares: opening the store, loading a catalog with ``-m`` models."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from genaicompare.core.errors import UserError
from genaicompare.core.paths import default_db_path

if TYPE_CHECKING:  # sqlite-utils imports pandas (≈1 s): the TUI opens the store after first paint
    from genaicompare.catalog import Catalog  # pydantic: the TUI reads catalogs after first paint
    from genaicompare.store import Store


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
    from genaicompare.store import Store

    return Store(db_path(args))


def load_with_models(path: str, models: list[str], replace: bool) -> Catalog:
    if not Path(path).exists():
        raise UserError(f"{path}: no such file")
    from genaicompare.catalog import load_catalog, with_models

    catalog = load_catalog(path)
    if models or replace:
        catalog = with_models(catalog, models, replace)
    if not catalog.models:
        raise UserError(f"{path}: no models to run: add 'models:' to the catalog or pass -m MODEL")
    return catalog
