"""P1 / P7: launch → first paint of the real CLI in a pseudo-terminal, and a 50,000-prompt catalog.

    python benchmarks/bench_launch.py [--runs 5] [--json]

Each case spawns a process in a fresh pty (140 × 40) and times from spawn until a marker text has
been written (Textual writes a frame at once, so a marker arriving is that frame's paint). The
app's first frame is its loading screen ("Loading <file> …"); the main screen (its header's
"N/M rated") follows once settings and catalog are read. Rows:
  1. a trivial Textual app (Static + Footer): the floor on this machine;
  2. ``genaicompare sample_catalogs/quickstart.yaml``, first paint (goal ≤ 0.3 s and ≤ 1.5× the
     trivial app) and main screen;
  3. ``genaicompare`` on a generated 50,000-prompt JSONL catalog, first paint and main screen
     (goal: open ≤ 2 s).
Median of ``--runs``; each run uses a new GENAICOMPARE_HOME and database (cold catalog cache).
The cases take turns within a run, so background load on the machine hits them alike. Wall
times move with the load on a shared machine; the ``cpu s`` column (Linux: the app process's own
CPU time when the marker arrived, children not counted) moves much less. The package is
byte-compiled first, as ``pip install`` leaves it (a checkout run with PYTHONDONTWRITEBYTECODE
would compile every module on every start, which no installed copy does).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parent.parent
TRIVIAL = """
from textual.app import App
from textual.widgets import Footer, Static

class Trivial(App):
    BINDINGS = [("q", "quit", "Quit")]
    def compose(self):
        yield Static("trivial-ready")
        yield Footer()

Trivial().run()
"""


def cpu_seconds(pid: int) -> float:
    """The process's own user + system CPU seconds (NaN where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paints(argv: list[str], markers: list[bytes], env: dict[str, str]) -> list[tuple[float, float]]:
    """(seconds from spawn, the process's CPU seconds) when each marker (in order) was written."""
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(40, 140), timeout=60)
    out = []
    try:
        for marker in markers:
            child.expect(marker)
            out.append((time.perf_counter() - start, cpu_seconds(child.pid)))
        child.send("q")
        child.expect(pexpect.EOF, timeout=30)
    finally:
        child.close(force=True)
    return out


def write_big_catalog(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "name": "big",
                    "models": [
                        {
                            "id": "a",
                            "model": "openai/fake/echo",
                            "api_base": "http://127.0.0.1:9/v1",
                        },
                        {
                            "id": "b",
                            "model": "openai/fake/tokens",
                            "api_base": "http://127.0.0.1:9/v1",
                        },
                    ],
                }
            )
            + "\n"
        )
        for i in range(n):
            out.write(
                json.dumps(
                    {
                        "id": f"p{i:05d}",
                        "prompt": f"Question number {i}?",
                        "tags": ["bulk", f"g{i % 7}"],
                    }
                )
                + "\n"
            )


def measure(runs: int) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        trivial = tmp / "trivial.py"
        trivial.write_text(TRIVIAL, encoding="utf-8")
        big = tmp / "big.jsonl"
        write_big_catalog(big, 50_000)
        quickstart = ROOT / "sample_catalogs" / "quickstart.yaml"
        app = [sys.executable, "-m", "genaicompare"]
        # The header's "0/10 rated" (the footer's labels are shortened at some widths).
        loaded = b" rated"
        # (name of each marker's row, argv, markers)
        cases: list[tuple[list[str], list[str], list[bytes]]] = [
            (["trivial Textual app"], [sys.executable, str(trivial)], [b"trivial-ready"]),
            (
                ["quickstart: first paint", "quickstart: main screen"],
                [*app, str(quickstart)],
                [b"Loading quickstart.yaml", loaded],
            ),
            (
                ["50,000 prompts: first paint", "50,000 prompts: main screen"],
                [*app, str(big)],
                [b"Loading big.jsonl", loaded],
            ),
        ]
        compileall.compile_dir(str(ROOT / "genaicompare"), quiet=1)
        times: dict[str, list[float]] = {name: [] for names, _, _ in cases for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        for i in range(runs):
            for n, (names, argv, markers) in enumerate(cases):
                home = tmp / f"home-{n}-{i}"
                env = dict(os.environ, GENAICOMPARE_HOME=str(home), TERM="xterm-256color")
                if n:
                    argv = [*argv, "--db", str(home / "bench.db")]
                for name, (seconds, used) in zip(names, paints(argv, markers, env), strict=True):
                    times[name].append(seconds)
                    cpu[name].append(used)
        for name, values in times.items():
            rows.append(
                {
                    "case": name,
                    "median_s": statistics.median(values),
                    "min_s": min(values),
                    "cpu_s": statistics.median(cpu[name]),
                    "runs": runs,
                }
            )
    base = float(rows[0]["median_s"])  # type: ignore[arg-type]
    for row in rows:
        row["ratio_vs_trivial"] = float(row["median_s"]) / base  # type: ignore[arg-type]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.runs)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"{'case':38} {'median s':>9} {'min s':>7} {'× trivial':>10} {'cpu s':>6}")
    for row in rows:
        print(
            f"{row['case']:38} {row['median_s']:9.3f} {row['min_s']:7.3f} "
            f"{row['ratio_vs_trivial']:10.2f} {row['cpu_s']:6.2f}"
        )
    print("goals: quickstart first paint ≤ 0.3 s and ≤ 1.5× trivial; 50,000 prompts open ≤ 2 s")


if __name__ == "__main__":
    main()
