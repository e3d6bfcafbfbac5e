"""Exports keep hostile text but never write C1, bidi or zero-width controls raw (issue #18 §13):
U+009B (an 8-bit CSI a terminal obeys) and the Trojan-Source controls are escaped as JSON does,
in every export format and in ``ratings export`` lines, and parse back to the exact text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import export
from genaicompare.ratings import Ratings
from genaicompare.store import Store

HOSTILE = "ok \u009b31mred\u009b0m \u202egnp.exe\u202c \u2066x\u2069 zero\u200bwidth \u200f end"
RAW = [chr(c) for c in (0x9B, 0x202E, 0x202C, 0x2066, 0x2069, 0x200B, 0x200F)]


@pytest.fixture
def db(tmp_path: Path) -> Store:
    store = Store(tmp_path / "c.db")
    cat = Catalog.model_validate(
        {
            "name": "hostile",
            "models": [{"id": "a", "model": "openai/a"}, {"id": "b", "model": "openai/b"}],
            "prompts": [{"id": "p1", "prompt": "Say " + HOSTILE, "reference": HOSTILE}],
        }
    )
    cid = store.record_catalog(cat)
    recs = []
    for alias, text in (("a", "A " + HOSTILE), ("b", "B " + HOSTILE)):
        spec = cat.model_spec(alias)
        rec = ResponseRecord(
            prompt_id="p1",
            model_alias=alias,
            model=spec.model,
            params={},
            messages=cat.render(cat.prompt("p1"), spec).messages,
            text=text,
            state=FinishState.complete,
        )
        store.save_response(rec, catalog_id=cid)
        recs.append(rec)
    ann = Ratings(store, rater="ann")
    ann.thumb(recs[0], "up", comment="note " + HOSTILE)
    ann.thumb(recs[1], "down")
    ann.prefer(recs[0], recs[1], "a")
    yield store
    store.close()


@pytest.mark.parametrize("fmt", ["rated", "sft", "dpo", "kto"])
def test_exports_escape_controls_and_keep_the_text(db: Store, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"{fmt}.jsonl"
    export(db, "hostile", fmt, out)
    data = out.read_text(encoding="utf-8")
    assert [c for c in RAW if c in data] == []
    assert "\\u009b31m" in data and "\\u202e" in data
    lines = [json.loads(x) for x in data.split("\n") if x]
    assert lines and HOSTILE in json.dumps(lines, ensure_ascii=False)
    if fmt == "rated":
        a = next(x for x in lines[1:] if x["rated"]["model_alias"] == "a")
        assert a["rated"]["output"] == "A " + HOSTILE
        assert a["reference"] == HOSTILE
        assert a["rated"]["ratings"][0]["comment"] == "note " + HOSTILE


def test_ratings_export_lines_escape_controls(db: Store) -> None:
    lines = list(Ratings(db).export_jsonl())
    assert len(lines) == 3
    assert [c for c in RAW if c in "".join(lines)] == []
    assert json.loads(lines[0])["comment"] == "note " + HOSTILE
