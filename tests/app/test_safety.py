"""Untrusted text stays inert in the TUI; links need a confirmation; a crash shows no locals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.text import Text

from genaicompare.app.screens.confirm_link import ConfirmLink, safe_link
from genaicompare.app.widgets.response_pane import ResponsePane
from genaicompare.app.widgets.stream_view import DisplayText
from genaicompare.store import Store
from tests.app.conftest import SIZE, finished, make_catalog, wait_for

MARKUP = "[@click=app.simulate_key('u')]press[/] [link=file:///etc/passwd]x[/link] stray [/] [b]"
ESCAPES = [
    "\x1b]52;c;SGVsbG8=\x07",  # OSC 52 clipboard
    "\x1b]8;;file:///etc/passwd\x1b\\y\x1b]8;;\x1b\\",  # OSC 8 link
    "\x1b]0;pwned\x07",  # OSC 0 title
    "\x1b[2J",  # CSI clear screen
    "\x1bP$qm\x1b\\",  # DECRQSS
    "\x9b31m",  # 8-bit CSI
]


def test_escape_sequences_split_at_every_offset_stay_inert() -> None:
    for payload in ESCAPES:
        text = f"before {payload} after"
        for cut in range(1, len(text)):
            display = DisplayText()
            shown = display.feed(text[:cut]) + display.feed(text[cut:])
            assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown, (
                payload,
                cut,
            )
            assert "before" in shown
        assert "".join(display.raw) == text  # stored as received


async def test_hostile_model_output_is_shown_literally_and_does_nothing(server, build, db_path):
    hostile = MARKUP + " " + " ".join(ESCAPES)
    catalog = make_catalog(
        server.base_url,
        {"echo": "fake/echo", "other": "fake/tokens?n=3"},
        [{"id": "p0", "prompt": hostile, "reference": MARKUP, "tags": ["[red]x"]}],
    )
    app = build(catalog, prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        panes = list(app.screen.query(ResponsePane))
        await wait_for(pilot, lambda: all(p.idle for p in panes))
        source = panes[0].markdown.source
        assert "[@click=app.simulate_key('u')]" in source
        assert not any(c in source for c in "\x1b\x9b\x07")
        # Click on every cell of the pane: if the markup were live, 'u' would rate the answer.
        region = panes[0].region
        for y in range(region.y, region.bottom, 2):
            for x in range(region.x, region.right, 4):
                await pilot.click(offset=(x, y))
        await pilot.pause(0.3)
        rendered = app.screen.query_one("#prompt-text").render()
        assert isinstance(rendered, Text) or "simulate_key" in str(rendered)
        assert app.is_running
    with Store(db_path) as store:
        assert store.query("SELECT * FROM ratings") == []


def test_only_http_links_may_open() -> None:
    assert safe_link("https://example.org/a?b=c")
    assert safe_link("http://example.org")
    for bad in ("file:///etc/passwd", "javascript:alert(1)", "ftp://x", "https://", "data:x"):
        assert not safe_link(bad)


async def test_markdown_link_asks_first_and_shows_full_url(server, build, db_path, monkeypatch):
    url = "https://example.org/very/long/path?with=query&and=more"
    catalog = make_catalog(
        server.base_url,
        {"echo": "fake/echo", "other": "fake/tokens?n=3"},
        [{"id": "p0", "prompt": f"see [the docs]({url}) and [local](file:///etc/passwd)"}],
    )
    opened: list[str] = []
    app = build(catalog, prefetch=0)
    monkeypatch.setattr(app, "open_url", lambda u, **kw: opened.append(u))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: finished(app))
        pane = app.screen.query(ResponsePane).first()
        from textual.widgets import Markdown

        pane.markdown.post_message(Markdown.LinkClicked(pane.markdown, url))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmLink))
        assert url in str(app.screen.query_one(".url").render())
        await pilot.press("n")
        assert opened == []
        pane.markdown.post_message(Markdown.LinkClicked(pane.markdown, url))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmLink))
        await pilot.press("y")
        await wait_for(pilot, lambda: opened == [url])
        pane.markdown.post_message(Markdown.LinkClicked(pane.markdown, "file:///etc/passwd"))
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmLink))
        await pilot.press("y")
        await pilot.pause(0.2)
        assert opened == [url]


CRASH = """
import os, sys
from genaicompare.app.app import GenaiCompareApp
from genaicompare.catalog import Catalog
from genaicompare.config import Settings
from genaicompare.store import Store

secret_local = os.environ["SENTINEL_API_KEY"]


def boom():
    token = secret_local  # a local the default Textual crash report would print
    raise RuntimeError("exploded with " + token)


class Crashy(GenaiCompareApp):
    def on_mount(self):  # Textual runs the base handler too; no super() call
        self.call_after_refresh(boom)


cat = Catalog.model_validate({"name": "c", "models": [{"id": "a", "model": "openai/x"}],
                              "prompts": [{"id": "p", "prompt": "hi"}]})
app = Crashy(Settings(rater="r"), cat, Store(sys.argv[1]), in_process=True, save_config=False)
app.run(headless=True)
sys.exit(app.return_code or 0)
"""


def test_crash_report_has_no_locals_and_no_secrets(tmp_path: Path, isolated_home: Path) -> None:
    sentinel = "sk-SENTINELsecretVALUE1234567890"
    script = tmp_path / "crash.py"
    script.write_text(CRASH, encoding="utf-8")
    env = dict(os.environ, SENTINEL_API_KEY=sentinel, GENAICOMPARE_HOME=str(isolated_home))
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "c.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "internal error: RuntimeError" in output
    assert sentinel not in output
    assert "secret_local" not in output and "token =" not in output  # no locals, no source
    logs = list((isolated_home / "cache" / "crashes").glob("*.log"))
    assert logs and all(sentinel not in p.read_text() for p in logs)
