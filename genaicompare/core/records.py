"""Plain data records shared by every package (no behaviour, no I/O): finish states, hashes, answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class FinishState(str, Enum):
    """How a response ended. Every response ends in exactly one of these."""

    complete = "complete"
    """The model finished on its own (finish_reason ``stop``)."""
    length = "length"
    """Hit ``max_tokens``."""
    content_filter = "content_filter"
    """The provider withheld or cut the content."""
    error = "error"
    """A provider or transport error; ``error_type``/``error`` say which."""
    timeout = "timeout"
    """No connection, first token or next chunk within the configured timeout."""
    cancelled = "cancelled"
    """The user (or Ctrl-C) cancelled the stream."""


def content_hash(obj: Any) -> str:
    """Stable SHA-256 (hex, 16 bytes) of a JSON-able object."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def request_hash(
    model: str, params: dict[str, Any], messages: list[dict[str, str]], api_base: str | None = None
) -> str:
    """The response-cache key: same model, params, endpoint and messages ⇒ same request."""
    return content_hash(
        {"model": model, "params": params, "messages": messages, "api_base": api_base}
    )


def response_content_hash(req_hash: str, text: str) -> str:
    """Ratings carry over on this: the same request answered with the same text."""
    return content_hash({"request": req_hash, "text": text})


TIMINGS = frozenset({"latency_ms", "ttft_ms", "tokens_per_s"})
"""A record's figures (and metrics of these names) measured while it streamed. An answer
replayed from the response cache keeps its first asking's: they describe that request, not this
run, so run summaries and paired comparisons count them only for answers that were waited for
(against the run it replays, each would be one measurement compared with itself)."""


def measured(record: ResponseRecord, name: str) -> bool:
    """Whether ``record`` counts for the figure ``name``: completed, and for a timing
    (:data:`TIMINGS`) not replayed from the cache."""
    return record.ok and not (record.from_cache and name in TIMINGS)


@dataclass
class ResponseRecord:
    """One model's answer to one prompt, measured. Built by the provider collector."""

    prompt_id: str
    model_alias: str
    model: str
    params: dict[str, Any]
    messages: list[dict[str, str]]
    template_hash: str | None = None
    api_base: str | None = None
    text: str = ""
    state: FinishState = FinishState.error
    finish_reason: str | None = None
    error_type: str | None = None
    error: str | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_estimated: bool = False
    tokens_per_s: float | None = None
    cost_usd: float | None = None
    reported_model: str | None = None
    retries: int = 0
    sample_index: int = 0
    from_cache: bool = False
    id: int | None = None
    run_id: int | None = None
    created_at: str | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    stored_hashes: tuple[str, str, str] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """(text, request hash, content hash) as read from the database (:meth:`from_row`): the
    hashes are the stored ones while ``text`` is still that text, not recomputed (a diff of
    a million answers spent 40 s hashing them again). Not an init field, so a record made from
    another (``dataclasses.replace``, with other params or messages) hashes itself again."""

    @property
    def request_hash(self) -> str:
        if self.stored_hashes is not None and self.stored_hashes[0] is self.text:
            return self.stored_hashes[1]
        return request_hash(self.model, self.params, self.messages, self.api_base)

    @property
    def content_hash(self) -> str:
        if self.stored_hashes is not None and self.stored_hashes[0] is self.text:
            return self.stored_hashes[2]
        return response_content_hash(self.request_hash, self.text)

    @property
    def ok(self) -> bool:
        return self.state in (FinishState.complete, FinishState.length)

    def to_row(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "model_alias": self.model_alias,
            "model": self.model,
            "params": json.dumps(self.params, sort_keys=True),
            "api_base": self.api_base,
            "messages": json.dumps(self.messages, ensure_ascii=False),
            "template_hash": self.template_hash,
            "request_hash": self.request_hash,
            "content_hash": self.content_hash,
            "text": self.text,
            "state": self.state.value,
            "finish_reason": self.finish_reason,
            "error_type": self.error_type,
            "error": self.error,
            "ttft_ms": self.ttft_ms,
            "latency_ms": self.latency_ms,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "tokens_estimated": int(self.tokens_estimated),
            "tokens_per_s": self.tokens_per_s,
            "cost_usd": self.cost_usd,
            "reported_model": self.reported_model,
            "retries": self.retries,
            "sample_index": self.sample_index,
            "from_cache": int(self.from_cache),
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ResponseRecord:
        record = cls(
            id=row["id"],
            run_id=row.get("run_id"),
            prompt_id=row["prompt_id"],
            model_alias=row["model_alias"],
            model=row["model"],
            params=json.loads(row["params"] or "{}"),
            api_base=row.get("api_base"),
            messages=json.loads(row["messages"]),
            template_hash=row.get("template_hash"),
            text=row["text"],
            state=FinishState(row["state"]),
            finish_reason=row.get("finish_reason"),
            error_type=row.get("error_type"),
            error=row.get("error"),
            ttft_ms=row.get("ttft_ms"),
            latency_ms=row.get("latency_ms"),
            tokens_in=row.get("tokens_in"),
            tokens_out=row.get("tokens_out"),
            tokens_estimated=bool(row.get("tokens_estimated")),
            tokens_per_s=row.get("tokens_per_s"),
            cost_usd=row.get("cost_usd"),
            reported_model=row.get("reported_model"),
            retries=row.get("retries") or 0,
            sample_index=row.get("sample_index") or 0,
            from_cache=bool(row.get("from_cache")),
            created_at=row.get("created_at"),
        )
        if row.get("request_hash") and row.get("content_hash"):
            record.stored_hashes = (record.text, row["request_hash"], row["content_hash"])
        return record
