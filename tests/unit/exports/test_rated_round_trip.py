"""A rated export re-opens as the same experiment (issue #12 §6).

Export ``rated`` → ``load_catalog`` on the file: the same models with their own system prompts
and params, and every prompt renders, for every model, the very messages its answer was generated
from (so a run of the re-opened file is served from the cache). Then the re-opened catalog's
answers and the file's ratings in a fresh database export the same lines again, byte for byte (a
template prompt stays a template: its text goes in the header's ``templates``).
"""

from __future__ import annotations

import json
from pathlib import Path

from genaicompare.catalog import Catalog, load_catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import export
from genaicompare.ratings import Ratings
from genaicompare.store import Store

TERSE = "Answer with the shortest correct answer. No explanation unless asked."
FRIENDLY = "You are a friendly tutor. Answer correctly, then add one short helpful sentence."
CATALOG = {
    "name": "quickstart",
    "version": "1",
    "models": [
        {
            "id": "terse",
            "model": "local/smollm2",
            "system": TERSE,
            "params": {"temperature": 0.2, "max_tokens": 96, "seed": 42},
        },
        {
            "id": "friendly",
            "model": "local/smollm2",
            "system": FRIENDLY,
            "params": {"temperature": 0.8, "max_tokens": 96, "seed": 42},
        },
    ],
    "templates": {"capital": "What is the capital city of {{country}}? Reply with the city name."},
    "prompts": [
        {
            "id": "capital-australia",
            "template": "capital",
            "vars": {"country": "Australia"},
            "reference": "Canberra",
            "task": "qa",
            "tags": ["geography"],
            "assert": {"contains": "Canberra"},
        },
        {"id": "apples", "prompt": "3 apples, buy 4, eat 2. How many?", "reference": "5"},
        {
            "id": "grounded",
            "template": "capital",
            "vars": {"country": "Peru"},
            "context": ["Lima is the capital of Peru."],
        },
        {"id": "own-system", "prompt": "Say hi.", "system": "Speak like a pirate."},
        {
            "id": "chat",
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Name a colour."},
            ],
        },
        {
            "id": "shots",
            "prompt": "2+2?",
            "few_shot": [{"user": "1+1?", "assistant": "2"}],
        },
    ],
}


def _answer(
    store: Store, cat: Catalog, cid: int, run: int, pid: str, alias: str, text: str
) -> ResponseRecord:
    spec = cat.model_spec(alias)
    rendered = cat.render(cat.prompt(pid), spec)
    rec = ResponseRecord(
        prompt_id=pid,
        model_alias=alias,
        model=spec.model,
        params=cat.params_for(spec),
        messages=rendered.messages,
        template_hash=rendered.template_hash,
        text=text,
        state=FinishState.complete,
        latency_ms=12.0,
        created_at="2025-03-01T10:00:00.000+00:00",
    )
    store.save_response(rec, run_id=run, catalog_id=cid)
    return rec


def _fill(store: Store, cat: Catalog) -> dict[tuple[str, str], ResponseRecord]:
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "tui")
    return {
        (p.id, m.id): _answer(store, cat, cid, run, p.id, m.id, f"{m.id} says {p.id}")
        for p in cat.prompts
        for m in cat.models
    }


def test_rated_export_reopens_as_the_same_experiment_and_exports_the_same_lines(
    tmp_path: Path,
) -> None:
    original = Catalog.model_validate(CATALOG)
    first = tmp_path / "rated.jsonl"
    with Store(tmp_path / "one.db") as one:
        recs = _fill(one, original)
        ann = Ratings(one, rater="ann")
        ann.thumb(recs[("apples", "terse")], "up")
        ann.thumb(recs[("apples", "friendly")], "down")
        ann.prefer(
            recs[("capital-australia", "terse")], recs[("capital-australia", "friendly")], "b"
        )
        export(one, "quickstart", "rated", first)

    reopened = load_catalog(first)
    assert reopened.name == "quickstart" and reopened.version == "1"
    assert [(m.id, m.model, m.system, m.params.as_dict()) for m in reopened.models] == [
        (m.id, m.model, m.system, original.params_for(m)) for m in original.models
    ]
    assert [p.id for p in reopened.prompts] == [p.id for p in original.prompts]
    for p in original.prompts:
        for m in original.models:
            again = reopened.render(reopened.prompt(p.id), reopened.model_spec(m.id))
            assert again.messages == recs[(p.id, m.id)].messages, (p.id, m.id)
    assert reopened.prompt("capital-australia").reference == "Canberra"
    assert reopened.prompt("grounded").context_passages == ["Lima is the capital of Peru."]

    # The re-opened experiment's answers (as the cache serves them: the same requests) and the
    # file's ratings, in a fresh database: the same rated export, line for line.
    second = _reopen_and_export(first, tmp_path / "two.db", recs)
    first_lines = first.read_text(encoding="utf-8").splitlines()
    second_lines = second.read_text(encoding="utf-8").splitlines()
    assert len(first_lines) == len(second_lines) == 1 + 2 * len(original.prompts)
    assert first_lines == second_lines
    # A template prompt stays a template (its text in the header), so a re-run stores the same
    # template hash as the original run did.
    header = json.loads(first_lines[0])
    assert header["templates"] == original.templates
    for line in map(json.loads, first_lines[1:]):
        if line["id"] in {"capital-australia", "grounded"}:
            assert line["template"] == "capital" and "messages" not in line
            assert (
                line["rated"]["template_hash"]
                == recs[(line["id"], line["rated"]["model_alias"])].template_hash
            )
    # From then on the file is a fixed point: re-open, export, byte for byte the same.
    third = _reopen_and_export(second, tmp_path / "three.db", recs)
    assert third.read_bytes() == second.read_bytes()


def _reopen_and_export(
    rated: Path, db_path: Path, recs: dict[tuple[str, str], ResponseRecord]
) -> Path:
    reopened = load_catalog(rated)
    out = db_path.with_suffix(".jsonl")
    with Store(db_path) as db:
        again = _fill(db, reopened)
        for key, rec in again.items():
            assert rec.content_hash == recs[key].content_hash, key  # a run would hit the cache
        Ratings(db).import_jsonl(rated)
        export(db, "quickstart", "rated", out)
    return out
