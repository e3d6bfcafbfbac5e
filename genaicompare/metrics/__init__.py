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

import importlib
from typing import TYPE_CHECKING, Any

from genaicompare.metrics.assertions import (
    AssertionResult,
    AssertionSpecError,
    evaluate_assertions,
    parse_assertions,
)
from genaicompare.metrics.names import FAMILIES, METRICS, MetricInfo, is_known_metric

if TYPE_CHECKING:
    from genaicompare.metrics.engine import MetricsConfig, MetricsEngine, MetricValue

# The engine (numpy, rapidfuzz) loads on first use (PEP 562): the catalog loader checks
# ``assert`` entries with the names and the grammar above before the TUI's main screen.
_LAZY = {"MetricsConfig", "MetricsEngine", "MetricValue"}

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


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("genaicompare.metrics.engine"), name)
    globals()[name] = value
    return value
