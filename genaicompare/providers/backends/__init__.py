"""The two streaming backends, and the one place that picks between them.

* :mod:`.openai_compat` — a lean client for ``openai/…`` + ``api_base``, used only where it is
  exactly equivalent to litellm (:func:`.openai_compat.supports`);
* :mod:`.anthropic` / :mod:`.gemini` — lean native clients for ``anthropic/…`` and
  ``gemini/…`` (Anthropic Messages, Gemini ``streamGenerateContent``), where they translate the
  request exactly (``GENAICOMPARE_NATIVE=0`` sends these through litellm);
* :func:`genaicompare.providers.local.stream` — ``local/…`` models: a server of the pool, then
  the lean client;
* :mod:`.litellm` — everything else (litellm imported on first use); inside
  :func:`.litellm_pool.serving` (headless runs), in worker processes.

Callers never choose: :func:`genaicompare.providers.stream` and
:func:`genaicompare.providers.collect` ask :func:`backend_for`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from genaicompare.providers.local import is_local

if TYPE_CHECKING:
    from genaicompare.providers.events import ModelRequest, StreamSource


def backend_for(request: ModelRequest) -> StreamSource:
    """The stream function that serves ``request``: the lean client where it is exactly
    equivalent (same events, a fraction of the CPU), else litellm's."""
    from genaicompare.providers.backends import openai_compat

    if openai_compat.supports(request):
        return openai_compat.stream
    if request.model.startswith("anthropic/"):
        from genaicompare.providers.backends import anthropic

        if anthropic.supports(request):
            return anthropic.stream
    if request.model.startswith("gemini/"):
        from genaicompare.providers.backends import gemini

        if gemini.supports(request):
            return gemini.stream
    if (
        is_local(request.model)
        and openai_compat.enabled()
        and all(k in openai_compat._PASS_THROUGH for k in request.params)
    ):
        # The embedded model's servers speak OpenAI: no litellm import on its way (seconds).
        from genaicompare.providers import local

        return local.stream
    from genaicompare.providers.backends import litellm, litellm_pool

    pool = litellm_pool.active()
    if pool is not None and not is_local(request.model):
        return pool.stream  # a local model's server leases live in this process
    return litellm.stream
