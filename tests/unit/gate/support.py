"""Records, stored runs and a lexical similarity for the gate's tests."""

from __future__ import annotations

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.baseline import apply_baseline, baseline_from_run
from genaicompare.gate.cases import build_cases, model_stats
from genaicompare.gate.rules import evaluate_rules, parse_rules
from genaicompare.gate.similarity import Similarity, lexical_similarity
from genaicompare.store import Store

LEXICAL = Similarity(lexical_similarity, "lexical")


def rec(pid: str, alias: str, text: str, **kw) -> ResponseRecord:
    return ResponseRecord(
        prompt_id=pid,
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": pid}],
        text=text,
        state=kw.pop("state", FinishState.complete),
        **kw,
    )


def stored_run(store: Store, records: list[ResponseRecord]) -> int:
    cat = Catalog(name="c", prompts=[{"id": "x", "prompt": "x"}])
    run_id = store.start_run(store.record_catalog(cat), cat, "headless")
    for r in records:
        store.save_response(r, run_id)
    store.finish_run(run_id)
    return run_id


def rule_against_baseline(
    cands: list[ResponseRecord], base: list[ResponseRecord], rule: str, store=None
):
    cases = build_cases(cands, {}, {})
    stats = model_stats(cases)
    apply_baseline(stats, cases, baseline_from_run(base, list(stats), 1), LEXICAL, store)
    (result,) = evaluate_rules(parse_rules([rule]), stats.values())
    return result
