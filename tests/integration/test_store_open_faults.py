"""A database that cannot be used, through the real CLI: one storage message that names the file
and says what to do, exit code 2 — never ``internal error``, a traceback or a crash log.

#18 items 5 (a database from a newer genaicompare; a renamed column) and 7 (a read-only folder,
a random or truncated file, a YAML file as ``--db``, a full disk at open, ``--db DIR``), for
``export``, ``scores``, ``run`` and the TUI's open path (``genaicompare CATALOG --db X`` fails
before the screen opens).
"""

from __future__ import annotations

import ctypes
import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from genaicompare import __version__
from genaicompare.store import Store
from genaicompare.store.opening import SCHEMA_VERSION
from tests.support.headless import env

CATALOG = """\
name: faults
models:
  - {id: a, model: openai/a, api_base: "http://127.0.0.1:9/v1"}
  - {id: b, model: openai/b, api_base: "http://127.0.0.1:9/v1"}
prompts:
  - {id: p1, prompt: hi}
"""
COMMANDS = {
    "export": lambda cat, db: ["export", cat, "-o", "-", "--db", db],
    "scores": lambda cat, db: ["scores", cat, "--db", db],
    "tui": lambda cat, db: [cat, "--db", db],
}


def _cli(
    args: list[str], home: Path, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genaicompare", *args],
        env=env(home),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec,
    )


def _refused(proc: subprocess.CompletedProcess[str], home: Path, *needles: str) -> str:
    err = proc.stderr
    assert proc.returncode == 2, err
    assert "internal error" not in err and "Traceback" not in err and "KeyError" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("genaicompare: "), err
    for needle in needles:
        assert needle in err, err
    assert "\x1b[" not in proc.stdout  # the TUI never took the terminal
    assert not (home / "cache" / "crashes").exists()
    return lines[0]


@pytest.fixture
def catalog(tmp_path: Path) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(CATALOG, encoding="utf-8")
    return str(path)


def _random(db: Path) -> None:
    db.write_bytes(os.urandom(8192))


def _truncated(db: Path) -> None:
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("x" * 500,)] * 200)
    conn.commit()
    conn.close()
    db.write_bytes(db.read_bytes()[:3000])


def _yaml(db: Path) -> None:
    db.write_text(CATALOG, encoding="utf-8")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_random, "is not a genaicompare database (not an SQLite file)"),
        (_truncated, "is damaged (database disk image is malformed)"),
        (_yaml, "is not a genaicompare database (not an SQLite file)"),
    ],
    ids=["random", "truncated", "yaml"],
)
def test_a_file_that_is_not_a_usable_database(
    tmp_path: Path, catalog: str, command: str, make: Callable[[Path], None], needle: str
) -> None:
    db = tmp_path / "bad.db"
    make(db)
    before = db.read_bytes()
    home = tmp_path / "home"
    line = _refused(_cli(COMMANDS[command](catalog, str(db)), home), home, str(db), needle)
    assert "--db" in line
    assert db.read_bytes() == before  # refused, not "repaired"


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_db_is_a_folder(tmp_path: Path, catalog: str, command: str) -> None:
    folder = tmp_path / "dbdir"
    folder.mkdir()
    home = tmp_path / "home"
    _refused(
        _cli(COMMANDS[command](catalog, str(folder)), home),
        home,
        f"database {folder} is a folder; --db takes a database file, e.g. "
        f"{folder / 'genaicompare.db'}",
    )
    assert list(folder.iterdir()) == []


