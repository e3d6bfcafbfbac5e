"""Issue 18 §1: a key is sent only to the host it belongs to, or where the catalog names it.

A real server on 127.0.0.1 records the ``Authorization`` header of every request; the same
requests go through the lean OpenAI-compatible client and through litellm, and both must send
the same header: ``OPENAI_API_KEY`` never reaches a third-party (here: plain-http) server unless
the catalog names it with ``api_key_env``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from genaicompare.providers import ModelRequest, collect
from genaicompare.providers.backends import litellm, openai_compat
from genaicompare.providers.events import Timeouts
from tests.support.fake_openai import FakeOpenAI

USER_OPENAI_KEY = "sk-users-own-openai-key-5c0ffee5c0ffee"
CATALOG_KEY = "zq-the-key-the-catalog-names-0042"
NO_KEY = "no-key"  # litellm's placeholder for a server that needs no key
MESSAGES = [{"role": "user", "content": "hello"}]
BACKENDS = {"fast-path": openai_compat.stream, "litellm": litellm.stream}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_OPENAI_KEY)
    monkeypatch.setenv("GC_CATALOG_NAMED_KEY", CATALOG_KEY)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _authorization(server: FakeOpenAI, request: ModelRequest, backend: str) -> str:
    server.reset()
    record = asyncio.run(
        collect(request, Timeouts(first_token=20, total=60), source=BACKENDS[backend])
    )
    assert record.state.value == "complete", (record.error_type, record.error)
    assert len(server.seen_headers) == 1
    return server.seen_headers[0]["headers"].get("authorization", "")


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_an_api_base_without_api_key_env_never_gets_the_users_openai_key(
    server: FakeOpenAI, backend: str
) -> None:
    request = ModelRequest("third", "openai/fake/echo", MESSAGES, api_base=server.base_url)
    assert openai_compat.supports(request)  # the default path takes it (no key needed)
    sent = _authorization(server, request, backend)
    assert USER_OPENAI_KEY not in sent
    assert sent == f"Bearer {NO_KEY}"  # the same header on both paths


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_the_key_the_catalog_names_goes_to_its_api_base(server: FakeOpenAI, backend: str) -> None:
    request = ModelRequest(
        "named",
        "openai/fake/echo",
        MESSAGES,
        api_base=server.base_url,
        api_key_env="GC_CATALOG_NAMED_KEY",
    )
    assert _authorization(server, request, backend) == f"Bearer {CATALOG_KEY}"


def test_the_providers_own_key_only_for_its_own_host_over_https(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from genaicompare.providers.events import api_key_for

    def key(base: str | None, model: str = "openai/gpt-4o-mini") -> str | None:
        return api_key_for(ModelRequest("m", model, [], api_base=base))

    assert key("https://api.openai.com/v1") == USER_OPENAI_KEY
    assert key("http://api.openai.com/v1") is None  # never over plain http
    assert key("https://api.openai.com.evil.example/v1") is None
    assert key("https://proxy.example.com/v1") is None
    assert key("http://127.0.0.1:8000/v1") is None
    assert key("https://api.openai.com/v1", "anthropic/claude") is None  # not that key's host
    assert key(None) is None  # no api_base: litellm's own default (the provider's own host)
