"""What a person reads in the metrics matrix: the real CLI in a pseudo-terminal, read by pyte.

Two fake models answer a prompt that has a reference and assertions. Once both answers and their
metrics are stored, the matrix is read off the screen — its header (family, metric, one column
per model), each row's label and cells — scrolled with the keyboard (Tab to the matrix, ↓) until
every row was seen, and each value shown is compared with the value stored in SQLite, formatted
as :mod:`genaicompare.metrics.display` says. Issue 13: the metrics were one alphabetical string
cut at 300 characters, and at 80×24 the table ended at ``lat``.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from pathlib import Path

import pytest

from genaicompare.metrics import display
from tests.support.fake_openai import FakeOpenAI
from tests.support.terminal import Terminal, genaicompare

pytestmark = pytest.mark.slow

MODELS = ("echo", "counter")
OPS = ("ttft_ms", "latency_ms", "tokens_out", "tokens_per_s", "cost_usd")
BUSY = ("computing…", "streaming", "waiting", "connecting…")


def _catalog(tmp_path: Path, server: FakeOpenAI) -> Path:
    path = tmp_path / "matrix.yaml"
    path.write_text(
        "name: screen-matrix\n"
        "defaults: {metrics: [lexical, readability, pii]}\n"
        "models:\n"
        f"  - {{id: echo, model: openai/fake/echo, api_base: '{server.base_url}'}}\n"
        f"  - {{id: counter, model: 'openai/fake/tokens?n=12', api_base: '{server.base_url}'}}\n"
        "prompts:\n"
        "  - id: capital\n"
        "    prompt: The capital of France is Paris, on the Seine.\n"
        "    reference: Paris is the capital of France.\n"
        "    assert: {rougeL: '>= 0.3', contains: Paris, latency_ms: '< 60000'}\n",
        encoding="utf-8",
    )
    return path


def _stored(db: Path) -> dict[tuple[str, str], float | None]:
    """(model alias, metric) → value, for the answers' stored metrics ({} until both have some)."""
    if not db.exists():
        return {}
    conn = sqlite3.connect(db, timeout=10)
    try:
        rows = conn.execute(
            "SELECT r.model_alias, m.name, m.value FROM metrics m "
            "JOIN responses r ON r.id = m.response_id"
        ).fetchall()
        ops = conn.execute(
            "SELECT model_alias, ttft_ms, latency_ms, tokens_out, tokens_per_s, cost_usd "
            "FROM responses"
        ).fetchall()
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()
    out = {(alias, name): value for alias, name, value in rows}
    if {a for a, _ in out} != set(MODELS):
        return {}
    # The operational figures are the response's own columns.
    for alias, *values in ops:
        for name, value in zip(OPS, values, strict=True):
            out[(alias, name)] = value
    return out


def _matrix(lines: list[str]) -> dict[str, list[str]]:
    """Row label → the cells under each model's header, as the screen shows them."""
    head = next(
        (i for i, line in enumerate(lines) if " family " in line and " metric " in line), None
    )
    if head is None:
        return {}
    header = lines[head]
    start = header.index(" metric ") + 1
    cols = [header.index(f" {m}", start) + 1 for m in MODELS]
    rows: dict[str, list[str]] = {}
    for line in lines[head + 1 :]:
        label = line[start : cols[0]].strip()
        if not label:
            break  # below the table: the focused cell's line, or the footer
        edges = [*cols, len(line)]
        cells = [
            line[a:b].strip().rstrip("▁▂▃▄▅▆▇█▏▕").strip() for a, b in itertools.pairwise(edges)
        ]
        rows[label] = cells
    return rows


def _settled(lines: list[str]) -> bool:
    rows = _matrix(lines)
    return bool(rows) and not any(c.startswith(BUSY) for cells in rows.values() for c in cells)


def _read_all(term: Terminal) -> dict[str, list[str]]:
    """Every row of the matrix: what is in view, then ↓ through the rest (Tab focuses it)."""
    seen = dict(_matrix(term.lines()))

    def focused() -> bool:
        # The focused cell's line shows only while the matrix has the focus.
        deadline = time.monotonic() + 2.0  # a repaint can lag on a loaded machine
        while time.monotonic() < deadline:
            if any(line.lstrip(" ▕").startswith(f"{MODELS[0]}: ") for line in term.lines()):
                return True
            time.sleep(0.05)
        return False

    for _ in range(6):  # the prompt list, the prompt's title and scroll areas, then the matrix
        term.send("Tab")
        if focused():
            break
    else:
        raise AssertionError("Tab never reached the matrix; the screen:\n" + term.dump())
    for _ in range(40):
        term.send("Down")
        time.sleep(0.1)
        seen.update(_matrix(term.lines()))
    time.sleep(0.5)
    seen.update(_matrix(term.lines()))
    assert focused(), "the matrix lost the focus; the screen:\n" + term.dump()
    return seen


@pytest.mark.parametrize(("cols", "rows"), [(80, 24), (120, 40)])
def test_the_matrix_shows_the_stored_values(
    tmp_path: Path, isolated_home: Path, cols: int, rows: int
) -> None:
    db = tmp_path / "matrix.db"
    with FakeOpenAI() as server:
        args = [str(_catalog(tmp_path, server)), "--db", str(db), "--prefetch", "0"]
        with genaicompare(args, cols, rows, isolated_home) as term:
            term.wait(lambda lines: bool(_stored(db)) and _settled(lines), 90, "the matrix")
            shown = _read_all(term)
            stored = _stored(db)
            # A toast ("n" on the last prompt) shows above the panes, never over the matrix.
            before = _matrix(term.lines())
            term.send("n")
            lines = term.wait_text("last prompt", 10)
            head = next(i for i, line in enumerate(lines) if " family " in line)
            assert all(i < head - 3 for i, line in enumerate(lines) if "last prompt" in line)
            assert _matrix(lines) == before, term.dump()
            term.send("q")
            assert term.close() == 0

    # Every metric stored for these answers that the default rows show is on screen, with the
    # stored value as the matrix formats it.
    names = {name for _, name in stored}
    expected = {display.label(n): n for n in display.ordered(names)}
    assert {"ROUGE-L", "token F1", "BLEU", "chrF", "latency", "tokens out"} <= set(expected)
    for label_, name in expected.items():
        assert label_ in shown, f"{label_} not on screen: {sorted(shown)}"
        for i, alias in enumerate(MODELS):
            text = shown[label_][i].removeprefix("★ ")
            assert text == display.format_value(name, stored[(alias, name)]), (name, alias, shown)
    # The best ROUGE-L (the echo repeats the reference's words) is marked, the other is not.
    assert shown["ROUGE-L"][0].startswith("★") and not shown["ROUGE-L"][1].startswith("★")
    # Assertions, first: pass/fail per model.
    assert shown["contains Paris"] == ["✓", "✗"]
    assert shown["ROUGE-L >= 0.3"][0].startswith("✓") and shown["ROUGE-L >= 0.3"][1].startswith("✗")
    assert shown["state"] == ["complete", "complete"]
    assert shown["cost"] == ["unknown", "unknown"]
    # Nothing not asked for, and no bare blanks or zeros.
    assert "similarity" not in shown and "toxicity" not in shown
    assert all(cell for cells in shown.values() for cell in cells), shown
