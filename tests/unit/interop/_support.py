"""Shared by the interop tests: fixture paths, the golden catalogs, loading what was written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from genaicompare.catalog import Catalog, load_catalog
from genaicompare.interop import write_catalog
from genaicompare.metrics import parse_assertions

DATA = Path(__file__).resolve().parents[2] / "data" / "interop"


def golden(name: str) -> Catalog:
    return load_catalog(DATA / name, check_assert=parse_assertions)


def written(data: dict[str, Any], tmp_path: Path, name: str = "out.yaml") -> Catalog:
    """Write through the importer's writer and load with genaicompare's loader."""
    return write_catalog(data, tmp_path / name)


def dump(catalog: Catalog) -> dict[str, Any]:
    return catalog.model_dump(mode="json", by_alias=True, exclude_none=True)


def lines(report: Any) -> list[str]:
    return [str(item) for item in report.not_mapped]
