"""What the TUI keeps in the config file: the user's choices (the recent catalogs, a theme picked
or given with ``--theme``, the matrix rows), never ``--rater``, ``--prefetch`` or the
``GENAICOMPARE_*`` variables of one session — ``--rater guest`` once must not make every later
rating guest's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import tomllib

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import KEY_ENV, write_catalog
from tests.support.terminal import genaicompare


def _rate_once(cat: Path, db: Path, home: Path, rater: str, *options: str) -> None:
    """Open the catalog, see the rater in the header, wait for the answer, thumb it up, quit."""
    with genaicompare([str(cat), "--db", str(db), *options], 120, 40, home) as t:
        t.wait(lambda ls: any("complete ·" in line for line in ls), 60, "the answer complete")
        assert f"rater {rater}" in t.text().splitlines()[0]
        t.send("u")
        t.wait_text("1/1 rated", 30)
        t.send("q")
        assert t.close() == 0, t.dump()


def test_session_options_and_variables_stay_out_of_the_config(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "t.db"
    config = isolated_home / "config" / "config.toml"
    with FakeOpenAI() as server:
        cat = write_catalog(
            tmp_path / "c.yaml",
            server.base_url,
            {"m": "fake/echo"},
            [{"id": "p", "prompt": "kept choices"}],
        )
        monkeypatch.setenv(KEY_ENV, "test-key")
        monkeypatch.setenv("GENAICOMPARE_PREFETCH", "0")
        monkeypatch.setenv("GENAICOMPARE_BLIND", "true")
        _rate_once(
            cat, db, isolated_home, "guest", "--rater", "guest", "--theme", "genaicompare-light"
        )
        saved = tomllib.loads(config.read_text(encoding="utf-8"))
        assert saved["recent_catalogs"] == [str(cat.resolve())]
        assert saved.get("rater") != "guest"
        assert saved["theme"] == "genaicompare-light"  # --theme switches and remembers
        assert saved.get("prefetch", 2) == 2 and saved.get("blind", False) is False

        # The next session, without the options, rates as the rater the file names.
        monkeypatch.delenv("GENAICOMPARE_PREFETCH")
        monkeypatch.delenv("GENAICOMPARE_BLIND")
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                f'rater = "{saved["rater"]}"', 'rater = "ann"'
            ),
            encoding="utf-8",
        )
        _rate_once(cat, db, isolated_home, "ann")
    with sqlite3.connect(db) as conn:
        raters = [r for (r,) in conn.execute("SELECT rater FROM ratings ORDER BY id")]
    assert raters == ["guest", "ann"]
    assert tomllib.loads(config.read_text(encoding="utf-8"))["rater"] == "ann"
