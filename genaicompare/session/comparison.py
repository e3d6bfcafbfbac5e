"""Run prompts against N models concurrently and store what comes back. No Textual here.

The TUI and the headless run both go through :class:`Comparison`: it renders each prompt for each
model, answers from the response cache when allowed, otherwise streams through the provider layer
(bounded by one semaphore across prompts and models), and saves every response — whatever state it
ended in — before handing it back.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from genaicompare.catalog import Catalog, ModelSpec, Prompt, RenderedPrompt
from genaicompare.core.records import FinishState, ResponseRecord, request_hash
from genaicompare.providers.events import Event, Finished, ModelRequest, TextDelta, Timeouts
from genaicompare.providers.local import is_local

if TYPE_CHECKING:  # the store pulls sqlite-utils (and pandas): not before a catalog error
    from genaicompare.store import Store

DEFAULT_CONCURRENCY = 4

# The variable each hosted provider reads its key from when the catalog names none (litellm's
# names). A model whose key is missing is not called: its answer says which variable to set.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "xai": "XAI_API_KEY",
    "cohere": "COHERE_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
}
AUTH_ERRORS = frozenset({"AuthenticationError", "PermissionDeniedError", "MissingAPIKey"})
"""Error types that another call to the same model cannot fix (401, 403, no key)."""


def missing_key(request: ModelRequest) -> str | None:
    """The environment variable ``request`` needs and does not have, or None.

    A catalog's ``api_key_env`` must be set; a hosted provider's own variable must be set when
    the model has no ``api_base`` (self-hosted servers often need no key); ``local/`` needs none.
    """
    if request.api_key_env:
        return None if os.environ.get(request.api_key_env) else request.api_key_env
    if request.api_base or is_local(request.model):
        return None
    provider = request.model.partition("/")[0] if "/" in request.model else ""
    name = PROVIDER_KEYS.get(provider)
    return name if name is not None and not os.environ.get(name) else None


EventCallback = Callable[[Event], None]
ResultCallback = Callable[[ResponseRecord], Awaitable[None] | None]


def build_request(
    catalog: Catalog, prompt: Prompt, model: ModelSpec
) -> tuple[ModelRequest, RenderedPrompt]:
    """The provider request for ``prompt`` × ``model`` and its rendering."""
    rendered = catalog.render(prompt, model)
    request = ModelRequest(
        alias=model.id,
        model=model.model,
        messages=rendered.messages,
        params=catalog.params_for(model),
        api_base=model.api_base,
        api_key_env=model.api_key_env,
        price_in_per_mtok=model.price.input_per_mtok if model.price else None,
        price_out_per_mtok=model.price.output_per_mtok if model.price else None,
    )
    return request, rendered


@dataclass
class Comparison:
    catalog: Catalog
    store: Store
    timeouts: Timeouts = field(default_factory=Timeouts)
    concurrency: int = DEFAULT_CONCURRENCY
    use_cache: bool = True
    run_id: int | None = None
    catalog_id: int | None = None
    save: Callable[[ResponseRecord], Awaitable[None]] | None = None
    """Stores a record (setting its id); default: one transaction per record in a thread. The
    headless run passes a batch writer (one transaction, one fsync, per ≈20 ms of answers)."""

    def __post_init__(self) -> None:
        self._slots = asyncio.Semaphore(max(1, self.concurrency))
        self.auth_failed: dict[str, str] = {}
        """Model alias → why it failed authentication; it is not called again this session."""
        self._first_call: dict[str, asyncio.Event] = {}

    def cached(self, prompt: Prompt, model: ModelSpec) -> ResponseRecord | None:
        """A stored answer to exactly this request (model + params + endpoint + messages)."""
        request, _ = build_request(self.catalog, prompt, model)
        return self.store.cached_response(
            request_hash(request.model, request.params, request.messages, request.api_base)
        )

    async def run_pair(
        self,
        prompt: Prompt,
        model: ModelSpec,
        on_event: EventCallback | None = None,
        *,
        use_cache: bool | None = None,
        sample_index: int = 0,
        on_cancelled: Callable[[ResponseRecord], None] | None = None,
    ) -> ResponseRecord:
        """Answer one prompt with one model; the returned record is already stored.

        A cancelled answer is stored too (the text so far), handed to ``on_cancelled``, and the
        cancellation propagates. A model without its key, or one that failed authentication
        earlier, is not called: the stored answer is an ``error`` that says why.
        """
        request, rendered = build_request(self.catalog, prompt, model)
        if self.use_cache if use_cache is None else use_cache:
            hit = await asyncio.to_thread(
                self.store.cached_response,
                request_hash(request.model, request.params, request.messages, request.api_base),
            )
            if hit is not None:
                # The stored answer may have been asked for by another catalog, under its own
                # alias and prompt id: this copy is filed under the names that asked now.
                hit.model_alias = model.id
                hit.prompt_id = prompt.id
                hit.from_cache = True
                hit.sample_index = sample_index
                hit.template_hash = rendered.template_hash
                await self._save(hit)
                return hit
        from genaicompare.providers.collect import ResponseCollector

        collector = ResponseCollector(
            request,
            prompt_id=prompt.id,
            template_hash=rendered.template_hash,
            sample_index=sample_index,
        )
        # Until a model's first call has shown its credentials work, its other requests wait:
        # a wrong key costs one failing call, not one per prefetched prompt.
        first = self._first_call.get(model.id)
        if first is None:
            self._first_call[model.id] = first = asyncio.Event()
            vetting = True
        else:
            vetting = False
            await first.wait()

        def watch(event: Event) -> None:
            if vetting and isinstance(event, TextDelta | Finished):
                first.set()
            if on_event is not None:
                on_event(event)

        refused = self._refusal(request, model.id)
        try:
            if refused is not None:
                collector.feed(Finished(FinishState.error, error_type=refused[0], error=refused[1]))
                record = collector.record
                if on_event is not None:
                    on_event(collector.finished)  # type: ignore[arg-type]
            else:
                async with self._slots:
                    try:
                        # The providers pick the backend (the lean client for OpenAI-compatible
                        # ones, and for the local model).
                        record = await collector.run(self.timeouts, watch)
                    except asyncio.CancelledError:
                        # The collector kept the text so far, in state ``cancelled``: store that.
                        await asyncio.shield(self._save(collector.record))
                        if on_cancelled is not None:
                            on_cancelled(collector.record)
                        raise
        finally:
            if vetting:
                first.set()
        if record.error_type in AUTH_ERRORS:
            self.auth_failed.setdefault(model.id, record.error or record.error_type or "")
        record.sample_index = sample_index
        await self._save(record)
        return record

    def _refusal(self, request: ModelRequest, alias: str) -> tuple[str, str] | None:
        """(error type, message) when ``request`` must not be sent, else None."""
        name = missing_key(request)
        if name is not None:
            return (
                "MissingAPIKey",
                f"no API key: set {name} (in the environment) for {request.model}",
            )
        if alias in self.auth_failed:
            return (
                "AuthenticationError",
                f"not called: {alias} failed authentication earlier ({self.auth_failed[alias]})",
            )
        return None

    async def _save(self, record: ResponseRecord) -> None:
        if self.save is not None:
            await self.save(record)
        else:
            await asyncio.to_thread(self.store.save_response, record, self.run_id, self.catalog_id)

    async def run_many(
        self,
        pairs: Iterable[tuple[Prompt, ModelSpec]],
        on_result: ResultCallback | None = None,
        *,
        repeat: int = 1,
        skip: Container[tuple[str, str, int]] = (),
    ) -> int:
        """Run every pair (× ``repeat``); ``on_result`` is called as each one is stored.

        A fixed pool of workers pulls from the iterator, so memory stays flat however large the
        catalog is (no task per pair). ``skip`` holds (prompt id, model alias, sample index)
        already answered (``--resume``). Returns how many responses were produced.
        """
        work = (
            (p, m, i)
            for p, m in pairs
            for i in range(max(1, repeat))
            if (p.id, m.id, i) not in skip
        )
        done = 0

        async def worker() -> None:
            nonlocal done
            for prompt, model, index in work:
                record = await self.run_pair(
                    prompt, model, sample_index=index, use_cache=self.use_cache and repeat == 1
                )
                done += 1
                if on_result is not None:
                    maybe = on_result(record)
                    if asyncio.iscoroutine(maybe):
                        await maybe

        workers = [asyncio.create_task(worker()) for _ in range(max(1, self.concurrency))]
        try:
            await asyncio.gather(*workers)
        except BaseException:
            for t in workers:
                t.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        return done
