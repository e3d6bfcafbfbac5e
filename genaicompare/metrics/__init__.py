"""Metrics for model answers: lexical, semantic, safety, readability, operational, judge.

Domain code: no Textual. Importing this package is cheap; models (WordNet, sentence-transformers,
detoxify, textstat's dictionary) load on first use, once, thread-safe.

    engine = MetricsEngine(MetricsConfig())
    engine.cheap(partial_text, reference)            # while streaming
    values = engine.full(record, prompt, others)     # in a worker thread, when a pane finishes
    store.save_metrics(record.id, {k: v.as_store() for k, v in values.items()})
    evaluate_assertions(prompt.assert_, values, output=record.text)
"""

from __future__ import annotations

from genaicompare.metrics.assertions import (
    AssertionResult,
    AssertionSpecError,
    evaluate_assertions,
    parse_assertions,
)
from genaicompare.metrics.engine import (
    FAMILIES,
    METRICS,
    MetricInfo,
    MetricsConfig,
    MetricsEngine,
    MetricValue,
    is_known_metric,
)

__all__ = [
    "FAMILIES",
    "METRICS",
    "AssertionResult",
    "AssertionSpecError",
    "MetricInfo",
    "MetricValue",
    "MetricsConfig",
    "MetricsEngine",
    "evaluate_assertions",
    "is_known_metric",
    "parse_assertions",
]