def _without_root_override() -> None:
    """As root, permissions do not apply: drop CAP_DAC_OVERRIDE/READ_SEARCH for the child."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
            if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("exists", [False, True], ids=["new", "existing"])
def test_read_only_folder(tmp_path: Path, catalog: str, command: str, exists: bool) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "r.db"
    if exists:
        Store(db).close()
        for extra in folder.glob("r.db-*"):
            extra.unlink()
    folder.chmod(0o555)
    home = tmp_path / "home"
    try:
        proc = _cli(COMMANDS[command](catalog, str(db)), home, _without_root_override)
    finally:
        folder.chmod(0o755)
    _refused(proc, home, f"cannot write database {db}", "its folder must be writable")


def _disk_full() -> None:
    # No file may grow: the first write to the database fails as on a full disk (Python ignores
    # SIGXFSZ, so the write returns an error instead of killing the process).
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_disk_full_at_open(tmp_path: Path, catalog: str, command: str) -> None:
    db = tmp_path / "full.db"
    home = tmp_path / "home"
    home.mkdir()
    _refused(
        _cli(COMMANDS[command](catalog, str(db)), home, _disk_full),
        home,
        f"cannot write database {db}",
        "free some disk space",
    )


def _newer(db: Path) -> None:
    with Store(db) as store:
        store.start_run(None, None, "headless")
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO _migrations VALUES ('m042_from_the_future', datetime('now'))")
    conn.execute("UPDATE runs SET genaicompare_version = '99.0.0'")
    conn.commit()
    conn.close()


def _renamed_column(db: Path) -> None:
    Store(db).close()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE responses RENAME COLUMN text TO body")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("command", [*sorted(COMMANDS), "run"])
def test_database_from_a_newer_genaicompare_is_refused(
    tmp_path: Path, catalog: str, command: str
) -> None:
    db = tmp_path / "new.db"
    _newer(db)
    args = (
        ["run", catalog, "--db", str(db)]
        if command == "run"
        else COMMANDS[command](catalog, str(db))
    )
    home = tmp_path / "home"
    _refused(
        _cli(args, home),
        home,
        f"database {db} is from a newer genaicompare (schema version 42, last written by "
        "genaicompare 99.0.0: m042_from_the_future)",
        f"this is genaicompare {__version__}, which knows schema versions up to {SCHEMA_VERSION}",
    )
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM responses").fetchone() == (0,)  # nothing written


@pytest.mark.parametrize("command", [*sorted(COMMANDS), "run"])
def test_renamed_column_is_named_not_a_key_error(
    tmp_path: Path, catalog: str, command: str
) -> None:
    db = tmp_path / "ren.db"
    _renamed_column(db)
    args = (
        ["run", catalog, "--db", str(db)]
        if command == "run"
        else COMMANDS[command](catalog, str(db))
    )
    home = tmp_path / "home"
    _refused(
        _cli(args, home),
        home,
        f"database {db} lacks what genaicompare {__version__} needs: responses.text",
    )


def _old_database_with_many_answers(db: Path, answers: int) -> None:
    """A database as genaicompare stored it before m011 (no answer_style), holding ``answers``
    copies of one stored answer."""
    import yaml

    from genaicompare.catalog import Catalog
    from genaicompare.core.records import FinishState, ResponseRecord

    catalog = Catalog.model_validate(yaml.safe_load(CATALOG))
    rendered = catalog.render(catalog.prompt("p1"), catalog.model_spec("a"))
    record = ResponseRecord(
        prompt_id="p1",
        model_alias="a",
        model="openai/a",
        params={},
        messages=rendered.messages,
        template_hash=rendered.template_hash,
        text="## Paris\n- **yes**",
        state=FinishState.complete,
        latency_ms=12.5,
    )
    with Store(db) as store:
        store.save_response(record)
        columns = [r[1] for r in store.conn.execute("PRAGMA table_info(responses)")]
        copied = ", ".join(c for c in columns if c != "id")
        store.conn.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
            f"INSERT INTO responses ({copied}) SELECT {copied} FROM responses, n",
            [answers - 1],
        )
        store.conn.execute("DROP TABLE answer_style")
        store.conn.execute("DELETE FROM _migrations WHERE name = 'm011_answer_style'")
        store.conn.commit()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_upgrading_a_database_of_many_answers_says_so(
    tmp_path: Path, catalog: str, command: str
) -> None:
    """The upgrade that reads every stored answer (≈15 s per million) is announced on stderr,
    before the TUI takes the terminal; stdout keeps only the command's output."""
    from tests.support.terminal import Terminal

    db = tmp_path / "old.db"
    _old_database_with_many_answers(db, 60_000)
    home = tmp_path / "home"
    notice = (
        f"genaicompare: upgrading database {db} for this version of genaicompare "
        "(m011_answer_style; once, reading its 60,000 stored answers)…"
    )
    if command == "tui":
        term = Terminal(
            [sys.executable, "-m", "genaicompare", catalog, "--db", str(db)], 120, 40, env(home)
        )
        try:
            term.wait_text("0/1 rated", 60)  # the main screen, after the upgrade
        finally:
            term.close()
        assert notice.encode() in bytes(term.raw)
        assert b"genaicompare: upgraded in " in bytes(term.raw)
    else:
        proc = _cli(COMMANDS[command](catalog, str(db)), home)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines()[0] == notice
        assert notice not in proc.stdout
    conn = sqlite3.connect(db)
    # One style row per stored answer's hash (the TUI also stored its two failed answers).
    assert (
        conn.execute("SELECT count(*) FROM answer_style").fetchone()
        == conn.execute("SELECT count(DISTINCT content_hash) FROM responses").fetchone()
    )
    assert conn.execute(
        "SELECT 1 FROM _migrations WHERE name = 'm011_answer_style'"
    ).fetchone() == (1,)
    # Once: the next open says nothing.
    again = _cli(COMMANDS["scores"](catalog, str(db)), home)
    assert again.returncode == 0 and "upgrading" not in again.stderr, again.stderr
