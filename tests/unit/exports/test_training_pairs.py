"""Training exports a trainer can trust (issue #12 §6), on a real database and real files.

* DPO never holds a pair whose chosen and rejected texts are identical; such pairs are skipped
  and counted in the export's summary.
* DPO pairs only answers of the same conversation (the same messages: system prompt, few-shot,
  user turn); a pair of answers generated under different system prompts is skipped, counted.
* KTO gives each answer the messages it was generated from, not another model's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import export
from genaicompare.exports.training import SKIP_IDENTICAL, SKIP_OTHER_CONVERSATION
from genaicompare.ratings import Ratings
from genaicompare.store import Store

TERSE = "Answer with the shortest correct answer."
FRIENDLY = "You are a friendly tutor."
CATALOG = {
    "name": "quickstart",
    "models": [
        {"id": "terse", "model": "local/smollm2", "system": TERSE, "params": {"temperature": 0.2}},
        # Same system prompt as terse, another temperature: the same conversation.
        {"id": "hot", "model": "local/smollm2", "system": TERSE, "params": {"temperature": 1.0}},
        {"id": "friendly", "model": "local/smollm2", "system": FRIENDLY},
    ],
    "templates": {"capital": "What is the capital city of {{country}}?"},
    "prompts": [
        {"id": "apples", "prompt": "3 apples, buy 4, eat 2. How many?", "reference": "5"},
        {"id": "capital", "template": "capital", "vars": {"country": "Australia"}},
    ],
}
TEXTS = {
    ("terse", "apples"): "5",
    ("hot", "apples"): "5",  # identical to terse's
    ("friendly", "apples"): "There are 5 apples left!",
    ("terse", "capital"): "Canberra",
    ("hot", "capital"): "Sydney",
    ("friendly", "capital"): "Canberra, a lovely city!",
}


@pytest.fixture
def db(tmp_path: Path) -> Store:
    store = Store(tmp_path / "t.db")
    cat = Catalog.model_validate(CATALOG)
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "tui")
    recs = {}
    for prompt in cat.prompts:
        for spec in cat.models:
            rendered = cat.render(prompt, spec)
            rec = ResponseRecord(
                prompt_id=prompt.id,
                model_alias=spec.id,
                model=spec.model,
                params=cat.params_for(spec),
                messages=rendered.messages,
                template_hash=rendered.template_hash,
                text=TEXTS[(spec.id, prompt.id)],
                state=FinishState.complete,
            )
            store.save_response(rec, run_id=run, catalog_id=cid)
            recs[(spec.id, prompt.id)] = rec
    ann = Ratings(store, rater="ann")
    ann.prefer(recs[("terse", "apples")], recs[("hot", "apples")], "b")  # identical texts
    ann.prefer(recs[("terse", "capital")], recs[("friendly", "capital")], "a")  # other system
    ann.prefer(recs[("terse", "capital")], recs[("hot", "capital")], "a")  # a real pair
    ann.thumb(recs[("friendly", "apples")], "up")
    ann.thumb(recs[("terse", "apples")], "down")  # up/down across system prompts
    store.recs = recs  # type: ignore[attr-defined]
    yield store
    store.close()


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").split("\n") if x]


def test_dpo_skips_identical_texts_and_other_conversations_and_counts_them(
    db: Store, tmp_path: Path
) -> None:
    out = tmp_path / "dpo.jsonl"
    result = export(db, "quickstart", "dpo", out)
    lines = _lines(out)
    assert len(lines) == result.lines == 1
    (pair,) = lines
    assert pair["chosen"][0]["content"] == "Canberra"
    assert pair["rejected"][0]["content"] == "Sydney"
    # Both answers were generated from these very messages.
    assert pair["prompt"] == db.recs[("terse", "capital")].messages  # type: ignore[attr-defined]
    assert pair["prompt"] == db.recs[("hot", "capital")].messages  # type: ignore[attr-defined]
    assert pair["prompt"][0] == {"role": "system", "content": TERSE}
    for line in lines:
        assert line["chosen"] != line["rejected"]
    assert result.skipped == {SKIP_IDENTICAL: 1, SKIP_OTHER_CONVERSATION: 2}
    # The record of the export names only the answers it holds.
    row = db.query("SELECT lines, response_ids FROM exports WHERE id = ?", [result.export_id])[0]
    ids = sorted([db.recs[("terse", "capital")].id, db.recs[("hot", "capital")].id])  # type: ignore[attr-defined]
    assert (row["lines"], json.loads(row["response_ids"])) == (1, ids)


def test_dpo_openai_shape_skips_the_same_pairs(db: Store, tmp_path: Path) -> None:
    result = export(db, "quickstart", "dpo", tmp_path / "o.jsonl", openai=True)
    (line,) = _lines(tmp_path / "o.jsonl")
    assert line["input"]["messages"][0] == {"role": "system", "content": TERSE}
    assert result.skipped == {SKIP_IDENTICAL: 1, SKIP_OTHER_CONVERSATION: 2}


def test_kto_gives_each_answer_its_own_system_prompt(db: Store, tmp_path: Path) -> None:
    result = export(db, "quickstart", "kto", tmp_path / "kto.jsonl")
    lines = _lines(tmp_path / "kto.jsonl")
    assert result.lines == len(lines) == 2 and result.skipped == {}
    by_text = {x["completion"][0]["content"]: x for x in lines}
    assert by_text["There are 5 apples left!"]["prompt"][0]["content"] == FRIENDLY
    assert by_text["There are 5 apples left!"]["label"] is True
    assert by_text["5"]["prompt"][0]["content"] == TERSE
    assert by_text["5"]["label"] is False
