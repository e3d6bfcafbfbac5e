r"""``python -m llama_cpp.server``, plus token usage at the end of streamed chat completions.

llama-cpp-python's server sends usage only for non-streamed answers, so streamed local answers
would carry estimated token counts. This launcher (run by :mod:`genaicompare.providers.local` in
the server's own process) counts what ``Llama.generate`` really consumed and produced and appends
the OpenAI ``{"choices": [], "usage": …}`` chunk that ``stream_options.include_usage`` asks for.
If llama-cpp-python's internals ever change shape, the patch is skipped and the server runs as is
(genaicompare then estimates, and says so).

It also ends with its parent: see :func:`_exit_with_parent`.

Its HTTP side is the standard library's, not llama_cpp.server's FastAPI app: of that app's
≈1.1 s start-up (measured: importing ``llama_cpp.server.app`` alone) ≈0.56 s is importing FastAPI
(which builds its OpenAPI schema models), for one endpoint the pool uses. Everything that decides an answer is
still llama-cpp-python's own: the command line (``llama_cpp.server.cli`` into its
``ModelSettings``), the model's load (``LlamaProxy``), the request's validation and defaults
(its ``CreateChatCompletionRequest``: temperature 0.8, top_p 0.95, … as the upstream server
applies them), the logit-bias, grammar and min-tokens handling (:func:`_prepare`, as its app's
``prepare_request_resources``) and ``Llama.create_chat_completion``. Unlike the upstream
server, an error before the first token (a prompt longer than the context window) is an HTTP
error with the reason, not a stream that breaks off; an error after it ends the stream with an
OpenAI ``{"error": …}`` event. If llama-cpp-python's start-up ever changes shape, its own server
runs instead (:func:`main`).

Starting a pool costs one start, not one per server (:func:`main`): the imports and the weights
load once, and the pool's other servers are forked from the loaded process — each with its own
port, lifeline and session, sharing the weights' pages. The load runs at normal priority: it is
the path to the first token, and loading at a lower one (tried: niceness +10) made the
quickstart's first token ≈0.4 s later without making its main screen any sooner.
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__" and sys.path and sys.path[0] == os.path.dirname(__file__):
    # Run by its path (see genaicompare.providers.local: importing the genaicompare.providers
    # package first would cost ≈0.18 s of the start-up): its folder's modules must not shadow
    # anything the server imports.
    del sys.path[0]

import json
import re
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
    """llama_cpp.server's own start-up, without its web app: (the loaded ``LlamaProxy``, host,
    port)."""
    _patch()
    _without_extra_buffers()
    import argparse

    from llama_cpp.server.cli import add_args_from_model, parse_model_from_args
    from llama_cpp.server.model import LlamaProxy
    from llama_cpp.server.settings import ModelSettings, ServerSettings, Settings

    parser = argparse.ArgumentParser(prog="llama_cpp.server")
    add_args_from_model(parser, Settings)
    args = parser.parse_args()
    # As llama_cpp.server.__main__ does (its annotation says the class; it returns an instance).
    server: Any = parse_model_from_args(ServerSettings, args)
    model: Any = parse_model_from_args(ModelSettings, args)
    return LlamaProxy(models=[model]), server.host, int(server.port)


_EXCLUDE = {"n", "logit_bias_type", "user", "min_tokens"}
"""Request fields that are not ``create_chat_completion`` arguments (as upstream's app)."""

_CONTEXT = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _prepare(llama: Any, body: Any, kwargs: dict[str, Any]) -> None:
    """What upstream's ``prepare_request_resources`` adds to the arguments: logit bias by token
    text, a grammar, a minimum number of tokens."""
    import llama_cpp

    if body.logit_bias is not None:
        if body.logit_bias_type == "tokens":
            kwargs["logit_bias"] = {
                str(i): score
                for token, score in body.logit_bias.items()
                for i in llama.tokenize(token.encode("utf-8"), add_bos=False, special=True)
            }
        else:
            kwargs["logit_bias"] = body.logit_bias
    if body.grammar is not None:
        kwargs["grammar"] = llama_cpp.LlamaGrammar.from_string(body.grammar)
    if body.min_tokens > 0:
        kwargs["logits_processor"] = llama_cpp.LogitsProcessorList(
            [llama_cpp.MinTokensLogitsProcessor(body.min_tokens, llama.token_eos())]
        )


def _error_body(error: BaseException, body: Any = None) -> tuple[int, dict[str, Any]]:
    """An exception as an OpenAI error response (status, body), as upstream's error handler
    words the context-window one."""
    text = str(error) or type(error).__name__
    match = _CONTEXT.search(text)
    if match is not None:
        wanted = body.max_tokens if body is not None else None
        message = (
            f"This model's maximum context length is {match.group(2)} tokens. However, you "
            f"requested {int(match.group(1)) + (wanted or 0)} tokens "
            f"({match.group(1)} in the messages, {wanted or 0} in the completion). Please "
            "reduce the length of the messages or completion."
        )
        error_fields = {"type": "invalid_request_error", "code": "context_length_exceeded"}
        return 400, {"error": {"message": message, **error_fields, "param": "messages"}}
    kind = "invalid_request_error" if isinstance(error, ValueError) else "internal_server_error"
    status = 400 if isinstance(error, ValueError) else 500
    return status, {"error": {"message": text, "type": kind, "param": None, "code": None}}


class _Disconnected(Exception):
    """The client closed the connection: stop generating."""


def _handler(proxy: Any) -> type:
    """The request handler class for one server: ``GET /v1/models`` (the pool's readiness check)
    and ``POST /v1/chat/completions``, one answer at a time (the model is not re-entrant; the
    next request waits, as upstream's server without ``interrupt_requests``)."""
    from http.server import BaseHTTPRequestHandler

    from llama_cpp.server.types import CreateChatCompletionRequest
    from pydantic import ValidationError

    lock = threading.Lock()
    alias = next(iter(proxy._model_settings_dict), "model")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "genaicompare-llama"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # no access log: the server's log keeps what says why it failed

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _chunk(self, data: bytes) -> None:
            try:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            except OSError as e:
                raise _Disconnected from e

        def do_GET(self) -> None:
            if self.path.split("?")[0].rstrip("/") in ("/v1/models", "/models"):
                model: dict[str, Any] = {
                    "id": alias,
                    "object": "model",
                    "owned_by": "me",
                    "permissions": [],
                }
                self._send(200, {"object": "list", "data": [model]})
            else:
                self._send(
                    404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
                )

        def do_POST(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path not in ("/v1/chat/completions", "/chat/completions"):
                self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
                return
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = CreateChatCompletionRequest.model_validate_json(raw)
            except ValidationError as e:
                problems = "; ".join(
                    f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()
                )
                self._send(400, {"error": {"message": problems, "type": "invalid_request_error"}})
                return
            kwargs = body.model_dump(exclude=_EXCLUDE)
            with lock:
                self._answer(body, kwargs)

        def _answer(self, body: Any, kwargs: dict[str, Any]) -> None:
            try:
                llama = proxy(body.model)
                _prepare(llama, body, kwargs)
                result = llama.create_chat_completion(**kwargs)
                if not body.stream:
                    self._send(200, result)
                    return
                chunks = iter(result)
                first = next(chunks, None)  # an error before the first token is an HTTP error
            except Exception as e:
                self._send(*_error_body(e, body))
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                try:
                    if first is not None:
                        self._chunk(b"data: %s\n\n" % json.dumps(first).encode())
                    for chunk in chunks:
                        self._chunk(b"data: %s\n\n" % json.dumps(chunk).encode())
                except _Disconnected:
                    raise
                except Exception as e:
                    self._chunk(b"data: %s\n\n" % json.dumps(_error_body(e, body)[1]).encode())
                self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")
            except _Disconnected:
                self.close_connection = True
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()  # ends the generation (and frees the model for the next request)

    return Handler


def _serve(handler: type, host: str, port: int) -> None:
    from http.server import ThreadingHTTPServer

    httpd = ThreadingHTTPServer((host, port), handler)
    httpd.daemon_threads = True  # a request in flight does not hold the exit
    print(f"serving on http://{host}:{port}", file=sys.stderr, flush=True)
    httpd.serve_forever()


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
        proxy, host, port = _load()
        handler = _handler(proxy)  # imports what a request needs, before the fork
    except (ImportError, AttributeError, TypeError):
        # llama-cpp-python's start-up changed shape: run its own server as it is (no siblings:
        # the pool starts the others on their own when their ports never answer).
        _patch()
        _without_extra_buffers()
        from llama_cpp.server.__main__ import main as server_main

        server_main()
        return
    if siblings and hasattr(os, "fork"):
        port = _fork_siblings(siblings, port)
    _serve(handler, host, port)


if __name__ == "__main__":
    main()
