"""A real LiteLLM Proxy process on 127.0.0.1 in front of the fake server, with a catalog run through it.

Team set-up (docs/regression.md): models point at the gateway with ``api_base`` and a gateway key.
Checked here: answers come back through the proxy (on the lean client and on the litellm path);
a 429 the proxy passes on from upstream is retried before the first token and the run passes; the
proxy's own rate limit (``rpm``) ends those answers in ``error`` / ``RateLimitError`` and the run
exits 2 (infrastructure), never 0 or 1.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli

pytestmark = pytest.mark.slow

MASTER_KEY = "sk-proxy-test-master-0123456789"
UPSTREAM_KEY = "sk-upstream-test-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def proxy(upstream: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("CI"):  # CI installs the test-proxy extra: a missing dependency is a failure
        import litellm.proxy.proxy_server  # noqa: F401
    else:
        pytest.importorskip("litellm.proxy.proxy_server", reason="pip install -e '.[test-proxy]'")
    folder = tmp_path_factory.mktemp("proxy")
    config = folder / "config.yaml"
    entries = {
        "gw-echo": {"model": "openai/fake/echo"},
        "gw-429": {"model": "openai/fault/429?fails=1&retry_after=1"},
        "gw-rpm": {"model": "openai/fake/echo?rpm=1", "rpm": 1},
    }
    config.write_text(
        json.dumps(
            {
                "model_list": [
                    {
                        "model_name": name,
                        "litellm_params": {
                            **params,
                            "api_base": upstream.base_url,
                            "api_key": "os.environ/UPSTREAM_KEY",
                        },
                    }
                    for name, params in entries.items()
                ],
                # The proxy passes upstream errors on instead of retrying them itself, and
                # enforces each deployment's rpm.
                "router_settings": {"routing_strategy": "usage-based-routing-v2", "num_retries": 0},
                "litellm_settings": {"num_retries": 0, "telemetry": False},
                "general_settings": {"master_key": MASTER_KEY},
            }
        ),
        encoding="utf-8",
    )
    port = _free_port()
    env = {
        **os.environ,
        "UPSTREAM_KEY": UPSTREAM_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    log = (folder / "proxy.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "litellm.proxy.proxy_cli",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # the proxy imports a lot; slow on a busy 2-core box
        while True:
            if proc.poll() is not None:
                raise AssertionError("proxy exited:\n" + (folder / "proxy.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{base}/health/liveliness", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("proxy did not start within 240 s") from None
                time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _catalog(path: Path, api_base: str, models: list[str], prompts: int = 3) -> Path:
    doc = {
        "name": "through-the-gateway",
        "models": [
            {"id": m, "model": f"openai/{m}", "api_base": api_base, "api_key_env": "GW_KEY"}
            for m in models
        ],
        "prompts": [{"id": f"p{i}", "prompt": f"gateway question {i}"} for i in range(prompts)],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize("fast_path", ["1", "0"])
def test_catalog_through_the_proxy(
    proxy: str, upstream: FakeOpenAI, tmp_path: Path, fast_path: str
) -> None:
    upstream.reset()
    cat = _catalog(tmp_path / "c.yaml", proxy, ["gw-echo", "gw-429"])
    db = tmp_path / "r.db"
    proc = run_cli(
        ["run", str(cat), "--db", str(db), "--json", "--no-cache", "-j", "2", "--retries", "2"],
        tmp_path / "home",
        GW_KEY=MASTER_KEY,
        GENAICOMPARE_FAST_PATH=fast_path,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    texts = {(r["prompt_id"], r["model_alias"]): r["text"] for r in doc["responses"]}
    for i in range(3):
        assert texts[(f"p{i}", "gw-echo")] == f"gateway question {i}"
        assert texts[(f"p{i}", "gw-429")] == " ".join(f"t{n}" for n in range(20))
    assert all(r["state"] == "complete" for r in doc["responses"])
    # The upstream 429 reached us through the proxy once and was retried before the first token.
    assert upstream.requests["fault/429?fails=1&retry_after=1"] == 4  # 3 answers + 1 refused
    conn = sqlite3.connect(db)
    retried = conn.execute("SELECT sum(retries) FROM responses WHERE model_alias='gw-429'")
    assert retried.fetchone()[0] == 1
    # The gateway key never reaches the database.
    dump = "\n".join(conn.iterdump())
    conn.close()
    assert MASTER_KEY not in dump and UPSTREAM_KEY not in dump


def test_proxy_rate_limit_is_an_infrastructure_error(proxy: str, tmp_path: Path) -> None:
    cat = _catalog(tmp_path / "c.yaml", proxy, ["gw-rpm"], prompts=3)
    db = tmp_path / "r.db"
    # rpm 1 at the gateway: the first answer passes, the others get the proxy's own 429
    # (Retry-After 60 s; with --retries 0 nothing waits).
    proc = run_cli(
        ["run", str(cat), "--db", str(db), "-j", "1", "--no-cache", "--retries", "0"],
        tmp_path / "home",
        GW_KEY=MASTER_KEY,
        timeout=240,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT state, error_type, error FROM responses ORDER BY id").fetchall()
    conn.close()
    states = [r[0] for r in rows]
    assert states.count("complete") >= 1
    limited = [r for r in rows if r[0] == "error"]
    assert limited and all(r[1] == "RateLimitError" for r in limited)
    assert all(MASTER_KEY not in (r[2] or "") for r in rows)
    assert "Traceback" not in proc.stderr
