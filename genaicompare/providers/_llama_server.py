"""``python -m llama_cpp.server``, plus token usage at the end of streamed chat completions.

llama-cpp-python's server sends usage only for non-streamed answers, so streamed local answers
would carry estimated token counts. This launcher (run by :mod:`genaicompare.providers.local` in
the server's own process) counts what ``Llama.generate`` really consumed and produced and appends
the OpenAI ``{"choices": [], "usage": …}`` chunk that ``stream_options.include_usage`` asks for.
If llama-cpp-python's internals ever change shape, the patch is skipped and the server runs as is
(genaicompare then estimates, and says so).

It also ends with its parent: see :func:`_exit_with_parent`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any


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


def _exit_with_parent() -> None:
    """End this server when the process that started it ends, however it ends: stdin is a pipe
    whose write end only the parent holds, so EOF here means the parent is gone (or asked)."""
    import os
    import threading

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        os._exit(0)  # nothing to save: drop in-flight requests and free the model at once

    # Only when started by genaicompare.providers.local (by hand, stdin may be a terminal).
    if os.environ.get("GENAICOMPARE_LIFELINE") == "stdin":
        threading.Thread(target=watch, name="parent-lifeline", daemon=True).start()


def main() -> None:
    _exit_with_parent()
    _patch()
    from llama_cpp.server.__main__ import main as server_main

    sys.argv[0] = "llama_cpp.server"
    server_main()


if __name__ == "__main__":
    main()
