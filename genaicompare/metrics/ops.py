"""Operational metrics, read from the measured response (provider events, via the collector)."""

from __future__ import annotations

from genaicompare.core.records import ResponseRecord

VERSION = "1"

OPS_METRICS: tuple[str, ...] = (
    "ttft_ms",
    "latency_ms",
    "tokens_in",
    "tokens_out",
    "tokens_per_s",
    "cost_usd",
    "chars",
    "words",
)


def ops_metrics(record: ResponseRecord) -> dict[str, tuple[float | None, dict[str, bool] | None]]:
    """name → (value, detail). ``cost_usd`` is None when the price is unknown (never 0 for
    "no price"); token counts carry ``{"estimated": true}`` when the provider sent no usage."""
    estimated = {"estimated": True} if record.tokens_estimated else None
    return {
        "ttft_ms": (record.ttft_ms, None),
        "latency_ms": (record.latency_ms, None),
        "tokens_in": (_f(record.tokens_in), estimated),
        "tokens_out": (_f(record.tokens_out), estimated),
        "tokens_per_s": (record.tokens_per_s, estimated),
        "cost_usd": (record.cost_usd, None if record.cost_usd is not None else {"unknown": True}),
        "chars": (float(len(record.text)), None),
        "words": (float(len(record.text.split())), None),
    }


def _f(x: int | None) -> float | None:
    return None if x is None else float(x)
