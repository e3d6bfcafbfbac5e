"""gate.verdict.decide(): a finished run → exit code 0 / 1 / 2, without argparse or a subprocess."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.rules import parse_rules
from genaicompare.gate.verdict import EXIT_ERROR, EXIT_PASS, EXIT_REGRESSION, decide
from genaicompare.store import Store


@dataclass
class Run:
    """The part of session.headless.RunOutcome the gate reads."""

    catalog: Catalog
    records: list[ResponseRecord]
    metrics: dict[int, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    metrics_error: str | None = None


CATALOG = Catalog(
    name="c",
    models=[{"id": "m", "model": "openai/m"}],
    prompts=[{"id": "capital", "prompt": "capital of France?", "assert": {"contains": "Paris"}}],
)


def answer(text: str, state: FinishState = FinishState.complete) -> ResponseRecord:
    return ResponseRecord(
        prompt_id="capital",
        model_alias="m",
        model="openai/m",
        params={},
        messages=[{"role": "user", "content": "capital of France?"}],
        text=text,
        state=state,
    )


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Store(tmp_path / "v.db") as s:
        yield s


def test_passing_assertions_pass(store: Store) -> None:
    v = decide(Run(CATALOG, [answer("Paris")]), store, [], None, None)
    assert (v.exit_code, v.label) == (EXIT_PASS, "pass")
    assert [r.rule.text for r in v.rules] == ["assert_failures > 0"]  # the default rule


def test_a_failed_assertion_without_baseline_is_an_assertion_failure(store: Store) -> None:
    # #12 §10: a first run compared with nothing cannot "regress"; exit 1 all the same.
    v = decide(Run(CATALOG, [answer("Lyon")]), store, [], None, None)
    assert (v.exit_code, v.label) == (EXIT_REGRESSION, "assertions failed")
    (case,) = v.cases
    assert not case.passed and case.assertions[0][0].expected == "Paris"


def test_explicit_rules_replace_the_default(store: Store) -> None:
    v = decide(Run(CATALOG, [answer("Lyon")]), store, parse_rules(["error_rate > 0"]), None, None)
    assert v.exit_code == EXIT_PASS and [r.rule.name for r in v.rules] == ["error_rate"]


def test_errors_beyond_the_tolerance_cannot_be_judged(store: Store) -> None:
    run = Run(CATALOG, [answer("", FinishState.timeout)])
    v = decide(run, store, [], None, None)
    assert v.exit_code == EXIT_ERROR and "provider unreachable" in v.notes[0]


def test_a_metrics_failure_with_assertions_is_an_error(store: Store) -> None:
    run = Run(CATALOG, [answer("Paris")], metrics_error="metrics worker died")
    v = decide(run, store, [], None, None)
    assert (v.exit_code, v.label) == (EXIT_ERROR, "error") and "metrics worker died" in v.notes
