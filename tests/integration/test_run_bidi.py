"""Issue 18 §13: Trojan Source (CVE-2021-42574) controls and ``::`` workflow lines from a model
never reach a terminal or a report raw — the real CLI's console, JUnit, Markdown and ``diff``, and
the TUI's panes and prompt list in a pty. They show as visible placeholders (``⟨U+202E⟩``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog
from tests.support.terminal import genaicompare

RLO, LRI, PDI, ZWSP = "\u202e", "\u2066", "\u2069", "\u200b"
HOSTILE = f"access user{RLO} {LRI}// admin{PDI} end{ZWSP}x"
RAW = [c.encode() for c in (RLO, LRI, PDI, ZWSP)]


def _no_raw(data: bytes, where: str) -> None:
    for c in RAW:
        assert c not in data, f"a raw {c!r} in {where}"


def test_reports_console_and_diff_show_placeholders(tmp_path: Path) -> None:
    db, junit, md = tmp_path / "r.db", tmp_path / "j.xml", tmp_path / "s.md"
    home = tmp_path / "home"
    prompts = [
        {"id": f"bidi{RLO}id", "prompt": HOSTILE},
        {"id": "workflow", "prompt": "fine\n::add-mask::secret\n::set-output name=x::1"},
    ]
    with FakeOpenAI() as server:
        cat = write_catalog(tmp_path / "c.yaml", server.base_url, {"echo": "fake/echo"}, prompts)
        proc = run_cli(
            ["run", str(cat), "--db", str(db), "--junit", str(junit), "--markdown", str(md)], home
        )
        again = write_catalog(
            tmp_path / "d.yaml", server.base_url, {"echo": "fake/echo"}, prompts[:1]
        )
        assert run_cli(["run", str(again), "--db", str(db), "--no-cache"], home).returncode == 0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    diff = run_cli(["diff", "1", "2", "--db", str(db), "--all", "--lexical"], home)
    assert diff.returncode == 0, diff.stderr
    for where, data in [
        ("stdout", proc.stdout.encode()),
        ("stderr", proc.stderr.encode()),
        ("junit", junit.read_bytes()),
        ("markdown", md.read_bytes()),
        ("diff", diff.stdout.encode()),
    ]:
        _no_raw(data, where)
    text = junit.read_text(encoding="utf-8")
    assert "⟨U+202E⟩" in text and "⟨U+2066⟩" in text and "⟨U+200B⟩" in text
    assert "⟨U+202E⟩" in diff.stdout
    outs = [tc.findtext("system-out") or "" for tc in ET.parse(junit).getroot().iter("testcase")]
    lines = [line for out in outs for line in out.splitlines()]
    assert any("add-mask" in line for line in lines)
    assert not any(line.lstrip().startswith("::") for line in lines), lines


@pytest.mark.slow
def test_tui_panes_and_prompt_list_show_placeholders(tmp_path: Path, isolated_home: Path) -> None:
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"echo": "fake/echo"},
            [{"id": f"bidi{RLO}id", "prompt": HOSTILE}],
        )
        with genaicompare(
            [str(cat), "--db", str(tmp_path / "t.db")], 120, 30, isolated_home
        ) as term:
            term.wait_text("admin⟨U+2069⟩", 60)
            term.wait_text("bidi⟨U+202E⟩id", 10)
            term.send("q")
            term.close()
        _no_raw(bytes(term.raw), "the terminal")
