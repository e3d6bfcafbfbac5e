"""The real SmolLM2 through llama-cpp-python's server and the same litellm path as remote models.

Short generations (max_tokens ≤ 16) keep this in the normal suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from genaicompare.providers import FinishState, ModelRequest, TextDelta, Timeouts, local
from genaicompare.providers.backends.litellm import stream, warm_up
from genaicompare.providers.collect import collect

pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(
        bool(local.missing_packages()),
        reason=f"local model extra not installed ({local.INSTALL_HINT})",
    ),
]

TIMEOUTS = Timeouts(connect=10, first_token=120, between_chunks=60, total=300)
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture(scope="module")
def servers() -> Iterator[local.LocalPool]:
    warm_up()
    pool = local.configure(servers=2, threads=1)
    try:
        yield pool
    finally:
        local.shutdown()


def smollm(**params: object) -> ModelRequest:
    return ModelRequest(
        alias="smol", model="local/smollm2", messages=QUESTION, params={"max_tokens": 12, **params}
    )


async def test_real_generation_streams_through_the_litellm_path(servers: local.LocalPool) -> None:
    deltas: list[TextDelta] = []
    record = await collect(
        smollm(temperature=0, seed=1),
        TIMEOUTS,
        lambda e: deltas.append(e) if isinstance(e, TextDelta) else None,
    )
    assert record.state in (FinishState.length, FinishState.complete), record.error
    assert record.text.strip()
    assert len(deltas) > 1  # token by token, not one blob
    # Usage comes from the server (our launcher counts what llama.cpp consumed and produced).
    assert not record.tokens_estimated
    assert record.tokens_in and record.tokens_in > 10  # chat template + the question
    if record.state is FinishState.length:
        assert record.tokens_out == 12
        assert len(deltas) <= 12
    assert record.cost_usd == 0.0
    assert record.ttft_ms is not None and record.latency_ms >= record.ttft_ms
    assert record.reported_model == "smollm2"
    assert local.status() == "ready"


async def test_max_tokens_is_honoured(servers: local.LocalPool) -> None:
    record = await collect(smollm(max_tokens=3, temperature=0), TIMEOUTS)
    assert record.state is FinishState.length
    assert record.tokens_out is not None and record.tokens_out <= 3


async def test_seed_is_deterministic_at_temperature_zero_and_sampling_follows_seed(
    servers: local.LocalPool,
) -> None:
    a = await collect(smollm(temperature=0, seed=7), TIMEOUTS)
    b = await collect(smollm(temperature=0, seed=7), TIMEOUTS)
    assert a.text == b.text and a.text
    hot = [
        await collect(smollm(temperature=1.5, seed=s, max_tokens=16), TIMEOUTS)
        for s in (11, 11, 12)
    ]
    assert hot[0].text == hot[1].text  # same seed, same sample
    assert hot[0].text != hot[2].text  # another seed, another sample


async def test_two_streams_run_in_parallel_on_two_servers(servers: local.LocalPool) -> None:
    # With interrupt_requests on, the second request would cut the first one short (no finish).
    first, second = await asyncio.gather(
        collect(smollm(temperature=0, max_tokens=10), TIMEOUTS),
        collect(smollm(temperature=0, max_tokens=10), TIMEOUTS),
    )
    assert first.state is FinishState.length and second.state is FinishState.length
    assert first.text == second.text


async def test_more_streams_than_servers_all_finish(servers: local.LocalPool) -> None:
    records = await asyncio.gather(
        *(collect(smollm(max_tokens=4, temperature=0), TIMEOUTS) for _ in range(3))
    )
    assert [r.state for r in records] == [FinishState.length] * 3


async def test_local_events_are_the_same_types(servers: local.LocalPool) -> None:
    events = [e async for e in stream(smollm(max_tokens=4, temperature=0), TIMEOUTS)]
    assert events[-1].state is FinishState.length
    assert {type(e).__name__ for e in events} <= {"Started", "TextDelta", "Usage", "Finished"}


@pytest.mark.parametrize("which", ["forked", "loader"])
async def test_a_crashed_server_is_restarted_alone(servers: local.LocalPool, which: str) -> None:
    """Either server may crash: the one that loaded the model and forked the other, or the
    forked one (each has its own lifeline and session)."""
    import os
    import signal

    await local.ensure_started()
    group = next(iter(local.pool()._servers.values()))
    loader, forked = group
    victim, survivor = (forked, loader) if which == "forked" else (loader, forked)
    survivor_pid = survivor.pid
    assert victim.pid is not None
    os.killpg(victim.pid, signal.SIGKILL)
    assert victim.proc is not None
    with contextlib.suppress(subprocess.TimeoutExpired):
        victim.proc.wait(10)
    assert not victim.alive and survivor.alive
    records = await asyncio.gather(
        *(collect(smollm(max_tokens=4, temperature=0), TIMEOUTS) for _ in range(2))
    )
    assert [r.state for r in records] == [FinishState.length] * 2
    assert victim.alive and survivor.pid == survivor_pid  # the healthy one kept running


def test_the_pool_loads_the_model_once(servers: local.LocalPool) -> None:
    """Two servers, one start-up: the second is forked from the first after the weights have
    loaded (its own process, port and session), and both answer."""
    local.shutdown()
    asyncio.run(local.ensure_started())
    group = next(iter(local.pool()._servers.values()))
    loader, forked = group
    assert isinstance(loader.proc, subprocess.Popen)
    assert isinstance(forked.proc, local._Forked)
    assert loader.port != forked.port and loader.alive and forked.alive
    assert os.getsid(forked.pid) == forked.pid  # its own session: a terminal's signals skip it
    stat = Path(f"/proc/{forked.pid}/stat").read_text()
    assert int(stat.rsplit(")", 1)[1].split()[1]) == loader.pid  # forked by the loader
    nice = os.getpriority(os.PRIO_PROCESS, forked.pid)
    assert nice == os.getpriority(os.PRIO_PROCESS, os.getpid())  # generates at normal priority


def test_server_processes_stop(servers: local.LocalPool) -> None:
    asyncio.run(local.ensure_started())
    group = [s for g in local.pool()._servers.values() for s in g]
    procs = [s.proc for s in group]
    assert procs and all(p is not None and p.poll() is None for p in procs)
    local.shutdown()
    assert all(p is not None and p.poll() is not None for p in procs)


async def test_unknown_local_model_is_an_error_state() -> None:
    record = await collect(ModelRequest("x", "local/nope", QUESTION), TIMEOUTS)
    assert record.state is FinishState.error
    assert "unknown local model" in record.error


async def test_a_server_killed_mid_answer_is_named_with_its_reason(
    servers: local.LocalPool,
) -> None:
    """The client of a server that dies mid-answer only sees a dropped connection; the answer's
    reason names the local server, how it ended and its log, and the pool recovers."""
    import signal

    await local.ensure_started()
    request = smollm(max_tokens=400, temperature=0.8)
    events = []
    async with contextlib.aclosing(local.stream(request, TIMEOUTS)) as stream_events:
        async for event in stream_events:
            events.append(event)
            if isinstance(event, TextDelta) and len(events) == 3:
                (busy,) = [s for g in local.pool()._servers.values() for s in g if s.busy]
                assert busy.pid is not None
                os.killpg(busy.pid, signal.SIGKILL)
    final = events[-1]
    assert final.state is FinishState.error
    assert final.error_type == "LocalServerStopped"
    assert final.error.startswith("the local model server (pid ")
    assert "stopped while answering:" in final.error and "(log: " in final.error
    record = await collect(smollm(max_tokens=4, temperature=0), TIMEOUTS)
    assert record.state is FinishState.length  # restarted for the next answer


async def test_a_prompt_longer_than_the_context_is_named_and_the_server_goes_on(
    servers: local.LocalPool,
) -> None:
    """llama_cpp.server's own app started the stream and broke it off ("connection closed
    mid-stream"); ours answers HTTP 400 with the OpenAI context-length error."""
    long = [{"role": "user", "content": "word " * 5000}]
    record = await collect(ModelRequest("smol", "local/smollm2", long, {"max_tokens": 8}), TIMEOUTS)
    assert record.state is FinishState.error
    assert record.error_type == "ContextWindowExceededError"
    assert "maximum context length is 4096 tokens" in record.error
    assert "requested 50" in record.error  # the prompt's tokens + max_tokens
    assert (await collect(smollm(max_tokens=4, temperature=0), TIMEOUTS)).state is (
        FinishState.length
    )


