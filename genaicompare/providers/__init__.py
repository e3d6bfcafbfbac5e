"""Provider layer: one async streaming interface for every model.

* :func:`genaicompare.providers.backends.litellm.stream` ``(request, timeouts)`` yields :mod:`events` from
  litellm: ``Started``, ``TextDelta``…, ``Retrying`` (before the first token only), at most one
  ``Usage``, then exactly one ``Finished`` (complete/length/content_filter/error/timeout); a
  cancelled stream just stops. litellm is imported lazily; UIs call
  ``stream.import_litellm_in_background()`` after the first paint, headless runs ``warm_up()``.
* :func:`genaicompare.providers.collect.collect` ``(request, timeouts, on_event, prompt_id=…)``
  returns the measured :class:`~genaicompare.core.records.ResponseRecord` (TTFT, latency, tokens, tok/s,
  cost or None); cancellation is recorded as ``cancelled`` on a ``ResponseCollector`` you pass in.
* ``local/smollm2`` (or ``local/<file.gguf>``) is served by a pool of llama-cpp-python servers
  (:mod:`genaicompare.providers.local`: ``await local.ensure_started()``, ``local.status()``),
  through the same litellm path.
* :mod:`genaicompare.providers.backends.openai_compat` is a lean client for ``openai/`` + ``api_base`` with
  the same events.
"""

from genaicompare.providers.events import (
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
]
