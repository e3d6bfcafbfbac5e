"""One answer, two front ends, the same metrics: the TUI's door (MetricsService) and the headless
run's worker both go through session.evaluation, so whichever scores a stored answer first, the
numbers stored for it are the same (and stored numbers are reused everywhere after that)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.app.services import MetricsService
from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.session.evaluation import metric_names
from genaicompare.session.headless import DEFAULT_HEADLESS_METRICS
from genaicompare.session.metrics_pool import MetricsWorker
from genaicompare.store import Store

CATALOG = {
    "name": "same-metrics",
    "defaults": {"metrics": ["lexical", "ops"]},
    "models": [{"id": "a", "model": "openai/a"}, {"id": "b", "model": "openai/b"}],
    "prompts": [
        {
            "id": "p1",
            "prompt": "Where is the Eiffel Tower?",
            "reference": "The Eiffel Tower is in Paris.",
            # pii_count is outside the catalog's metrics: the assertion makes it computed.
            "assert": {"pii_count": "== 0", "contains": "Paris"},
        }
    ],
}


def answer(state: FinishState = FinishState.complete, alias: str = "a") -> ResponseRecord:
    return ResponseRecord(
        prompt_id="p1",
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": "Where is the Eiffel Tower?"}],
        text="It stands in Paris, France." if state is FinishState.complete else "It st",
        state=state,
        ttft_ms=120.0,
        latency_ms=480.0,
        tokens_in=9,
        tokens_out=7,
        tokens_per_s=14.5,
        cost_usd=None,
    )


def stored(store: Store, catalog: Catalog, record: ResponseRecord) -> int:
    run = store.start_run(store.record_catalog(catalog), catalog, "test")
    store.save_response(record, run)
    assert record.id is not None
    return record.id


def through_the_tui(tmp_path: Path, catalog: Catalog, record: ResponseRecord) -> dict:
    store = Store(tmp_path / "tui.sqlite")
    rid = stored(store, catalog, record)
    # As the app builds it: the settings' metrics, else the catalog's.
    service = MetricsService(store, catalog.defaults.metrics, models=[m.id for m in catalog.models])
    service.full(record, catalog.prompts[0], {"b": "Paris."})
    return store.metrics_for(rid)


def through_headless(tmp_path: Path, catalog: Catalog, record: ResponseRecord) -> dict:
    store = Store(tmp_path / "headless.sqlite")
    rid = stored(store, catalog, record)
    worker = MetricsWorker(catalog, store, selection=DEFAULT_HEADLESS_METRICS, processes=False)
    worker.submit(record)
    worker.close()
    assert worker.error is None
    return store.metrics_for(rid)


@pytest.mark.parametrize("state", [FinishState.complete, FinishState.error])
def test_one_stored_answer_gets_the_same_metrics_from_both_front_ends(
    tmp_path: Path, state: FinishState
) -> None:
    catalog = Catalog(**CATALOG)
    tui = through_the_tui(tmp_path, catalog, answer(state))
    headless = through_headless(tmp_path, catalog, answer(state))
    shape = lambda rows: {k: (v["value"], v["version"]) for k, v in rows.items()}  # noqa: E731
    assert shape(tui) == shape(headless)
    if state is FinishState.complete:
        assert "pii_count" in tui and "rougeL" in tui and "latency_ms" in tui
    else:  # no answer, no metrics (its assertions fail as "no answer")
        assert tui == {}


def test_the_selection_rule() -> None:
    prompt = Catalog(**CATALOG).prompts[0]
    # The catalog's metrics beat the caller's selection; assertion keys are added.
    assert metric_names(prompt, ["lexical"], frozenset({"ops"})) == {
        "lexical",
        "pii_count",
        "contains",
    }
    assert metric_names(prompt, None, frozenset({"ops"})) == {"ops", "pii_count", "contains"}
    assert metric_names(prompt, None, None) is None  # every metric
