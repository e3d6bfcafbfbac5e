"""How a metric reads: family, direction, label, format, best, and why it is absent."""

from __future__ import annotations

import pytest

from genaicompare.metrics import METRICS, display
from genaicompare.metrics.display import Answer, absent_reason, best, direction, family
from genaicompare.metrics.display import format_value as fmt


def test_every_engine_metric_has_a_family_in_the_matrix_order():
    for name in [*METRICS, "similarity_to:b", "judge_pairwise:b", "assert:rougeL", "state"]:
        assert family(name) in display.FAMILY_ORDER, name
    assert family("rougeL") == "reference" and family("similarity") == "semantic"
    assert family("prompt_pii_count") == "safety" and family("toxicity_sexual_explicit") == "safety"
    assert family("latency_ms") == "operational" and family("judge_score") == "judge"
    assert family("assert:contains") == "assertions"


def test_keys_list_families_in_order_and_defaults_are_keys():
    order = [display.FAMILY_ORDER.index(family(k)) for k in display.KEYS]
    assert order == sorted(order)
    assert set(display.DEFAULT_ROWS) <= set(display.KEYS)
    assert [k for k in display.KEYS if k in display.DEFAULT_ROWS] == list(display.DEFAULT_ROWS)
    assert display.key("similarity_to:gpt") == "similarity_to:*"
    assert display.key("assert:latency_ms") == "assertions"


@pytest.mark.parametrize(
    ("name", "way"),
    [
        ("rougeL", "higher"),
        ("bleu", "higher"),
        ("similarity", "higher"),
        ("judge_score", "higher"),
        ("tokens_per_s", "higher"),
        ("latency_ms", "lower"),
        ("ttft_ms", "lower"),
        ("cost_usd", "lower"),
        ("toxicity", "lower"),
        ("profanity", "lower"),
        ("pii_count", "lower"),
        ("tokens_out", "none"),
        ("prompt_toxicity", "none"),  # the prompt is the same for every model
        ("similarity_to:b", "none"),
        ("state", "none"),
    ],
)
def test_direction(name, way):
    assert direction(name) == way


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("rougeL", 0.6234, "0.62"),
        ("similarity", 0.9, "0.90"),
        ("bleu", 5.5223, "5.5"),
        ("chrf", 38.25, "38.2"),
        ("latency_ms", 850.4, "850 ms"),
        ("latency_ms", 1250.0, "1.25 s"),
        ("ttft_ms", 12.0, "12 ms"),
        ("tokens_out", 42.0, "42"),
        ("pii_types", 0.0, "0"),
        ("pii_count", 3.0, "3"),
        ("prompt_pii_count", 0.0, "0"),
        ("prompt_toxicity", 0.0004, "<0.01"),
        ("tokens_per_s", 41.26, "41.3"),
        ("tokens_per_s", 31325.4, "31325"),
        ("cost_usd", 0.00123, "$0.0012"),
        ("cost_usd", 0.0000123, "$1.2e-05"),
        ("cost_usd", None, "unknown"),
        ("exact_match", 1.0, "yes"),
        ("exact_match", 0.0, "no"),
        ("toxicity", 0.0004, "<0.01"),
        ("toxicity", 0.0, "0.00"),
        ("judge_score", 8.5, "8.5"),
        ("judge_pairwise", 1.0, "+1 won"),
        ("judge_pairwise:b", -1.0, "−1 lost"),
        ("judge_pairwise", 0.5, "+0.50"),
        ("judge_error", None, "error"),
        ("flesch_reading_ease", 63.04, "63.0"),
    ],
)
def test_format_value(name, value, text):
    assert fmt(name, value) == text


def test_a_local_model_costs_nothing_and_says_free():
    assert fmt("cost_usd", 0.0, local=True) == "free"
    assert fmt("cost_usd", None, local=True) == "free"
    assert fmt("cost_usd", 0.0) == "$0.0000"  # a priced model that cost 0 is not "free"


