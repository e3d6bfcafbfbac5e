"""A worker process of :mod:`.litellm_pool`: streams litellm requests for its parent.

    python -m genaicompare.providers.backends.litellm_worker

litellm costs ≈0.5–0.8 ms of CPU per streamed chunk; in worker processes its streams use every
core. No Textual, no store: requests in, events out, JSON lines both ways.

* stdin: ``{"op": "stream", "id": n, "request": {...ModelRequest...}, "timeouts": {...}}`` or
  ``{"op": "cancel", "id": n}``. The request carries the *name* of its key variable, never a
  key: the worker reads the key from the environment it inherited. EOF (the parent ended or
  died) cancels every stream and exits.
* stdout: per stream, events ``{"id": n, "e": [type, field, ...]}`` (:func:`encode`) and
  finally ``{"id": n, "end": true}``; requests wait in the pipe while litellm imports.
  Lines written in one loop iteration go out in one write.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import sys
from typing import Any

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
    Waiting,
)

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (Started, Waiting, TextDelta, Usage, Retrying, Finished)
}


def encode(event: Event) -> list[Any]:
    """``[type name, *fields]`` (a finish state by its value)."""
    values = [getattr(event, f.name) for f in dataclasses.fields(event)]
    return [type(event).__name__, *(v.value if isinstance(v, FinishState) else v for v in values)]


def decode(item: list[Any]) -> Event:
    cls = _TYPES[item[0]]
    if cls is Finished:
        return Finished(FinishState(item[1]), *item[2:])
    event: Event = cls(*item[1:])
    return event


def request_to_json(request: ModelRequest) -> dict[str, Any]:
    return dataclasses.asdict(request)


def request_from_json(data: dict[str, Any]) -> ModelRequest:
    return ModelRequest(**data)


async def _main() -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # The protocol gets a descriptor of its own; whatever a library prints to stdout goes to
    # stderr (the log) instead of into the parent's stream of events.
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    transport, _ = await loop.connect_write_pipe(asyncio.Protocol, protocol)
    outbox: list[str] = []

    def flush() -> None:
        if outbox and not transport.is_closing():
            transport.write(("\n".join(outbox) + "\n").encode("utf-8", "surrogatepass"))
        outbox.clear()

    def send(message: dict[str, Any]) -> None:
        if not outbox:
            loop.call_soon(flush)
        outbox.append(json.dumps(message, ensure_ascii=False))

    from genaicompare.providers.backends import litellm as backend

    await asyncio.to_thread(backend.warm_up)
    tasks: dict[int, asyncio.Task[None]] = {}

    async def run(sid: int, request: ModelRequest, timeouts: Timeouts) -> None:
        try:
            async with contextlib.aclosing(backend.stream(request, timeouts)) as events:
                async for event in events:
                    send({"id": sid, "e": encode(event)})
        except asyncio.CancelledError:
            pass  # the parent stopped listening: it asked for this
        except Exception as exc:  # backend.stream ends in a Finished; this is a last resort
            error = Finished(FinishState.error, error_type=type(exc).__name__, error="worker")
            send({"id": sid, "e": encode(error)})
        finally:
            tasks.pop(sid, None)
            send({"id": sid, "end": True})

    while True:
        line = await reader.readline()
        if not line:
            break
        message = json.loads(line)
        sid = int(message["id"])
        if message.get("op") == "stream":
            request = request_from_json(message["request"])
            timeouts = Timeouts(**message["timeouts"])
            tasks[sid] = asyncio.ensure_future(run(sid, request, timeouts))
        elif message.get("op") == "cancel" and sid in tasks:
            tasks[sid].cancel()
    for task in list(tasks.values()):
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks.values(), return_exceptions=True)
    flush()
    return 0


def main() -> int:
    try:
        return asyncio.run(_main())
    except (KeyboardInterrupt, BrokenPipeError):
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
