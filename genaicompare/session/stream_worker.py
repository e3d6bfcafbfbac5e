"""The streaming worker process behind :class:`genaicompare.session.streaming.ProcessEngine`.

No Textual: it runs the domain's :class:`Comparison` and writes JSON lines to stdout. Protocol:

* stdin: optionally ``{"op": "prestart", "models": ["local/smollm2", ...]}`` (sent at the UI's
  first paint: those models' servers start at once), then ``{"catalog": {...}, "db": path,
  "timeouts": {...}, "concurrency": n, "interval": s}``; then ``{"op": "run", "job": j,
  "prompt": id, "model": alias}`` or ``{"op": "cancel", "job": j}``. EOF (the app quit, or
  died) cancels everything still running, stores what it had, stops the local servers and
  exits; SIGTERM and SIGHUP do the same.
* stdout: ``{"t": "phase", "job": j, "phase": words}`` while a request waits for its first
  token, ``{"t": "text", "job": j, "text": ..., "n": chunks, "ttft": ms, "decode": s}`` at most
  once per interval per job (the answer's own TTFT and decode time so far, see
  :class:`~genaicompare.session.streaming.LiveTiming`), then exactly one of ``{"t": "done",
  "job": j, "id": response_id}``, ``{"t": "cancelled", "job": j, "id": response_id}`` (the
  stored text so far; no id if nothing was stored) or ``{"t": "error", "job": j, "message": ...}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from genaicompare.core.sanitize import redact


async def _main() -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # A non-blocking writer: if the UI reads slowly, lines queue in memory here instead of
    # stalling this loop (a stalled loop would trip the streams' between-chunk timeouts).
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, sys.stdout)

    def send(message: dict[str, Any]) -> None:
        line = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
        transport.write(line + b"\n")

    import signal

    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop.set)

    async def next_line() -> bytes:
        """The next line of stdin, or b"" at EOF or on SIGTERM/SIGHUP."""
        read = asyncio.ensure_future(reader.readline())
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if read.done():
            return read.result()
        read.cancel()
        return b""

    first = await next_line()
    if first and json.loads(first).get("op") == "prestart":
        from genaicompare.providers import local

        local.start_in_background(json.loads(first).get("models") or [])
        # While the servers load and the UI builds its screen, import what the session needs
        # (pydantic, sqlite-utils, the comparison: ≈0.3 s), not after the catalog arrives:
        # that was on the path to the first token (measured in the quickstart).
        import genaicompare.catalog
        import genaicompare.session.comparison
        import genaicompare.store  # noqa: F401

        first = await next_line()
    if not first:
        return 0
    hello = json.loads(first)

    from genaicompare.catalog import Catalog
    from genaicompare.core.errors import KnownError
    from genaicompare.providers.events import TextDelta, Timeouts
    from genaicompare.session.comparison import Comparison
    from genaicompare.session.streaming import Clock
    from genaicompare.store import Store

    catalog = Catalog.model_validate(hello["catalog"])
    try:
        store = Store(hello["db"])
        # Recording the catalog (one row per prompt) happens here, off the UI process.
        catalog_id = store.record_catalog(catalog, hello.get("catalog_path"))
        run_id = store.start_run(catalog_id, catalog, "tui", int(hello.get("concurrency", 4)))
    except KnownError as exc:
        # A read-only, full or damaged database: the UI shows this, not "exit code 1".
        send({"t": "fatal", "message": redact(str(exc))})
        transport.close()
        return 2
    comparison = Comparison(
        catalog,
        store,
        timeouts=Timeouts(**hello["timeouts"]),
        concurrency=int(hello.get("concurrency", 4)),
        run_id=run_id,
        catalog_id=catalog_id,
    )
    interval = float(hello.get("interval", 0.05))
    tasks: dict[int, asyncio.Task[None]] = {}

    async def run(job: int, prompt_id: str, alias: str) -> None:
        parts: list[str] = []
        count = 0
        handle: asyncio.TimerHandle | None = None
        clock = Clock()
        kept: list[Any] = []

        def flush() -> None:
            nonlocal handle, count
            handle = None
            if parts:
                timing = clock.timing()
                send(
                    {
                        "t": "text",
                        "job": job,
                        "text": "".join(parts),
                        "n": count,
                        "ttft": timing.ttft_ms,
                        "decode": timing.decode_s,
                    }
                )
                parts.clear()
                count = 0

        def on_event(event: object) -> None:
            nonlocal handle, count
            if isinstance(event, TextDelta) and event.text:
                clock.text(event)
                parts.append(event.text)
                count += 1
                if handle is None:
                    handle = loop.call_later(interval, flush)
            elif (phase := clock.phase(event)) is not None:
                send({"t": "phase", "job": job, "phase": phase})

        try:
            record = await comparison.run_pair(
                catalog.prompt(prompt_id),
                catalog.model_spec(alias),
                on_event,
                use_cache=False,
                on_cancelled=kept.append,
            )
        except asyncio.CancelledError:
            if handle is not None:
                handle.cancel()
            flush()
            send({"t": "cancelled", "job": job, "id": kept[0].id if kept else None})
            return
        except Exception as exc:
            if handle is not None:
                handle.cancel()
            flush()
            send({"t": "error", "job": job, "message": f"{type(exc).__name__}: {redact(str(exc))}"})
            return
        finally:
            tasks.pop(job, None)
        if handle is not None:
            handle.cancel()
        flush()
        send({"t": "done", "job": job, "id": record.id})

    while True:
        line = await next_line()
        if not line:
            break
        msg = json.loads(line)
        if msg.get("op") == "run":
            job = int(msg["job"])
            tasks[job] = asyncio.create_task(run(job, msg["prompt"], msg["model"]))
        elif msg.get("op") == "cancel":
            task = tasks.get(int(msg["job"]))
            if task is not None:
                task.cancel()
    for task in list(tasks.values()):
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    store.finish_run(run_id)
    store.close()
    transport.close()
    from genaicompare.providers import local

    local.shutdown()  # atexit would too; now, while nothing else is left to do
    return 0


def main() -> int:
    try:
        return asyncio.run(_main())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
