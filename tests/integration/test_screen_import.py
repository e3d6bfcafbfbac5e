"""``genaicompare promptfooconfig.yaml``: another tool's config opens as a catalog, on the screen
of the real CLI in a pty (pyte), at 80×24 and 120×40."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import genaicompare

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_a_promptfoo_config_opens_in_the_tui(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    with FakeOpenAI() as server:
        config = tmp_path / "promptfooconfig.yaml"
        config.write_text(
            "description: Greeter\n"
            "prompts: ['Say hello to {{name}}']\n"
            "providers:\n"
            f"  - id: 'openai:fake/echo'\n    label: one\n    config: {{apiBaseUrl: '{server.base_url}'}}\n"
            f"  - id: 'openai:fake/echo'\n    label: two\n    config: {{apiBaseUrl: '{server.base_url}'}}\n"
            "tests:\n  - description: greet-ann\n    vars: {name: Ann}\n"
            "    assert:\n      - type: javascript\n        value: 'true'\n",
            encoding="utf-8",
        )
        with genaicompare(
            [str(config), "--db", str(tmp_path / "g.db")], cols, rows, isolated_home
        ) as term:
            term.wait_text("greet-ann", 60)
            term.wait_text("Say hello to Ann", 30)
            term.send("q")
