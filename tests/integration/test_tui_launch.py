"""`genaicompare CATALOG` in a pseudo-terminal: the loading screen is the first paint, and a bad
catalog still ends in its one-line ``file:line:col`` error, exit code 2, after the terminal is
restored — never a traceback. Plus what the first-paint path may import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ALT_SCREEN_OFF = b"\x1b[?1049l"


def _run(catalog: Path, home: Path, tmp_path: Path) -> tuple[int, bytes]:
    env = dict(os.environ, GENAICOMPARE_HOME=str(home), TERM="xterm-256color")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "genaicompare", str(catalog), "--db", str(tmp_path / "gc.db")],
        env=env,
        dimensions=(40, 140),
        timeout=60,
    )
    try:
        child.expect(pexpect.EOF)
    finally:
        child.close()
    return child.exitstatus, child.before


def test_bad_catalog_in_the_tui_is_one_line_and_exit_2(tmp_path: Path, isolated_home: Path) -> None:
    catalog = tmp_path / "bad.yaml"
    catalog.write_text(
        "name: x\nmodels:\n  - id: a\n    model: openai/x\n  - id: b\n    model: [oops\n",
        encoding="utf-8",
    )
    status, screen = _run(catalog, isolated_home, tmp_path)
    assert status == 2
    assert b"Loading bad.yaml" in screen  # the app had painted its loading screen
    after = screen.rsplit(ALT_SCREEN_OFF, 1)[1].decode()
    assert after.startswith("\x1b")  # the rest of the terminal restore, then the message
    message = after[after.index("genaicompare:") :]
    assert message.startswith(f"genaicompare: {catalog}:7:1: YAML syntax error: ")
    assert message.count("\n") == 1 and message.endswith("\r\n")
    assert "Traceback" not in screen.decode(errors="replace")


def test_too_many_models_for_the_tui(tmp_path: Path, isolated_home: Path) -> None:
    catalog = tmp_path / "seven.yaml"
    models = "".join(f"  - id: m{i}\n    model: openai/m{i}\n" for i in range(7))
    catalog.write_text(
        f"name: x\nmodels:\n{models}prompts:\n  - id: p\n    prompt: hi\n", encoding="utf-8"
    )
    status, screen = _run(catalog, isolated_home, tmp_path)
    assert status == 2
    after = screen.rsplit(ALT_SCREEN_OFF, 1)[1].decode()
    assert "the TUI compares 2–6 models; this catalog has 7" in after


def test_missing_catalog_fails_before_the_screen_opens(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "genaicompare", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == f"genaicompare: {tmp_path / 'nope.yaml'}: no such file\n"
    assert proc.stdout == ""


def test_first_paint_path_imports_nothing_heavy() -> None:
    """What `genaicompare CATALOG` imports before its loading screen is up."""
    heavy = [
        "pydantic",
        "genaicompare.catalog",
        "genaicompare.config",
        "genaicompare.store",
        "sqlite_utils",
        "pandas",
        "litellm",
        "torch",
        "markdown_it",
        "genaicompare.app.screens.main",
    ]
    code = (
        "import json, sys\n"
        "from genaicompare.cli import main\n"
        "import genaicompare.commands.tui, genaicompare.app.app\n"
        f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
