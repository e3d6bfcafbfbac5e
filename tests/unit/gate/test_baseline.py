"""Baselines: another model of the same run."""

from __future__ import annotations

from genaicompare.gate.baseline import apply_baseline, baseline_from_model
from genaicompare.gate.cases import build_cases, model_stats
from tests.unit.gate.support import LEXICAL, rec


def test_baseline_by_model_alias() -> None:
    recs = [rec("a", "old", "same words here"), rec("a", "new", "same words here")]
    cases = build_cases(recs, {}, {})
    stats = model_stats(cases)
    cand = {"new": stats["new"]}
    apply_baseline(
        cand,
        [c for c in cases if c.model_alias == "new"],
        baseline_from_model(recs, "old", ["new"]),
        LEXICAL,
    )
    assert cand["new"].baseline_similarity == 1.0 and cand["new"].baseline == "model old"
