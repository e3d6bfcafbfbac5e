"""``genaicompare run --json`` on a catalog with several references per prompt, against the fake
server on 127.0.0.1: the metrics stored in SQLite equal sacrebleu's, rouge-score's and the SQuAD
script's multi-reference values computed here from the stored answers; the rated export carries
the references and loads back the same; ``genaicompare metrics`` gives the same numbers."""

from __future__ import annotations

import json
import re
import sqlite3
import string
from collections import Counter
from pathlib import Path

import pytest

from genaicompare.catalog import load_catalog
from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

pytestmark = pytest.mark.slow

sacrebleu = pytest.importorskip("sacrebleu")
rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")

TOL = 1e-9
METRICS = [
    "bleu",
    "bleu_floor",
    "bleu_none",
    "chrf",
    "chrf_pp",
    "rouge1",
    "rouge1_precision",
    "rouge1_recall",
    "rougeL",
    "rougeLsum",
    "exact_match",
    "token_f1",
    "contains",
]
PROMPTS = [
    {
        "id": "capital",
        "prompt": "The capital city of France is Paris.",
        "references": ["Paris", "Paris is the capital of France.", "It is Paris, of course."],
    },
    {
        "id": "colours",
        "prompt": "Red, green and blue are the primary colours of light.",
        "reference": "The primary colours of light are red, green and blue.",
        "references": [
            "The primary colours of light are red, green and blue.",
            "red green blue",
        ],
    },
    {"id": "one", "prompt": "the cat sat on the mat", "reference": "the cat sat on a mat"},
]


def _squad_norm(s: str) -> str:  # SQuAD v2.0 normalize_answer
    s = "".join(ch for ch in s.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", s).split())


def _squad_f1(gold: str, pred: str) -> float:
    g, p = _squad_norm(gold).split(), _squad_norm(pred).split()
    if not g or not p:
        return float(g == p)
    same = sum((Counter(g) & Counter(p)).values())
    if same == 0:
        return 0.0
    prec, rec = same / len(p), same / len(g)
    return 2 * prec * rec / (prec + rec)


def _expected(output: str, refs: list[str]) -> dict[str, float]:
    rouge = rouge_scorer.RougeScorer(["rouge1", "rougeL", "rougeLsum"]).score_multi(refs, output)
    return {
        "bleu": sacrebleu.sentence_bleu(output, refs).score,
        "bleu_floor": sacrebleu.sentence_bleu(output, refs, smooth_method="floor").score,
        "bleu_none": sacrebleu.sentence_bleu(output, refs, smooth_method="none").score,
        "chrf": sacrebleu.sentence_chrf(output, refs).score,
        "chrf_pp": sacrebleu.sentence_chrf(output, refs, word_order=2).score,
        "rouge1": rouge["rouge1"].fmeasure,
        "rouge1_precision": rouge["rouge1"].precision,
        "rouge1_recall": rouge["rouge1"].recall,
        "rougeL": rouge["rougeL"].fmeasure,
        "rougeLsum": rouge["rougeLsum"].fmeasure,
        "exact_match": max(float(_squad_norm(output) == _squad_norm(r)) for r in refs),
        "token_f1": max(_squad_f1(r, output) for r in refs),
        "contains": max(float(f" {_squad_norm(r)} " in f" {_squad_norm(output)} ") for r in refs),
    }


def test_run_stores_multi_reference_metrics_equal_to_the_libraries(tmp_path: Path) -> None:
    db, home = tmp_path / "r.db", tmp_path / "home"
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"echo": "fake/echo"},
            PROMPTS,
            name="refs",
            extra={"defaults": {"metrics": METRICS}},
        )
        done = run_cli(["run", str(cat), "--db", str(db), "--json"], home)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["responses"]) == 3

    conn = sqlite3.connect(db)
    try:
        answers = dict(conn.execute("SELECT id, text FROM responses").fetchall())
        prompt_of = dict(conn.execute("SELECT id, prompt_id FROM responses").fetchall())
        stored: dict[int, dict[str, float]] = {}
        for rid, name, value in conn.execute("SELECT response_id, name, value FROM metrics"):
            stored.setdefault(rid, {})[name] = value
    finally:
        conn.close()
    refs_of = {p["id"]: p.get("references") or [p["reference"]] for p in PROMPTS}
    for rid, text in answers.items():
        assert text, "the echo model answers with the prompt"
        expected = _expected(text, refs_of[prompt_of[rid]])
        got = {k: v for k, v in stored[rid].items() if k in expected}
        assert got.keys() == expected.keys(), prompt_of[rid]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, abs=TOL), (prompt_of[rid], name)
    capital = next(r for r, p in prompt_of.items() if p == "capital")
    assert stored[capital]["contains"] == 1.0 and stored[capital]["token_f1"] > 0.9

    # the rated export carries the references and loads back as the same prompts
    out = tmp_path / "rated.jsonl"
    exp = run_cli(["export", str(cat), "--db", str(db), "-f", "rated", "-o", str(out)], home)
    assert exp.returncode == 0, exp.stderr
    reloaded = {p.id: p for p in load_catalog(out).prompts}
    for p in load_catalog(cat).prompts:
        assert reloaded[p.id].all_references == p.all_references
        assert reloaded[p.id].reference == p.reference

    # `genaicompare metrics` on the same answers gives the same numbers
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"id": rid, "output": text, "references": refs_of[prompt_of[rid]]}) + "\n"
            for rid, text in answers.items()
        ),
        encoding="utf-8",
    )
    scored = run_cli(["metrics", str(pairs), "--metrics", ",".join(METRICS)], home)
    assert scored.returncode == 0, scored.stderr
    for line in scored.stdout.splitlines():
        row = json.loads(line)
        for name in METRICS:
            assert row["metrics"][name] == pytest.approx(stored[row["id"]][name], abs=TOL)


def test_metrics_command_refuses_bad_references(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"id": 1, "output": "x", "references": "Paris"}) + "\n")
    done = run_cli(["metrics", str(pairs)], tmp_path / "home")
    assert done.returncode == 2
    assert "pairs.jsonl:1: 'references' must be a non-empty list of strings" in done.stderr
    assert "Traceback" not in done.stderr
