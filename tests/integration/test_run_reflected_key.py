"""Issue 18 §2: a proxy that streams the Authorization header back as content.

The key must not reach any artifact or screen: the stored answer (the SQLite file and its WAL),
JUnit ``<system-out>``, the Markdown summary, ``run --json``, stdout/stderr, and the TUI pane
(a pty, read by pyte and byte by byte). The answer is stored redacted and marked. Both request
paths (the lean client and litellm).
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli
from tests.support.terminal import genaicompare

# A name that does not look like a secret and a value no key pattern matches: only the rule
# "the catalog's api_key_env values are secrets" catches it.
KEY_NAME = "GC_GATEWAY_ODDNAME"
REFLECTED = "zq-REFLECTED-9f8e7d6c5b4a3921"


def _catalog(tmp_path: Path, server: FakeOpenAI) -> Path:
    path = tmp_path / "reflect.yaml"
    path.write_text(
        f"""name: reflect
version: "1"
models:
  - id: proxy
    model: openai/fake/echo_auth?chunk=4
    api_base: {server.base_url}
    api_key_env: {KEY_NAME}
prompts:
  - id: p1
    prompt: hello
""",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("fast_path", ["1", "0"], ids=["fast-path", "litellm"])
def test_a_reflected_key_reaches_no_artifact(tmp_path: Path, fast_path: str) -> None:
    db, junit, md = tmp_path / "r.db", tmp_path / "j.xml", tmp_path / "s.md"
    env = {KEY_NAME: REFLECTED, "GENAICOMPARE_FAST_PATH": fast_path}
    with FakeOpenAI() as server:
        cat = _catalog(tmp_path, server)
        proc = run_cli(
            ["run", str(cat), "--db", str(db), "--junit", str(junit), "--markdown", str(md)],
            tmp_path / "home",
            **env,
        )
        as_json = run_cli(
            ["run", str(cat), "--db", str(db), "--json", "--no-cache"], tmp_path / "home", **env
        )
        # The key did go to the server (the catalog names it), and came back in the answer.
        assert server.seen_headers[0]["headers"]["authorization"] == f"Bearer {REFLECTED}"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert as_json.returncode == 0, as_json.stderr
    files = [db, *db.parent.glob(db.name + "-*"), junit, md]
    files += [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    for name, data in [
        ("stdout", proc.stdout.encode()),
        ("stderr", proc.stderr.encode()),
        ("json stdout", as_json.stdout.encode()),
        *((str(p), p.read_bytes()) for p in files),
    ]:
        assert REFLECTED.encode() not in data, f"the key is in {name}"
    # Stored redacted, and marked.
    conn = sqlite3.connect(db)
    texts = [t for (t,) in conn.execute("SELECT text FROM responses")]
    conn.close()
    assert texts and all(t == "you sent: Bearer [REDACTED]" for t in texts), texts
    doc = json.loads(as_json.stdout)
    assert [r["redacted"] for r in doc["responses"]] == [True]
    assert doc["responses"][0]["text"] == "you sent: Bearer [REDACTED]"
    out = ET.parse(junit).getroot().findtext(".//system-out") or ""
    assert "a known secret value was removed" in out and "[REDACTED]" in out
    assert "1 answer(s) contained a known secret value" in proc.stdout


@pytest.mark.slow
def test_the_tui_pane_never_shows_a_reflected_key(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_NAME, REFLECTED)
    db = tmp_path / "tui.db"
    with FakeOpenAI() as server:
        cat = _catalog(tmp_path, server)
        with genaicompare([str(cat), "--db", str(db)], 120, 30, isolated_home) as term:
            term.wait_text("[REDACTED]", 60)
            term.wait(
                lambda lines: any("you sent: Bearer [REDACTED]" in line for line in lines),
                30,
                "the stored answer",
            )
            assert REFLECTED not in term.text()
            term.send("q")
            term.close()
        # Every byte the app ever wrote to the terminal, not just the final screen.
        assert REFLECTED.encode() not in bytes(term.raw)
        assert REFLECTED[:12].encode() not in bytes(term.raw)  # not even a streamed prefix