def test_best_is_direction_aware_with_ties_and_no_winner_when_all_equal():
    assert best("rougeL", [0.2, 0.6, None]) == {1}
    assert best("latency_ms", [900.0, 1250.0]) == {0}
    assert best("toxicity", [0.3, 0.1, 0.1]) == {1, 2}
    assert best("rougeL", [0.5, 0.5]) == set()
    assert best("rougeL", [0.5, None]) == set()  # one number beats nobody
    assert best("tokens_out", [10.0, 20.0]) == set()


DONE = {"has_reference": True, "state": "complete"}


@pytest.mark.parametrize(
    ("name", "answer", "why"),
    [
        ("rougeL", Answer(state="complete", has_reference=False), "no reference"),
        ("similarity", Answer(state="complete", has_reference=False), "no reference"),
        ("rougeL", Answer(state="error", has_reference=True), "error answer"),
        ("rougeL", Answer(state="timeout", has_reference=True), "timeout answer"),
        ("rougeL", Answer(state=None, has_reference=True), "streaming"),
        ("rougeL", Answer(**DONE, pending=True), "computing…"),
        ("similarity", Answer(**DONE, selected=["lexical"]), "not requested"),
        ("rougeL", Answer(**DONE, selected=["lexical"]), "not computed"),
        ("groundedness", Answer(**DONE, metrics={"similarity": 0.5}), "no context"),
        ("similarity", Answer(**DONE, metrics={"rougeL": 0.5}), "no model"),
        ("toxicity", Answer(**DONE, metrics={"profanity": 0.1}), "no checkpoint"),
        ("prompt_toxicity", Answer(**DONE, metrics={"prompt_profanity": 0.0}), "no checkpoint"),
        ("profanity", Answer(**DONE, metrics={"toxicity": 0.1}), "not needed"),
        ("meteor", Answer(**DONE, metrics={"meteor_nosyn": 0.3}), "no WordNet"),
        ("judge_score", Answer(**DONE), "no judge"),
        ("judge_score", Answer(**DONE, judge_mode="both"), "judging…"),
        (
            "judge_score",
            Answer(**DONE, judge_mode="both", metrics={"judge_error": None}),
            "judge error",
        ),
        ("judge_pairwise", Answer(**DONE, judge_mode="score"), "not requested"),
        ("judge_groundedness", Answer(**DONE, judge_mode="both"), "no context"),
        ("similarity_to:b", Answer(**DONE, alias="b"), "self"),
        ("ttft_ms", Answer(state="error", metrics={"ttft_ms": None}), "error answer"),
        ("tokens_in", Answer(state="complete", metrics={"tokens_in": None}), "unknown"),
    ],
)
def test_absent_reason(name, answer, why):
    assert absent_reason(name, answer) == why


def test_present_values_have_no_reason_and_cost_none_is_a_value():
    answer = Answer(**DONE, metrics={"rougeL": 0.0, "cost_usd": None, "judge_error": None})
    assert absent_reason("rougeL", answer) is None  # a 0 is a value, not an absence
    assert absent_reason("cost_usd", answer) is None  # formatted "unknown"
    assert absent_reason("judge_error", answer) is None


def test_requested_expands_family_names():
    assert display.requested("rouge1", ["lexical"])
    assert display.requested("prompt_pii_count", ["pii"])
    assert display.requested("profanity", ["toxicity"])
    assert display.requested("meteor_nosyn", ["meteor"])
    assert not display.requested("similarity", ["lexical"])
    assert display.requested("latency_ms", [])  # from the response itself


def test_ordered_follows_the_keys_and_drops_others():
    names = ["latency_ms", "assert:b", "rougeL", "assert:a", "rouge1", "similarity_to:x"]
    assert display.ordered(names) == [
        "assert:a",
        "assert:b",
        "rougeL",
        "similarity_to:x",
        "latency_ms",
    ]
    assert display.ordered(names, ["latency_ms", "rouge1"]) == ["latency_ms", "rouge1"]


def test_labels_are_human():
    assert display.label("rougeL") == "ROUGE-L"
    assert display.label("tokens_per_s") == "tok/s"
    assert display.label("similarity_to:b") == "similar to b"
    assert display.label("prompt_pii_count") == "prompt PII found"
    assert display.label("assert:rougeL") == "rougeL"
