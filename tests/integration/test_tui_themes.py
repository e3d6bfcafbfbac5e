"""Issue 18 §10: a broken user theme is reported in the UI (not a crash), and ``--theme nope`` is
refused with the theme names (exit 2) instead of being saved and warned about at every start."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog
from tests.support.terminal import genaicompare

BROKEN = """name = "mine"
primary = "#123456"

[variables]
"footer-key-foreground" = "notacolour"
"""


def test_an_unknown_theme_is_refused_and_not_saved(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FakeOpenAI() as server:
        cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"m": "fake/echo"}, [])
    proc = run_cli([str(cat), "--theme", "nope"], home, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "--theme nope: no such theme" in proc.stderr
    assert "genaicompare-dark" in proc.stderr and "genaicompare-light" in proc.stderr
    assert "Traceback" not in proc.stderr
    config = home / "config" / "config.toml"
    assert not config.exists() or "nope" not in config.read_text(encoding="utf-8")


def test_a_theme_with_a_bad_variable_is_refused_with_its_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "config" / "themes").mkdir(parents=True)
    (home / "config" / "themes" / "mine.toml").write_text(BROKEN, encoding="utf-8")
    proc = run_cli(["x.yaml", "--theme", "mine"], home, timeout=60)
    assert proc.returncode == 2
    assert "mine.toml: variables" in proc.stderr and "notacolour" in proc.stderr


@pytest.mark.slow
def test_a_broken_user_theme_is_reported_in_the_ui(tmp_path: Path, isolated_home: Path) -> None:
    (isolated_home / "config" / "themes").mkdir(parents=True)
    (isolated_home / "config" / "themes" / "mine.toml").write_text(BROKEN, encoding="utf-8")
    (isolated_home / "config" / "config.toml").write_text('theme = "mine"\n', encoding="utf-8")
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml", server.base_url, {"m": "fake/echo"}, [{"id": "p", "prompt": "x"}]
        )
        with genaicompare([str(cat), "--db", str(tmp_path / "t.db")], 160, 40, isolated_home) as t:
            t.wait_text("'notacolour'", 60)  # the toast names the variable and the value
            screen = t.text()
            assert "footer-key-foreground" in screen and "CSS parsing failed" not in screen
            t.send("q")
            code = t.close()
        assert code == 0, t.dump()
