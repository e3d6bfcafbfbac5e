"""Bad option values through the real CLI: a usage error (exit 2, argparse style, naming the
option) before any work starts — no export written, no TUI opened, no traceback."""

from __future__ import annotations

from pathlib import Path

from tests.support.headless import run_cli

CATALOG = """\
name: opts
models:
  - {id: a, model: openai/a}
  - {id: b, model: openai/b}
prompts:
  - {id: p1, prompt: hi}
"""


def _catalog(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return path


def test_export_since_and_until_garbage_are_usage_errors(tmp_path: Path) -> None:
    cat, out = _catalog(tmp_path), tmp_path / "out.jsonl"
    for option in ("--since", "--until"):
        proc = run_cli(
            ["export", str(cat), "-o", str(out), "--db", str(tmp_path / "x.db"), option, "garbage"],
            tmp_path / "home",
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert f"genaicompare export: error: argument {option}: expected a date" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert not out.exists()
        assert not (tmp_path / "x.db").exists()  # refused before the store was opened


def test_tui_prefetch_out_of_range_is_a_usage_error_before_the_tui_starts(tmp_path: Path) -> None:
    cat = _catalog(tmp_path)
    for value in ("-1", "11"):
        proc = run_cli(
            [str(cat), "--prefetch", value, "--db", str(tmp_path / "x.db")],
            tmp_path / "home",
            timeout=20,
        )
        assert proc.returncode == 2, proc.stderr
        assert f"genaicompare: error: argument --prefetch: must be from 0 to 10, got '{value}'" in (
            proc.stderr
        )
        assert "\x1b[" not in proc.stdout  # the terminal was never taken over
        assert not (tmp_path / "x.db").exists()
