"""The engine with several references: the same numbers as the lexical suite's combination,
similarity the best cosine, the variants selectable by name, the versions of #13."""

from __future__ import annotations

import pytest

from genaicompare.catalog import Prompt
from genaicompare.metrics import (
    METRICS,
    MetricsConfig,
    MetricsEngine,
    is_known_metric,
    lexical,
    wordnet,
)
from tests.unit.metrics.test_engine import needs_embedder, record

REFS = ["Paris", "The capital of France is Paris.", "Lyon"]
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def engine() -> MetricsEngine:
    return MetricsEngine(MetricsConfig())


def test_full_uses_every_reference(engine: MetricsEngine) -> None:
    answer = "The capital is Paris."
    prompt = Prompt(id="p", prompt=QUESTION, references=REFS, metrics=["lexical"])
    values = engine.full(record(answer), prompt)
    expected = lexical.lexical_scores(answer, REFS, synonyms=wordnet.synonyms_fn())
    assert {k: v.value for k, v in values.items() if k in expected} == expected
    single = lexical.lexical_scores(answer, REFS[0])
    assert values["rouge1"].value == pytest.approx(0.8) != single["rouge1"]  # REFS[1] won


def test_variants_only_when_named_and_known(engine: MetricsEngine) -> None:
    names = ["chrf_pp", "bleu_floor", "bleu_add_k", "bleu_none", "rougeLsum", "rougeL_recall"]
    assert all(is_known_metric(n) and METRICS[n].needs == "reference" for n in names)
    prompt = Prompt(id="p", prompt=QUESTION, references=REFS)
    default = engine.full(record("It is Paris."), prompt)
    assert not set(names) & set(default)
    picked = engine.full(record("It is Paris."), prompt, names=names)
    expected = lexical.lexical_scores("It is Paris.", REFS, names=frozenset(names))
    assert {k: v.value for k, v in picked.items() if k in expected} == expected
    assert set(expected) == set(names)


def test_cheap_takes_every_reference(engine: MetricsEngine) -> None:
    live = engine.cheap("It is Paris.", REFS)
    assert live == lexical.lexical_scores(
        "It is Paris.", REFS, names=frozenset(lexical.REFERENCE_METRICS) - {"meteor"}
    )
    assert engine.cheap("It is Paris.", []) == {}
    named = MetricsEngine(MetricsConfig(metrics=frozenset({"chrf_pp", "rouge1"})))
    assert set(named.cheap("It is Paris.", REFS)) == {"chrf_pp", "rouge1"}


def test_versions_say_the_tokenisation_changed(engine: MetricsEngine) -> None:
    values = engine.full(record("It is Paris."), Prompt(id="p", prompt=QUESTION, reference="Paris"))
    assert values["token_set_ratio"].version == "2"
    assert values[("meteor" if "meteor" in values else "meteor_nosyn")].version.startswith("2")
    assert values["rougeL"].version == "1"


def test_similarity_is_the_best_reference(engine: MetricsEngine) -> None:
    needs_embedder(engine)
    answer = "The capital of France is Paris."
    values = engine.full(
        record(answer), Prompt(id="p", prompt=QUESTION, references=["Bananas are yellow.", answer])
    )
    alone = engine.full(record(answer), Prompt(id="p", prompt=QUESTION, reference=answer))
    assert values["similarity"].value == pytest.approx(alone["similarity"].value, abs=1e-6)
    assert values["similarity"].detail == {"reference": 1}
    worst = engine.full(
        record(answer), Prompt(id="p", prompt=QUESTION, reference="Bananas are yellow.")
    )
    assert worst["similarity"].value < values["similarity"].value


def test_a_prompt_with_references_only_is_not_missing_a_reference(engine: MetricsEngine) -> None:
    prompt = Prompt(id="p", prompt=QUESTION, references=["Paris"])
    assert engine.explain_missing("rougeL", prompt) == "not computed"
