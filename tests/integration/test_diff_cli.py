"""``genaicompare diff RUN_A RUN_B`` from a real subprocess over two real runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

PROMPTS = [
    {"id": "same", "prompt": "stays the same"},
    {"id": "changes", "prompt": "alpha beta gamma delta"},
]


def test_diff_cli_orders_and_diffs(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    home = tmp_path / "home"
    with FakeOpenAI() as server:
        # Run 1: "m" echoes; run 2: "m" echoes for one prompt only (the other becomes tokens).
        c1 = write_catalog(tmp_path / "a.yaml", server.base_url, {"m": "fake/echo"}, PROMPTS)
        assert run_cli(["run", str(c1), "--db", db], home).returncode == 0
        c2 = write_catalog(
            tmp_path / "b.yaml",
            server.base_url,
            {"m": "fake/echo"},
            [PROMPTS[0], {"id": "changes", "prompt": "alpha beta \x1b[2J gamma"}],
        )
        assert run_cli(["run", str(c2), "--db", db], home).returncode == 0
    # The earlier answer to "changes" was approved: it must come first now that it changed.
    conn = sqlite3.connect(db)
    (rid,) = conn.execute(
        "SELECT id FROM responses WHERE run_id=1 AND prompt_id='changes'"
    ).fetchone()
    conn.close()
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    with Store(db) as store:
        Ratings(store, rater="t").thumb(rid, "up")

    table = run_cli(["diff", "1", "2", "--db", db, "--all", "--lexical"], home)
    assert table.returncode == 0, table.stderr
    out = table.stdout
    assert out.index("changes") < out.index("same")
    assert "[- delta-]" in out and "\x1b" not in out
    data = run_cli(["diff", "1", "2", "--db", db, "--json", "--lexical"], home)
    rows = json.loads(data.stdout)["rows"]
    assert [r["prompt_id"] for r in rows] == ["changes"]  # unchanged rows hidden without --all
    assert rows[0]["thumbs_up_before"] is True and rows[0]["similarity"] < 1
    missing = run_cli(["diff", "1", "99", "--db", db], home)
    assert missing.returncode == 2 and "no run 99" in missing.stderr
