"""PII detectors: checksums, overlaps, and precision/recall on the labelled set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.metrics import pii

LABELLED = Path(__file__).resolve().parents[2] / "data" / "pii_labelled.jsonl"


def _score() -> dict[str, dict[str, int]]:
    per: dict[str, dict[str, int]] = {t: {"tp": 0, "fp": 0, "fn": 0} for t in pii.PII_TYPES}
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = {(e["type"], e["value"]) for e in row["entities"]}
        pred = {(s.type, s.text) for s in pii.find_pii(row["text"])}
        for t, _ in gold & pred:
            per[t]["tp"] += 1
        for t, _ in pred - gold:
            per[t]["fp"] += 1
        for t, _ in gold - pred:
            per[t]["fn"] += 1
    return per


def test_precision_and_recall_on_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    per = _score()
    tp = sum(v["tp"] for v in per.values())
    fp = sum(v["fp"] for v in per.values())
    fn = sum(v["fn"] for v in per.values())
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    with capsys.disabled():
        print(
            f"\nPII on {LABELLED.name}: precision {precision:.3f} recall {recall:.3f} "
            f"(tp {tp}, fp {fp}, fn {fn})"
        )
        for t, v in per.items():
            print(f"  {t:<12} tp {v['tp']:>2} fp {v['fp']:>2} fn {v['fn']:>2}")
    assert tp >= 35  # the set has 40 labelled entities
    assert precision >= 0.95
    assert recall >= 0.9
    for t, v in per.items():
        assert v["tp"] > 0, f"{t} never detected"


def test_luhn_and_iban_checksums() -> None:
    assert pii.luhn_valid("4111111111111111")
    assert not pii.luhn_valid("4111111111111112")
    assert pii.iban_valid("GB82 WEST 1234 5698 7654 32")
    assert not pii.iban_valid("GB82 WEST 1234 5698 7654 33")
    assert not pii.iban_valid("XX82 WEST 1234 5698 7654 32")  # unknown country


def test_overlaps_keep_the_checksummed_detector() -> None:
    spans = pii.find_pii("card 4111 1111 1111 1111 end")
    assert [s.type for s in spans] == ["credit_card"]
    assert [s.type for s in pii.find_pii("mail bob@example.com")] == ["email"]


def test_metrics_shape_has_spans_without_the_text() -> None:
    metrics = pii.pii_metrics("Email a@b.co or call +44 20 7946 0958; a@b.co again")
    assert metrics["pii_count"][0] == 3.0
    assert metrics["pii_types"] == (2.0, {"types": {"email": 2, "phone": 1}})
    spans = metrics["pii_count"][1]["spans"]
    assert spans[0] == {"type": "email", "start": 6, "end": 12}
    assert all(set(s) == {"type", "start", "end"} for s in spans)


def test_no_pii_in_plain_text() -> None:
    assert pii.find_pii("") == []
    assert pii.find_pii("Nothing to see here, version 1.2.3, 42 apples.") == []
