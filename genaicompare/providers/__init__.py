"""Provider layer: one async streaming interface for every model.

``stream(request, timeouts)`` yields :mod:`events` from litellm (imported lazily, never before the
first screen). ``local/…`` model strings are served by the embedded SmolLM2 server
(:mod:`genaicompare.providers.local`). :class:`ResponseCollector` turns events into the measured
record the store saves.
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
