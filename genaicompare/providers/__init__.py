"""Provider layer: one async streaming interface for every model. Callers never pick a backend.

* :func:`stream` ``(request, timeouts)`` yields :mod:`events`: ``Started``, ``TextDelta``…,
  ``Retrying`` (before the first token only), at most one ``Usage``, then exactly one
  ``Finished`` (complete/length/content_filter/error/timeout); a cancelled stream just stops.
  It is served by the lean OpenAI-compatible client (:mod:`.backends.openai_compat`, for
  ``openai/`` + ``api_base`` where it is exactly equivalent), the native Anthropic and Gemini
  clients (:mod:`.backends.anthropic`, :mod:`.backends.gemini`, sharing :mod:`.backends.sse`;
  ``GENAICOMPARE_NATIVE=0`` turns them off) or by litellm
  (:mod:`.backends.litellm`), as :func:`.backends.backend_for` picks. litellm is imported
  lazily; UIs call ``backends.litellm.import_litellm_in_background()`` after the first paint,
  headless runs ``warm_up()``.
* :func:`collect` ``(request, timeouts, on_event, prompt_id=…)`` returns the measured
  :class:`~genaicompare.core.records.ResponseRecord` (TTFT, latency, tokens, tok/s, cost or
  None) from the same backend; cancellation is recorded as ``cancelled`` on a
  :class:`~.collect.ResponseCollector` you pass in.
* ``local/smollm2`` (or ``local/<file.gguf>``) is served by a pool of llama-cpp-python servers
  (:mod:`genaicompare.providers.local`: ``await local.ensure_started()``, ``local.status()``),
  through the litellm backend.

Importing this package is light: neither backend's heavy imports (litellm, httpx) load here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from genaicompare.providers.backends import backend_for
from genaicompare.providers.collect import collect
from genaicompare.providers.events import (
    DEFAULT_TIMEOUTS,
    Event,
    Finished,
    FinishState,
    ModelRequest,
    Retrying,
    Started,
    TextDelta,
    Timeouts,
    Usage,
)


def stream(
    request: ModelRequest, timeouts: Timeouts = DEFAULT_TIMEOUTS
) -> AsyncGenerator[Event, None]:
    """The events of one request, from the backend that serves it (see the module docstring)."""
    return backend_for(request)(request, timeouts)


__all__ = [
    "Event",
    "FinishState",
    "Finished",
    "ModelRequest",
    "Retrying",
    "Started",
    "TextDelta",
    "Timeouts",
    "Usage",
    "backend_for",
    "collect",
    "stream",
]
