r"""``python -m llama_cpp.server``, plus token usage at the end of streamed chat completions.

llama-cpp-python's server sends usage only for non-streamed answers, so streamed local answers
would carry estimated token counts. This launcher (run by :mod:`genaicompare.providers.local` in
the server's own process) counts what ``Llama.generate`` really consumed and produced and appends
the OpenAI ``{"choices": [], "usage": …}`` chunk that ``stream_options.include_usage`` asks for.
If llama-cpp-python's internals ever change shape, the patch is skipped and the server runs as is
(genaicompare then estimates, and says so).

It also ends with its parent: see :func:`_exit_with_parent`.

Starting a pool costs one start, not one per server (:func:`main`): the imports (FastAPI,
pydantic, llama_cpp: ≈0.7 s of CPU) and the weights load once, and the pool's other servers are
forked from the loaded process — each with its own port, lifeline and session, sharing the
weights' pages. The load runs at normal priority: it is the path to the first token, and loading
at a lower one (tried: niceness +10) made the quickstart's first token ≈0.4 s later without
making its main screen any sooner.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

SIBLINGS_ENV = "GENAICOMPARE_SIBLINGS"
"""JSON list of ``{"port", "fd", "pidfile"}``: servers to fork once the model is loaded. ``fd``
is the read end of that server's own lifeline pipe (passed with ``pass_fds``); the forked server
writes its pid to ``pidfile``."""


def _patch() -> bool:
    try:
        from llama_cpp import Llama
    except ImportError:
        return False
    original_generate = getattr(Llama, "generate", None)
    original_chat = getattr(Llama, "create_chat_completion", None)
    if original_generate is None or original_chat is None:
        return False

    def generate(self: Any, tokens: Any, *args: Any, **kwargs: Any) -> Iterator[int]:
        self._gc_prompt_tokens = len(tokens)
        self._gc_generated = 0
        inner = original_generate(self, tokens, *args, **kwargs)
        try:
            for token in inner:
                self._gc_generated += 1
                yield token
        finally:
            inner.close()

    def create_chat_completion(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._gc_prompt_tokens = self._gc_generated = None
        result = original_chat(self, *args, **kwargs)
        if not kwargs.get("stream") or isinstance(result, dict):
            return result
        return _with_usage(self, result)

    Llama.generate = generate  # type: ignore[method-assign,assignment]
    Llama.create_chat_completion = create_chat_completion  # type: ignore[method-assign]
    return True


def _without_extra_buffers() -> None:
    """Load weights into plain CPU buffers, not ggml's "extra" ones (AMX tiles, repacked
    layouts). A build for a CPU that advertises AMX uses AMX kernels, and in virtual machines
    that advertise AMX without enabling its tile state (seen on Firecracker VMs with Sapphire
    Rapids CPUs) the first ``ldtilecfg`` kills the server with a general protection fault: every
    answer then ends "connection closed mid-stream". For a 135M model the extra buffers save
    little; llama.cpp's own switch for this is ``--no-repack`` (``use_extra_bufts = false``)."""
    try:
        import llama_cpp.llama_cpp as low
    except ImportError:
        return
    defaults = getattr(low, "llama_model_default_params", None)
    if defaults is None or getattr(defaults, "_gc_plain", False):
        return

    def plain() -> Any:
        params = defaults()
        if hasattr(params, "use_extra_bufts"):  # older llama-cpp-python has no such field
            params.use_extra_bufts = False
        return params

    plain._gc_plain = True  # type: ignore[attr-defined]
    low.llama_model_default_params = plain


def _with_usage(llama: Any, chunks: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    last: dict[str, Any] | None = None
    for chunk in chunks:
        last = chunk
        yield chunk
    prompt, generated = llama._gc_prompt_tokens, llama._gc_generated
    if last is None or prompt is None or generated is None:
        return
    choices = last.get("choices") or [{}]
    # On "stop" the last generated token is the end-of-generation token, which is not output.
    completion = (
        generated - 1 if choices[0].get("finish_reason") == "stop" and generated else generated
    )
    yield {
        "id": last.get("id"),
        "object": "chat.completion.chunk",
        "created": last.get("created"),
        "model": last.get("model"),
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def _exit_with_parent(fd: int = 0) -> None:
    """End this server when the process that started it ends, however it ends: ``fd`` (stdin)
    is a pipe whose write end only the parent holds, so EOF there means the parent is gone (or
    asked). Read with ``os.read``, not ``sys.stdin``: a forked server must not inherit a buffer
    lock held by its parent's reading thread."""

    def watch() -> None:
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        os._exit(0)  # nothing to save: drop in-flight requests and free the model at once

    # Only when started by genaicompare.providers.local (by hand, stdin may be a terminal).
    if os.environ.get("GENAICOMPARE_LIFELINE") == "stdin":
        threading.Thread(target=watch, name="parent-lifeline", daemon=True).start()


def _load() -> tuple[Any, str, int]:
    """llama_cpp.server's own start-up up to the loaded app: (app, host, port)."""
    _patch()
    _without_extra_buffers()
    import argparse

    from llama_cpp.server.app import create_app
    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="llama_cpp.server")
    add_args_from_model(parser, Settings)
    args = parser.parse_args()
    # As llama_cpp.server.__main__ does (its annotation says the class; it returns an instance).
    server: Any = parse_model_from_args(ServerSettings, args)
    model: Any = parse_model_from_args(ModelSettings, args)
    app = create_app(server_settings=server, model_settings=[model])
    return app, server.host, int(server.port)


def _fork_siblings(siblings: list[dict[str, Any]], port: int) -> int:
    """Fork one server per sibling; return the port this process serves (its own or, in a
    forked child, the sibling's)."""
    import signal

    for sibling in siblings:
        pid = os.fork()
        if pid == 0:
            os.setsid()  # like its leader: a terminal's signals reach only the app
            os.dup2(int(sibling["fd"]), 0)
            for other in siblings:
                os.close(int(other["fd"]))
            tmp = f"{sibling['pidfile']}.tmp"
            with open(tmp, "w", encoding="ascii") as fh:
                fh.write(str(os.getpid()))
            os.replace(tmp, sibling["pidfile"])
            _exit_with_parent()
            return int(sibling["port"])
    for sibling in siblings:
        os.close(int(sibling["fd"]))
    # The forked servers are this process's children: reap them as they end (no zombies).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    return port


def main() -> None:
    _exit_with_parent()
    siblings = json.loads(os.environ.pop(SIBLINGS_ENV, "") or "[]")
    sys.argv[0] = "llama_cpp.server"
    try:
        app, host, port = _load()
    except (ImportError, AttributeError, TypeError):
        # llama-cpp-python's start-up changed shape: run it as it is (no siblings: the pool
        # starts the others on their own when their ports never answer).
        _patch()
        _without_extra_buffers()
        from llama_cpp.server.__main__ import main as server_main

        server_main()
        return
    if siblings and hasattr(os, "fork"):
        port = _fork_siblings(siblings, port)
    import uvicorn

    uvicorn.run(app, host=host, port=port)


if __name__ == "__main__":
    main()