async def test_a_bad_parameter_is_the_servers_readable_reason(servers: local.LocalPool) -> None:
    """Requests are validated by llama_cpp.server's own request model (top_k is a parameter
    only litellm maps, so this one goes through litellm: its reason is the server's)."""
    record = await collect(smollm(top_k="many"), TIMEOUTS)
    assert record.state is FinishState.error
    assert record.error_type == "BadRequestError"
    assert "top_k: Input should be a valid integer" in record.error


def test_a_client_that_leaves_frees_the_server_at_once(servers: local.LocalPool) -> None:
    """A stream cut by its client (a cancelled answer) stops generating: the next request on
    that server is answered without waiting for the abandoned one's 3,000 tokens (min_tokens
    keeps it from ending early; at ≈30–60 tokens/s it would hold the server for a minute)."""
    import httpx

    asyncio.run(local.ensure_started())
    server = next(iter(local.pool()._servers.values()))[0]
    url = f"{server.api_base}/chat/completions"
    body = {"messages": QUESTION, "stream": True, "max_tokens": 3000, "min_tokens": 3000}
    with httpx.Client(timeout=60) as client:
        with client.stream("POST", url, json=body) as response:
            assert response.status_code == 200
            lines = response.iter_lines()
            data = [line for line in (next(lines) for _ in range(12)) if line.startswith("data")]
            assert len(data) >= 4
        # The connection is closed: the server notices at its next chunk and frees the model.
        reply = client.post(
            url, json={"messages": QUESTION, "max_tokens": 2, "temperature": 0}, timeout=25
        ).json()
    assert reply["choices"][0]["finish_reason"] == "length"
    assert reply["usage"]["completion_tokens"] == 2
