"""`genaicompare run` in a terminal says what it waits for before the first answer (#12 §9).

It showed a bare `0/20 eta -:--:--` for seconds while the local model started. Read off the
screen of the real CLI in a pty (pyte), with a fake model whose first token takes 3 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare

pytestmark = pytest.mark.slow


def test_progress_says_what_it_waits_for(tmp_path: Path, isolated_home: Path) -> None:
    with FakeOpenAI() as server:
        catalog = tmp_path / "slow.yaml"
        catalog.write_text(
            "name: slow\nmodels:\n"
            f"  - id: s\n    model: openai/fake/tokens?n=3&ttft=3\n    api_base: {server.base_url}\n"
            "prompts:\n  - id: a\n    prompt: one\n  - id: b\n    prompt: two\n",
            encoding="utf-8",
        )
        args = ["run", str(catalog), "--db", str(tmp_path / "p.db"), "--no-metrics"]
        with genaicompare(args, 100, 24, isolated_home) as term:
            term.wait_text("waiting for the first answers…", 20)
            assert "running" not in term.text()
            term.wait_text("running", 20)
            term.close(30)
