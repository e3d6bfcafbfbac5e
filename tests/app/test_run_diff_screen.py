"""The run diff screen, driven by keys, over two runs stored in a real SQLite file.

Run 1 and run 2 of one catalog differ on purpose: an approved answer that changed, an answer whose
metric dropped, a hostile answer (markup, escape sequences), one unchanged answer.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from rich.text import Text
from textual.widgets import OptionList, Static

from genaicompare.app.screens.main import MainScreen
from genaicompare.app.screens.run_diff import DIFF_CHARS, RunDiffApp, RunDiffScreen, diff_text
from genaicompare.catalog import Catalog
from genaicompare.config import Settings
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.run_diff import diff_runs, latest_runs
from genaicompare.gate.similarity import Similarity, lexical_similarity
from genaicompare.ratings import Ratings
from genaicompare.store import Store
from tests.app.conftest import SIZE, wait_for
from tests.support.headless import env as headless_env
from tests.support.headless import run_cli

LEXICAL = Similarity(lexical_similarity, "lexical")
MARKUP = "[@click=app.simulate_key('u')]press[/] [b]bold?[/b]"
ESCAPES = "\x1b]0;pwned title\x07 \x1b[2J \x1b]52;c;SGVsbG8=\x07 \x9b31m"

RUN_1 = {
    "approved": "The capital of France is Paris.",
    "metric-drop": "one two three four five",
    "hostile": "a plain first answer",
    "same": "unchanged words",
}
RUN_2 = {
    "approved": "Paris is the capital city of France.",
    "metric-drop": "one two six four five",
    "hostile": f"a {MARKUP} answer {ESCAPES} end",
    "same": "unchanged words",
}
METRICS = {"metric-drop": ({"rougeL": 0.9, "chars": 23.0}, {"rougeL": 0.4, "chars": 21.0})}


def catalog(name: str = "diffcat") -> Catalog:
    return Catalog.model_validate(
        {
            "name": name,
            "models": [
                {"id": "m", "model": "openai/fake/echo", "api_base": "http://127.0.0.1:9/v1"}
            ],
            "prompts": [{"id": pid, "prompt": f"question {pid}"} for pid in RUN_1],
        }
    )


def seed_two_runs(
    db: Path, name: str = "diffcat", runs: tuple[dict[str, str], dict[str, str]] = (RUN_1, RUN_2)
) -> tuple[int, int]:
    """Two headless runs of one catalog; the first answer to "approved" gets a thumbs-up."""
    cat = catalog(name)
    run_ids = []
    with Store(db) as store:
        catalog_id = store.record_catalog(cat)
        for n, answers in enumerate(runs):
            run_id = store.start_run(catalog_id, cat, "headless")
            for pid, text in answers.items():
                record = ResponseRecord(
                    prompt_id=pid,
                    model_alias="m",
                    model="openai/fake/echo",
                    params={},
                    messages=[{"role": "user", "content": f"question {pid}"}],
                    text=text,
                    state=FinishState.complete,
                )
                rid = store.save_response(record, run_id, catalog_id)
                if pid in METRICS:
                    values = METRICS[pid][n]
                    store.save_metrics(rid, {k: (v, None, "1") for k, v in values.items()})
                if n == 0 and pid == "approved":
                    Ratings(store, rater="t").thumb(record, "up")
            store.finish_run(run_id)
            run_ids.append(run_id)
    return run_ids[0], run_ids[1]


def diff_app(db: Path, **kw) -> RunDiffApp:
    run_a, run_b = seed_two_runs(db)
    with Store(db) as store:
        rows = diff_runs(store, run_a, run_b, LEXICAL)
    return RunDiffApp(rows, run_a, run_b, LEXICAL.method, **kw)


def shown(app: RunDiffApp, widget_id: str) -> str:
    rendered = app.screen.query_one(widget_id, Static).visual
    return rendered.plain if hasattr(rendered, "plain") else str(rendered)


async def test_keys_move_through_changes_most_changed_first(tmp_path: Path) -> None:
    app = diff_app(tmp_path / "d.db")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunDiffScreen)
        order = [r.prompt_id for r in screen.shown]
        # Approved-then-changed first; the unchanged answer is hidden until `a`.
        assert order[0] == "approved" and "same" not in order
        assert set(order) == {"approved", "metric-drop", "hostile"}
        title = shown(app, "#run-diff-title")
        assert "run 1 → run 2" in title and "3 of 4 answers changed" in title
        header = shown(app, "#run-diff-header")
        assert "had a 👍 in run 1, now different" in header and "similarity" in header
        body = shown(app, "#run-diff-body")
        assert "Paris" in body and "capital" in body

        await pilot.press("j")
        assert screen.current is screen.shown[1]
        await pilot.press("down")
        assert screen.current is screen.shown[2]
        await pilot.press("k", "k")
        assert screen.current is screen.shown[0]

        index = order.index("metric-drop")
        for _ in range(index):
            await pilot.press("j")
        header = shown(app, "#run-diff-header")
        assert "rougeL" in header and "−0.5" in header and "worse" in header
        # A neutral metric is listed with its delta but not called worse.
        chars_line = next(line for line in header.splitlines() if line.startswith("chars"))
        assert "−2" in chars_line and "worse" not in chars_line
        assert "[-three-]" not in shown(app, "#run-diff-body")  # markers off in the dark theme
        await pilot.press("m")
        body = shown(app, "#run-diff-body")
        assert "[-three-]" in body and "{+six+}" in body

        await pilot.press("a")
        assert "same" in [r.prompt_id for r in screen.shown]
        assert screen.current is not None and screen.current.prompt_id == "metric-drop"
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_escape_closes_too(tmp_path: Path) -> None:
    app = diff_app(tmp_path / "d.db")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert not app.is_running


async def test_hostile_answer_is_shown_literally(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    app = diff_app(db)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunDiffScreen)
        for _ in range([r.prompt_id for r in screen.shown].index("hostile")):
            await pilot.press("j")
        body = app.screen.query_one("#run-diff-body", Static)
        text = body.visual
        plain = text.plain if hasattr(text, "plain") else str(text)
        assert "[@click=app.simulate_key('u')]press[/]" in plain
        assert "[b]bold?[/b]" in plain
        assert not any(c in plain for c in "\x1b\x9b\x07")
        # The whole OSC sequence goes, payload and all, though a space splits it into two words:
        # the answers are sanitized before the word split.
        assert "pwned" not in plain and "title" not in plain and plain.rstrip().endswith("end")
        # Clicking all over the diff must not fire the embedded action (u would rate in the TUI).
        region = body.region
        for y in range(region.y, min(region.bottom, region.y + 6)):
            for x in range(region.x, region.right, 3):
                await pilot.click(offset=(x, y))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, RunDiffScreen)
    with Store(db) as store:
        assert len(store.query("SELECT * FROM ratings")) == 1  # only the seeded thumbs-up


async def test_long_answers_are_diffed_in_a_thread_and_capped(tmp_path: Path) -> None:
    db = tmp_path / "long.db"
    long_a = " ".join(f"w{i}" for i in range(3000))  # ≈ 17,000 characters
    long_b = long_a.replace("w17 ", "CHANGED ", 1)
    run_a, run_b = seed_two_runs(db, runs=({"long": long_a}, {"long": long_b}))
    with Store(db) as store:
        rows = diff_runs(store, run_a, run_b, LEXICAL)
    app = RunDiffApp(rows, run_a, run_b, LEXICAL.method)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await wait_for(pilot, lambda: "computing" not in shown(app, "#run-diff-body"))
        body = shown(app, "#run-diff-body")
        assert "w17" in body and "CHANGED" in body
        assert f"first {DIFF_CHARS:,} characters" in body
        assert "w2999" not in body  # beyond the cap


def test_diff_text_styles_and_markers() -> None:
    from rich.style import Style

    (row,) = [r for r in _rows_in_memory() if r.prompt_id == "metric-drop"]
    removed, added = Style(strike=True), Style(underline=True)
    plain = diff_text(row, 1, 2, removed=removed, added=added, markers=False)
    assert isinstance(plain, Text) and plain.plain == "one two threesix four five"
    styles = {plain.plain[s.start : s.end]: s.style for s in plain.spans}
    assert styles["three"] == removed and styles["six"] == added
    marked = diff_text(row, 1, 2, removed=removed, added=added, markers=True)
    assert marked.plain == "one two [-three-]{+six+} four five"


def _rows_in_memory():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "d.db"
        run_a, run_b = seed_two_runs(db)
        with Store(db) as store:
            return diff_runs(store, run_a, run_b, LEXICAL)


async def test_main_screen_opens_the_latest_two_headless_runs(build, db_path) -> None:
    seed_two_runs(db_path, name="diffcat")
    # A third run of another catalog must not be picked.
    with Store(db_path) as store:
        other = catalog("elsewhere")
        rid = store.start_run(store.record_catalog(other), other, "headless")
        store.save_response(
            ResponseRecord(
                prompt_id="same",
                model_alias="m",
                model="x",
                params={},
                messages=[],
                text="x",
                state=FinishState.complete,
            ),
            rid,
        )
        assert latest_runs(store, "diffcat") == [2, 1]
    app = build(catalog("diffcat"), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ready.is_set())
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        await pilot.press("C")
        await wait_for(pilot, lambda: isinstance(app.screen, RunDiffScreen))
        screen = app.screen
        assert (screen.run_a, screen.run_b) == (1, 2)
        assert screen.shown[0].prompt_id == "approved"
        assert screen.query_one(OptionList).has_focus
        await pilot.press("q")  # closes the diff, not the app
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        assert app.is_running


async def test_main_screen_says_when_there_is_nothing_to_diff(build, db_path) -> None:
    app = build(catalog("lonely"), prefetch=0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ready.is_set())
        await pilot.press("C")
        await pilot.pause(0.5)
        assert isinstance(app.screen, MainScreen)
        messages = [str(n.message) for n in app._notifications]
        assert any("two headless runs" in m for m in messages)


async def test_main_screen_refuses_in_blind_mode(build, db_path) -> None:
    seed_two_runs(db_path, name="diffcat")
    app = build(catalog("diffcat"), prefetch=0, blind=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.session.ready.is_set())
        await pilot.press("C")
        await pilot.pause(0.5)
        assert isinstance(app.screen, MainScreen)
        assert any("blind mode" in str(n.message) for n in app._notifications)


def test_snapshot_run_diff(snap_compare, tmp_path: Path) -> None:
    app = diff_app(tmp_path / "snap.db", settings=Settings(theme="genaicompare-dark", rater="s"))
    assert snap_compare(app, terminal_size=SIZE)


def test_snapshot_run_diff_high_contrast(snap_compare, tmp_path: Path) -> None:
    settings = Settings(theme="genaicompare-high-contrast", rater="s")
    app = diff_app(tmp_path / "snap.db", settings=settings)

    async def metric_row(pilot) -> None:
        # The metric-drop row: bracket markers are on in this theme, metric deltas listed.
        screen = pilot.app.screen
        for _ in range([r.prompt_id for r in screen.shown].index("metric-drop")):
            await pilot.press("j")
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=metric_row)


# ------------------------------------------------------------------ the CLI, in a real terminal


def _read_until(fd: int, marker: bytes, seen: bytearray, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} not shown; got {bytes(seen[-2000:])!r}")
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                return


def test_cli_tui_runs_in_a_terminal_and_shows_hostile_text_inertly(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    seed_two_runs(db)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "genaicompare", "diff", "1", "2", "--db", str(db), "--tui"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**headless_env(tmp_path / "home"), "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()
    try:
        _read_until(master, b"answers changed", seen)
        for _ in range(3):  # down to the hostile answer, wherever similarity ranks it
            os.write(master, b"j")
            time.sleep(0.3)
        _read_until(master, b"simulate_key", seen)
        os.write(master, b"q")
        # Keep reading while it exits: a full terminal buffer would block its last writes.
        _read_until(master, b"\x1b[?1049l", seen, timeout=60)  # alternate screen left
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    # The OSC title sequence from the answer never reached the terminal; its brackets did, as text.
    assert b"pwned" not in seen and b"\x1b]0;" not in seen


def test_cli_tui_needs_a_terminal(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    seed_two_runs(db)
    result = run_cli(["diff", "1", "2", "--db", str(db), "--tui"], tmp_path / "home")
    assert result.returncode == 2
    assert "--tui needs a terminal" in result.stderr and "Traceback" not in result.stderr


def _row(pid: str, passed_a: bool | None, passed_b: bool | None, **kw):  # type: ignore[no-untyped-def]
    from genaicompare.gate.run_diff import DiffRow

    fields = dict(
        prompt_id=pid,
        model_alias="m",
        text_a=f"{pid} before",
        text_b=f"{pid} after",
        state_a="complete",
        state_b="complete",
        thumbs_up_before=False,
        changed=True,
        similarity=0.5,
        metric_drops={},
        passed_a=passed_a,
        passed_b=passed_b,
    )
    fields.update(kw)
    return DiffRow(**fields)


async def test_assertion_transitions_rank_first_and_metrics_say_better_or_worse() -> None:
    rows = [
        _row("approved", None, None, thumbs_up_before=True, similarity=0.1),
        _row("fixed", False, True, similarity=0.9),
        _row(
            "broke",
            True,
            False,
            similarity=0.95,
            metrics_a={"latency_ms": 900.0, "chars": 10.0, "rougeL": 0.8},
            metrics_b={"latency_ms": 300.0, "chars": 12.0, "rougeL": 0.5},
            metric_drops={"rougeL": 0.3},
        ),
    ]
    rows.sort(key=lambda r: r.sort_key())
    assert [r.prompt_id for r in rows] == ["broke", "fixed", "approved"]
    app = RunDiffApp(rows, 1, 2, "lexical")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        title = shown(app, "#run-diff-title")
        assert "1 PASS→FAIL" in title and "1 FAIL→PASS" in title
        labels = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert "PASS→FAIL" in labels[0] and "FAIL→PASS" in labels[1]
        header = shown(app, "#run-diff-header")
        assert "assertions PASS→FAIL" in header
        lines = header.splitlines()
        metric_lines = [
            line for line in lines if line.split()[:1] in (["rougeL"], ["chars"], ["latency_ms"])
        ]
        # By importance (the reference metric first), not alphabetically; a faster answer is better.
        assert [line.split()[0] for line in metric_lines] == ["rougeL", "chars", "latency_ms"]
        assert metric_lines[0].endswith("worse") and metric_lines[2].endswith("better")
        assert not metric_lines[1].endswith(("worse", "better"))  # length is neutral


async def test_an_empty_diff_says_no_answer_changed() -> None:
    app = RunDiffApp([_row("same", None, None, changed=False, similarity=1.0)], 1, 2, "lexical")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "no answer changed" in shown(app, "#run-diff-header")
