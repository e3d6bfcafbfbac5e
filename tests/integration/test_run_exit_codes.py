"""Every exit code of ``genaicompare run``, from a real subprocess against the fake server."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import responses, run_cli, write_catalog

PROMPTS = [
    {"id": "capital", "prompt": "The capital of France is Paris", "assert": {"contains": "Paris"}},
    {"id": "greet", "prompt": "hello there world", "assert": {"contains": "hello"}},
]


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as s:
        yield s


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_exit_0_when_every_assertion_passes(tmp_path: Path, server: FakeOpenAI) -> None:
    cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"echo": "fake/echo"}, PROMPTS)
    db = tmp_path / "r.db"
    proc = run_cli(["run", str(cat), "--db", str(db), "--json"], tmp_path / "home")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["regression"]["verdict"] == "pass"
    assert doc["regression"]["models"]["echo"]["assert_pass_rate"] == 1.0
    assert {r["state"] for r in responses(db)} == {"complete"}


def test_exit_1_on_an_assertion_failure(tmp_path: Path, server: FakeOpenAI) -> None:
    # "tokens" answers "t0 t1 …": neither Paris nor hello.
    cat = write_catalog(
        tmp_path / "c.yaml",
        server.base_url,
        {"echo": "fake/echo", "tok": "fake/tokens?n=4"},
        PROMPTS,
    )
    proc = run_cli(["run", str(cat), "--db", str(tmp_path / "r.db")], tmp_path / "home")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL capital × tok: contains Paris" in proc.stdout
    # #12 §10: no baseline, nothing compared: an assertion failure, not a "regression".
    assert "verdict: assertions failed (exit 1)" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_pass_rate_rule_triggered_and_not(tmp_path: Path, server: FakeOpenAI) -> None:
    prompts = [*PROMPTS, {"id": "t", "prompt": "say t0", "assert": {"contains": "t0"}}]
    cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"tok": "fake/tokens?n=4"}, prompts)
    db = str(tmp_path / "r.db")
    # 1 of 3 pass: 0.33 < 0.9 → regression; < 0.3 does not hold → pass.
    hit = run_cli(
        ["run", str(cat), "--db", db, "--fail-on", "assert_pass_rate < 0.9"], tmp_path / "h"
    )
    miss = run_cli(
        ["run", str(cat), "--db", db, "--fail-on", "assert_pass_rate < 30%"], tmp_path / "h"
    )
    assert hit.returncode == 1, hit.stdout + hit.stderr
    assert miss.returncode == 0, miss.stdout + miss.stderr
    assert "assert_pass_rate < 30%: 0.333 → ok" in miss.stdout


def test_exit_2_when_the_provider_is_unreachable(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    cat = write_catalog(tmp_path / "c.yaml", dead, {"gone": "fake/echo"}, PROMPTS)
    db = tmp_path / "r.db"
    # Even with every error tolerated, a model that never answered cannot pass or "regress".
    proc = run_cli(
        [
            "run",
            str(cat),
            "--db",
            str(db),
            "--retries",
            "0",
            "--timeout-connect",
            "2",
            "--max-errors",
            "100",
        ],
        tmp_path / "home",
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no answer at all from gone" in proc.stdout
    assert {r["state"] for r in responses(db)} == {"error"}


def test_exit_2_on_provider_errors_beyond_max_errors(tmp_path: Path, server: FakeOpenAI) -> None:
    cat = write_catalog(
        tmp_path / "c.yaml", server.base_url, {"echo": "fake/echo", "flaky": "fault/500"}, PROMPTS
    )
    proc = run_cli(
        ["run", str(cat), "--db", str(tmp_path / "r.db"), "--retries", "0"], tmp_path / "home"
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "ERROR capital × flaky: error" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "assert_pass_rate << 0.9"], "expected NAME OP NUMBER"),
        (["--fail-on", "vibes < 3"], "unknown name 'vibes'"),
        (["--baseline", "nosuchmodel"], "neither a stored run id nor a model alias"),
        (["--baseline", "999"], "no run 999"),
        (["--resume", "999"], "--resume 999: no such run"),
        (["-j", "0"], "argument -j/--jobs: must be 1 or more, got '0'"),
        (["--repeat", "0"], "argument --repeat: must be 1 or more"),
        (["--max-errors", "-1"], "argument --max-errors: must be 0 or more"),
        (["--timeout-first-token", "-1"], "argument --timeout-first-token: must be a number"),
        (["--timeout-chunk", "nan"], "argument --timeout-chunk: must be a number of seconds"),
        (["--timeout-connect", "inf"], "argument --timeout-connect: must be a number"),
    ],
)
def test_exit_2_on_configuration_errors(
    tmp_path: Path, server: FakeOpenAI, args: list[str], message: str
) -> None:
    cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"cfg": "fake/echo?cfg=1"}, PROMPTS)
    proc = run_cli(["run", str(cat), "--db", str(tmp_path / "r.db"), *args], tmp_path / "home")
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    # Refused before any model was called.
    assert server.requests["fake/echo?cfg=1"] == 0


def test_exit_2_on_a_missing_or_broken_catalog(tmp_path: Path) -> None:
    missing = run_cli(["run", str(tmp_path / "nope.yaml")], tmp_path / "home")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nprompts: [\n", encoding="utf-8")
    broken = run_cli(["run", str(bad)], tmp_path / "home")
    assert broken.returncode == 2
    assert str(bad) in broken.stderr and "Traceback" not in broken.stderr
