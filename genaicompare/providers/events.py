"""Typed events every provider stream yields, and the request that starts one.

A stream yields one :class:`Started` when the request goes out, any number of :class:`TextDelta` (and a :class:`Retrying` before each retry, which
only ever happens before the first token) and at most one :class:`Usage`, then exactly one
:class:`Finished` — always last, always present, whatever went wrong. The one exception is
cancellation: a cancelled stream stops where it is, and the collector records ``cancelled``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# The provider contract names FinishState; it lives in core so records need not import providers.
from genaicompare.core.records import FinishState as FinishState


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds; each is configurable from the CLI / config."""

    connect: float = 10.0
    first_token: float = 60.0
    between_chunks: float = 30.0
    total: float = 600.0
    max_retries: int = 2
    """Retries before the first token only (429/5xx/connection errors), honouring Retry-After."""
    max_retry_after: float = 120.0


@dataclass(frozen=True)
class ModelRequest:
    """Everything needed to call one model once. Carries the *name* of the key variable, never a key."""

    alias: str
    model: str
    messages: list[dict[str, str]]
    params: dict[str, Any] = field(default_factory=dict)
    api_base: str | None = None
    api_key_env: str | None = None
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None

    def __post_init__(self) -> None:
        # Whatever the variable is called, its value is a key: redact it wherever it is echoed.
        if self.api_key_env:
            from genaicompare.core.sanitize import register_secret_env

            register_secret_env(self.api_key_env)

    def api_key(self) -> str | None:
        """The key this request may send, or None (send none; litellm's own default, or the
        ``no-key`` placeholder an OpenAI-compatible client needs). See :func:`api_key_for`."""
        return api_key_for(self)


NO_KEY = "no-key"
"""What an OpenAI-compatible server without a key for it gets (the openai client needs one)."""

# A provider's own key variable and the hosts it belongs to. Only these hosts (over https) get
# the provider's key without the catalog naming it: litellm's provider prefixes.
OWN_KEYS: dict[str, tuple[str, frozenset[str]]] = {
    "openai": ("OPENAI_API_KEY", frozenset({"api.openai.com"})),
    "anthropic": ("ANTHROPIC_API_KEY", frozenset({"api.anthropic.com"})),
    "mistral": ("MISTRAL_API_KEY", frozenset({"api.mistral.ai"})),
    "groq": ("GROQ_API_KEY", frozenset({"api.groq.com"})),
    "deepseek": ("DEEPSEEK_API_KEY", frozenset({"api.deepseek.com"})),
    "gemini": ("GEMINI_API_KEY", frozenset({"generativelanguage.googleapis.com"})),
}


def api_key_for(request: ModelRequest) -> str | None:
    """The one key rule, both backends: a key goes only where it belongs.

    * ``api_key_env`` named by the catalog: that variable's value, to the model's ``api_base``
      (the catalog said so);
    * no ``api_base``: None here — litellm sends the provider's own key to the provider's own
      API host, as it always did;
    * an ``api_base`` without ``api_key_env``: the provider's own key (``OPENAI_API_KEY`` for
      ``openai/…``) only when that base is the provider's own host over https
      (``https://api.openai.com/v1``); any other host gets no key — never a user's OpenAI key
      on a third-party or plain-http server.
    """
    if request.api_key_env:
        return os.environ.get(request.api_key_env) or None
    if not request.api_base:
        return None
    own = OWN_KEYS.get(request.model.split("/", 1)[0])
    parts = urlsplit(request.api_base)
    if own is not None and parts.scheme == "https" and (parts.hostname or "") in own[1]:
        return os.environ.get(own[0]) or None
    return None


@dataclass(frozen=True, slots=True)
class Started:
    """The request is being sent now (litellm loaded, a local server free). TTFT and latency are
    measured from here, so waiting in our own queues is not billed to the model."""

    at: float
    """``time.perf_counter()`` when the request went out."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """Before :class:`Started`: what the request waits for, in words a person reads in a pane
    (``starting local model smollm2…``). Informational: collectors ignore it."""

    reason: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str
    at: float
    """``time.perf_counter()`` when the chunk arrived."""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None
    estimated: bool = False
    """True when the provider sent no usage and these are litellm's token-counter estimates."""


@dataclass(frozen=True, slots=True)
class Retrying:
    """The attempt failed before the first token and will be retried after ``delay`` seconds."""

    attempt: int
    """1 for the first retry."""
    delay: float
    reason: str
    """Redacted, sanitized error of the failed attempt."""


@dataclass(frozen=True, slots=True)
class Finished:
    state: FinishState
    finish_reason: str | None = None
    error_type: str | None = None
    """Exception class name (or ``in_band_error``/``no_finish``) for state error/timeout."""
    error: str | None = None
    """Redacted, sanitized message."""
    reported_model: str | None = None
    """The model name the provider reported in its chunks."""
    retries: int = 0


Event = Waiting | Started | TextDelta | Usage | Retrying | Finished
# A provider stream: litellm's or the lean OpenAI-compatible client's (providers.backends).
StreamSource = Callable[[ModelRequest, Timeouts], AsyncGenerator[Event, None]]

DEFAULT_TIMEOUTS = Timeouts()

TIMEOUT_MESSAGES = {
    "first_token": "no first token within {:g} s",
    "between_chunks": "no new chunk for {:g} s",
    "total": "the response exceeded the total time limit of {:g} s",
}
"""The one wording of each stream timeout (``Finished.error``), whichever backend streamed."""


def timeout_message(kind: str, seconds: float) -> str:
    """``timeout_message("between_chunks", 30)`` → ``no new chunk for 30 s``."""
    return TIMEOUT_MESSAGES[kind].format(seconds)
