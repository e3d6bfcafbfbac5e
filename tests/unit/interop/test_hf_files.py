"""Local HF dataset files (JSONL, CSV, Parquet) with a column mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.catalog import CatalogError
from genaicompare.interop.hf_files import Columns, import_rows

from ._support import DATA, dump, golden, lines, written

MAPPING = Columns(id="qid", prompt="question", reference="answer", system="sys", tags="topics")


def test_jsonl_matches_the_golden_catalog(tmp_path: Path) -> None:
    catalog = written(import_rows(DATA / "hf" / "rows.jsonl", MAPPING).catalog, tmp_path)
    assert dump(catalog) == dump(golden("hf/rows.expected.yaml"))


def test_unmapped_columns_are_listed_once() -> None:
    path = DATA / "hf" / "rows.jsonl"
    assert lines(import_rows(path, MAPPING).report) == [
        f"{path}:1:105: difficulty: not imported: column mapped to no catalog field"
    ]


def test_csv(tmp_path: Path) -> None:
    cols = Columns(id="qid", prompt="question", reference="answer", system="sys")
    catalog = written(import_rows(DATA / "hf" / "rows.csv", cols).catalog, tmp_path)
    assert [(p.id, p.prompt, p.reference, p.system) for p in catalog.prompts] == [
        ("q1", "Capital of Italy?", "Rome", "Be brief."),
        ("q2", "Capital of Spain, please?", "Madrid", None),
    ]


def test_parquet_with_a_messages_column(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = [json.loads(line) for line in (DATA / "hf" / "rows.jsonl").read_text().splitlines()]
    table = pa.Table.from_pylist(
        [
            {
                "messages": r["question"]
                if isinstance(r["question"], list)
                else [{"role": "user", "content": r["question"]}],
                "answer": r["answer"] if isinstance(r["answer"], list) else [r["answer"]],
                "qid": r["qid"],
            }
            for r in rows
        ]
    )
    path = tmp_path / "train.parquet"
    pq.write_table(table, path)
    imported = import_rows(path, Columns(id="qid", reference="answer"))
    catalog = written(imported.catalog, tmp_path)
    assert [p.id for p in catalog.prompts] == ["q1", "q2"]
    assert catalog.prompts[0].messages[0].content == "Capital of Italy?"  # type: ignore[index]
    assert catalog.prompts[1].references == ["Madrid", "madrid"]
    assert imported.report.not_mapped == []


def test_a_missing_prompt_column_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no prompt column 'text'"):
        import_rows(DATA / "hf" / "rows.jsonl", Columns(prompt="text"))
