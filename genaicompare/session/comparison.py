"""Run prompts against N models concurrently and store what comes back. No Textual here.

The TUI and the headless run both go through :class:`Comparison`: it renders each prompt for each
model, answers from the response cache when allowed, otherwise streams through the provider layer
(bounded by one semaphore across prompts and models), and saves every response — whatever state it
ended in — before handing it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from genaicompare.catalog import Catalog, ModelSpec, Prompt, RenderedPrompt
from genaicompare.core.records import ResponseRecord, request_hash
from genaicompare.providers.events import Event, ModelRequest, Timeouts

if TYPE_CHECKING:  # the store pulls sqlite-utils (and pandas): not before a catalog error
    from genaicompare.store import Store

DEFAULT_CONCURRENCY = 4

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
    ) -> ResponseRecord:
        """Answer one prompt with one model; the returned record is already stored."""
        request, rendered = build_request(self.catalog, prompt, model)
        if self.use_cache if use_cache is None else use_cache:
            hit = await asyncio.to_thread(
                self.store.cached_response,
                request_hash(request.model, request.params, request.messages, request.api_base),
            )
            if hit is not None:
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
        async with self._slots:
            try:
                # The providers pick the backend (the lean client for OpenAI-compatible ones).
                record = await collector.run(self.timeouts, on_event)
            except asyncio.CancelledError:
                # The collector kept the text so far, in state ``cancelled``: store that.
                await asyncio.shield(self._save(collector.record))
                raise
        record.sample_index = sample_index
        await self._save(record)
        return record

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
