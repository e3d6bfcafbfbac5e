"""Provider logic that needs no server: state mapping, retry policy, costs, the collector's maths."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from genaicompare.providers import Finished, FinishState, ModelRequest, TextDelta, Usage, local
from genaicompare.providers.backends.litellm import finish_state, is_retryable, retry_after, warm_up
from genaicompare.providers.collect import ResponseCollector, cost_usd, estimate_tokens

MESSAGES = [{"role": "user", "content": "hello"}]


def req(model: str = "openai/x", **kw: object) -> ModelRequest:
    return ModelRequest(alias="a", model=model, messages=MESSAGES, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reason", "state"),
    [
        ("stop", FinishState.complete),
        ("tool_calls", FinishState.complete),
        ("end_turn", FinishState.complete),
        ("length", FinishState.length),
        ("max_tokens", FinishState.length),
        ("content_filter", FinishState.content_filter),
        ("SAFETY", FinishState.content_filter),
        ("error", FinishState.error),
        (None, FinishState.error),
    ],
)
def test_finish_reason_to_state(reason: str | None, state: FinishState) -> None:
    assert finish_state(reason) is state


def _litellm_error(cls_name: str, status: int, headers: dict[str, str] | None = None) -> Exception:
    warm_up()
    import litellm

    response = httpx.Response(
        status, headers=headers or {}, request=httpx.Request("POST", "http://127.0.0.1/v1")
    )
    cls = getattr(litellm, cls_name)
    if cls_name == "APIConnectionError":
        return cls(message="boom", llm_provider="openai", model="m", request=response.request)
    return cls(message="boom", llm_provider="openai", model="m", response=response)


@pytest.mark.parametrize(
    ("cls_name", "status", "retry"),
    [
        ("RateLimitError", 429, True),
        ("InternalServerError", 500, True),
        ("ServiceUnavailableError", 503, True),
        ("APIConnectionError", 500, True),
        ("BadRequestError", 400, False),
        ("AuthenticationError", 401, False),
        ("NotFoundError", 404, False),
        ("ContextWindowExceededError", 400, False),
        ("ContentPolicyViolationError", 400, False),
    ],
)
def test_retry_policy(cls_name: str, status: int, retry: bool) -> None:
    assert is_retryable(_litellm_error(cls_name, status)) is retry


def test_timeouts_are_not_retried() -> None:
    warm_up()
    import litellm

    assert not is_retryable(litellm.Timeout(message="slow", model="m", llm_provider="openai"))


def test_retry_after_forms() -> None:
    assert retry_after(_litellm_error("RateLimitError", 429, {"retry-after": "7"})) == 7.0
    assert retry_after(_litellm_error("RateLimitError", 429, {"retry-after-ms": "250"})) == 0.25
    assert retry_after(_litellm_error("RateLimitError", 429)) is None
    future = time.time() + 30
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(future))
    waited = retry_after(_litellm_error("RateLimitError", 429, {"retry-after": date}))
    assert waited is not None and 25 < waited <= 31


def test_cost_unknown_is_none_never_zero() -> None:
    warm_up()
    assert cost_usd(req("openai/no-such-model-anywhere"), 10, 10) is None
    assert cost_usd(req("openai/gpt-4o-mini"), None, 10) is None


def test_cost_catalog_prices_and_local_is_free() -> None:
    priced = req(price_in_per_mtok=2.0, price_out_per_mtok=8.0)
    assert cost_usd(priced, 1_000_000, 500_000) == pytest.approx(2.0 + 4.0)
    half_priced = req(price_in_per_mtok=2.0)
    assert cost_usd(half_priced, 10, 10) is None  # half a price is not a price
    assert cost_usd(req("local/smollm2"), 100, 20) == 0.0


def test_cost_from_litellm_table() -> None:
    warm_up()
    import litellm

    expected = sum(
        litellm.cost_per_token(
            model="openai/gpt-4o-mini", prompt_tokens=1000, completion_tokens=100
        )
    )
    assert expected > 0
    assert cost_usd(req("openai/gpt-4o-mini"), 1000, 100) == pytest.approx(expected)


def test_token_estimate_heuristic_without_litellm() -> None:
    code = (
        "from genaicompare.providers.collect import estimate_tokens\n"
        "import sys\n"
        "print(estimate_tokens('m', text='x' * 40), estimate_tokens('m', text=''),"
        " 'litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["10", "0", "False"]
    assert estimate_tokens("m", messages=[{"role": "user", "content": "abcd" * 5}]) > 0


def test_stream_and_collect_modules_do_not_import_litellm() -> None:
    code = (
        "import json, sys\n"
        "import genaicompare.providers.backends.litellm, genaicompare.providers.collect\n"
        "import genaicompare.providers.local\n"
        "print(json.dumps([m for m in ('litellm', 'llama_cpp', 'openai') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_litellm_import_prints_nothing_on_stdout() -> None:
    code = (
        "from genaicompare.providers.backends.litellm import import_litellm\n"
        "import logging\n"
        "m = import_litellm()\n"
        "logging.getLogger('LiteLLM').info('should not appear')\n"
        "logging.getLogger('LiteLLM').debug('should not appear')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == ""


def test_collector_maths() -> None:
    collector = ResponseCollector(req(price_in_per_mtok=1.0, price_out_per_mtok=1.0), prompt_id="p")
    collector.start()
    t0 = collector._started
    assert t0 is not None
    collector.feed(TextDelta("a", t0 + 0.100))
    collector.feed(TextDelta("b", t0 + 0.200))
    collector.feed(TextDelta("c", t0 + 0.300))
    collector.feed(Usage(5, 3))
    collector.feed(Finished(FinishState.complete, finish_reason="stop", reported_model="x-1"))
    record = collector.record
    assert record.text == "abc" and record.ok
    assert record.ttft_ms == pytest.approx(100, abs=0.01)
    assert record.tokens_per_s == pytest.approx(2 / 0.2)
    assert (record.tokens_in, record.tokens_out, record.tokens_estimated) == (5, 3, False)
    assert record.cost_usd == pytest.approx(8 / 1e6)
    assert record.reported_model == "x-1"


def test_collector_estimated_usage_is_flagged() -> None:
    collector = ResponseCollector(req())
    collector.start()
    collector.feed(TextDelta("hello world", time.perf_counter()))
    collector.feed(Usage(3, 2, estimated=True))
    collector.feed(Finished(FinishState.complete, finish_reason="stop"))
    assert collector.record.tokens_estimated is True
    assert collector.record.tokens_per_s is None  # one chunk: nothing to time


def test_collector_cancel_keeps_partial_text() -> None:
    collector = ResponseCollector(req())
    collector.start()
    collector.feed(TextDelta("partial", time.perf_counter()))
    final = collector.cancel()
    assert final.state is FinishState.cancelled
    assert collector.record.state is FinishState.cancelled
    assert collector.record.text == "partial"
    assert collector.record.tokens_estimated


def test_local_model_names() -> None:
    with pytest.raises(local.LocalModelError, match="unknown local model"):
        local.resolve("local/gpt-9")
    with pytest.raises(local.LocalModelError, match="not found"):
        local.resolve("local/does/not/exist.gguf")


def test_local_model_child_env_has_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak-123456")
    monkeypatch.setenv("PORT", "1")
    monkeypatch.setenv("API_KEY", "x")
    env = local._child_env(1)
    assert "OPENAI_API_KEY" not in env and "PORT" not in env and "API_KEY" not in env
    assert env["OMP_NUM_THREADS"] == "1"


def test_local_server_command_disables_interrupts_and_uses_one_thread(tmp_path) -> None:
    server = local._Server("smollm2", tmp_path / "m.gguf", 0, threads=1, port=1234)
    cmd = server.command()
    assert cmd[cmd.index("--interrupt_requests") + 1] == "False"
    assert cmd[cmd.index("--n_threads") + 1] == "1"
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"


def test_local_pool_routes_to_the_least_busy_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import asyncio

    pool = local.LocalPool(size=2, threads=1)
    servers = [local._Server("smollm2", tmp_path / "m.gguf", i, 1, port=1000 + i) for i in range(2)]
    monkeypatch.setattr(pool, "_start_blocking", lambda model: servers)

    async def scenario() -> list[int]:
        a = await pool.acquire("local/smollm2")
        b = await pool.acquire("local/smollm2")  # the other, idle server
        c = await pool.acquire("local/smollm2", wait=False)  # both busy: shares the first
        waiting = asyncio.create_task(pool.acquire("local/smollm2"))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # waits for an idle server rather than queueing in one
        b.release()
        e = await asyncio.wait_for(waiting, 2)  # the server b freed
        a.release()
        a.release()  # releasing twice is harmless
        ports = [lease.server.port for lease in (a, b, c, e)]
        c.release()
        e.release()
        return ports

    ports = asyncio.run(scenario())
    assert ports == [1000, 1001, 1000, 1001]
    assert [s.busy for s in servers] == [0, 0]
    assert servers[0].api_base == "http://127.0.0.1:1000/v1"


def test_local_model_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setattr(local, "missing_packages", lambda: ["llama-cpp-python"])
    pool = local.LocalPool(size=1)
    with pytest.raises(local.LocalModelError, match=r"pip install 'genaicompare\[local\]'"):
        asyncio.run(pool.ensure_started())


def test_background_import_of_litellm() -> None:
    code = (
        "import sys\n"
        "from genaicompare.providers.backends import litellm as stream\n"
        "t = stream.import_litellm_in_background()\n"
        "t.join(120)\n"
        "print(stream._litellm is not None and 'litellm' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_an_unexpected_failure_still_ends_in_one_error_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    from genaicompare.providers.backends import litellm as stream_module

    def broken() -> None:
        raise ImportError("litellm is broken: sk-brokeninstall0123456789")

    monkeypatch.setattr(stream_module, "_litellm", None)
    monkeypatch.setattr(stream_module, "import_litellm", broken)

    async def events() -> list[object]:
        return [e async for e in stream_module.stream(req())]

    got = asyncio.run(events())
    assert len(got) == 1 and isinstance(got[0], Finished)
    assert got[0].state is FinishState.error and got[0].error_type == "ImportError"
    assert "sk-brokeninstall" not in got[0].error


def test_unknown_provider_is_an_error_state_not_an_exception() -> None:
    import asyncio

    from genaicompare.providers.backends.litellm import stream

    warm_up()

    async def events() -> list[object]:
        return [e async for e in stream(req("no-provider-model-xyz"))]

    got = asyncio.run(events())
    assert got[-1].state is FinishState.error and got[-1].retries == 0


def test_clock_starts_when_the_request_is_sent() -> None:
    from genaicompare.providers import Started

    collector = ResponseCollector(req())
    collector.start()  # e.g. then 5 s importing litellm or waiting for a free local server
    sent = time.perf_counter() + 5.0
    collector.feed(Started(sent))
    collector.feed(Started(sent + 1.0))  # a retry does not restart the clock
    collector.feed(TextDelta("a", sent + 0.25))
    collector.feed(Finished(FinishState.complete, finish_reason="stop"))
    assert collector.record.ttft_ms == pytest.approx(250, abs=0.01)


def test_the_providers_pick_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    # Callers never choose: the lean client where it is exactly equivalent, litellm otherwise.
    from genaicompare.providers import ModelRequest, backend_for
    from genaicompare.providers.backends import anthropic, gemini, litellm, openai_compat

    monkeypatch.setenv("GC_PICK_KEY", "sk-test")
    lean = ModelRequest(
        "m", "openai/x", [], api_base="http://127.0.0.1:9", api_key_env="GC_PICK_KEY"
    )
    assert backend_for(lean) is openai_compat.stream
    assert backend_for(ModelRequest("m", "anthropic/claude", [])) is anthropic.stream
    assert backend_for(ModelRequest("m", "gemini/gemini-2.5-flash", [])) is gemini.stream
    assert backend_for(ModelRequest("m", "mistral/mistral-small", [])) is litellm.stream
    monkeypatch.setenv("GENAICOMPARE_FAST_PATH", "0")
    assert backend_for(lean) is litellm.stream


def test_the_local_model_loads_into_plain_cpu_buffers() -> None:
    """The launcher turns off ggml's extra buffer types (AMX, repacking) before the model loads:
    with them an AMX build dies at its first ``ldtilecfg`` in a VM that advertises AMX without
    enabling it. In a fresh interpreter, so the patch stays out of this one."""
    import subprocess

    pytest.importorskip("llama_cpp")
    code = (
        "import llama_cpp.llama_cpp as low\n"
        "from genaicompare.providers import _llama_server as s\n"
        "assert low.llama_model_default_params().use_extra_bufts is True\n"
        "s._without_extra_buffers(); s._without_extra_buffers()\n"
        "import llama_cpp\n"
        "assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is False\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
