"""The paired comparison from the real CLI against the fake server: ``run --baseline`` (summary,
``--json`` "paired", Markdown, JUnit properties), ``diff --json`` and ``plan``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.contingency_tables import mcnemar

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog

N = 10
PROMPTS = [
    {"id": f"p{i}", "prompt": f"ok answer number {i}", "assert": {"contains": "ok"}}
    for i in range(N)
]
KEYS = {"figure", "test", "n", "baseline", "candidate", "delta", "ci", "p_value", "mde"}


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as s:
        yield s


def test_run_with_a_baseline_model_prints_paired_tests(tmp_path: Path, server: FakeOpenAI) -> None:
    # "echo" repeats the prompt (contains "ok"); "tok" answers "t0 t1 t2 t3": every prompt fails.
    cat = write_catalog(
        tmp_path / "c.yaml",
        server.base_url,
        {"echo": "fake/echo", "tok": "fake/tokens?n=4"},
        PROMPTS,
    )
    db, md, junit = tmp_path / "r.db", tmp_path / "r.md", tmp_path / "r.xml"
    args = ["run", str(cat), "--db", str(db), "--baseline", "echo"]
    args += ["--markdown", str(md), "--junit", str(junit)]
    proc = run_cli([*args, "--json"], tmp_path / "home")
    assert proc.returncode == 1, proc.stderr
    reg = json.loads(proc.stdout)["regression"]
    assert reg["verdict"] == "regression"
    figures = {f["figure"]: f for f in reg["paired"]}
    assert {"assert_pass_rate", "baseline_similarity", "latency_ms"} <= set(figures)
    assert all(set(f) >= KEYS and f["model"] == "tok" for f in reg["paired"])
    a = figures["assert_pass_rate"]
    assert (a["test"], a["n"], a["baseline"], a["candidate"], a["delta"]) == (
        "mcnemar_exact",
        N,
        1.0,
        0.0,
        -1.0,
    )
    ref = mcnemar(np.array([[0, N], [0, 0]]), exact=True).pvalue
    assert a["p_value"] == pytest.approx(ref) and a["mde"] is not None
    assert {f["test"] for f in reg["paired"]} <= {"mcnemar_exact", "wilcoxon", "sign"}

    text = md.read_text(encoding="utf-8")
    assert "— regression" in text and "Paired comparison with the baseline" in text
    assert "| tok | model echo | assert\\_pass\\_rate | mcnemar\\_exact | 10 | 1 | 0 | -1 |" in text
    suite = next(
        s for s in ET.parse(junit).getroot().iter("testsuite") if s.get("name", "").endswith(".tok")
    )
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["paired.assert_pass_rate.n"] == "10"
    assert float(props["paired.assert_pass_rate.p_value"]) == pytest.approx(ref)

    summary = run_cli(args, tmp_path / "home")
    out = summary.stdout
    assert "paired: tok vs model echo" in out and "MDE 80%" in out
    assert "verdict: regression (exit 1)" in out


def test_significance_rule_and_diff_and_plan(tmp_path: Path, server: FakeOpenAI) -> None:
    db, home = str(tmp_path / "r.db"), tmp_path / "home"
    c1 = write_catalog(tmp_path / "a.yaml", server.base_url, {"m": "fake/echo"}, PROMPTS)
    assert run_cli(["run", str(c1), "--db", db], home).returncode == 0
    # Run 2: the same alias now answers tokens: every prompt fails.
    c2 = write_catalog(tmp_path / "a.yaml", server.base_url, {"m": "fake/tokens?n=4"}, PROMPTS)
    hit = run_cli(
        [
            "run",
            str(c2),
            "--db",
            db,
            "--baseline",
            "1",
            "--fail-on",
            "assert_pass_rate_drop > 5% at 95%",
        ],
        home,
    )
    assert hit.returncode == 1, hit.stdout + hit.stderr
    assert "significant at α=0.05) → FAIL" in hit.stdout
    assert "paired: m vs run 1" in hit.stdout

    diff = run_cli(["diff", "1", "2", "--db", db, "--json", "--lexical"], home)
    assert diff.returncode == 0, diff.stderr
    paired = {f["figure"]: f for f in json.loads(diff.stdout)["paired"]}
    assert paired["assert_pass_rate"]["n"] == N and paired["assert_pass_rate"]["delta"] == -1.0
    assert all(set(f) >= KEYS for f in paired.values())

    plan = run_cli(["plan", str(c2), "--db", db, "--delta", "0.1", "--json"], home)
    assert plan.returncode == 0, plan.stderr
    doc = json.loads(plan.stdout)
    # Runs 1 and 2 pair every prompt, but the outcomes never vary (all pass, then all fail): no
    # correlation can be estimated; the plan says so and uses the stored pass rate.
    assert doc["basis"][0].startswith("assumed ρ = 0 (outcomes that never varied)")
    assert doc["basis"][1] == "baseline pass rate 1.00 from runs 1 and 2 (same model, same prompt)"
    printed = run_cli(["plan", str(c2), "--db", db, "--delta", "0.1"], home)
    assert "prompts needed" in printed.stdout and "basis:" in printed.stdout
    fresh = run_cli(["plan", str(c2), "--db", str(tmp_path / "new.db"), "--delta", "0.1"], home)
    assert "no stored runs of this catalog" in fresh.stdout
    bad = run_cli(["plan", str(c2), "--db", db, "--delta", "2"], home)
    assert bad.returncode == 2 and "between 0 and 1" in bad.stderr


def test_agreeing_runs_keep_an_honest_interval(tmp_path: Path, server: FakeOpenAI) -> None:
    # Two runs where every prompt passes both times: Δ = 0, yet 10 pairs cannot show the rates
    # equal. The interval is Newcombe's paired one (±0.28 here), not a collapsed [0, 0].
    from genaicompare.gate.paired import newcombe_paired

    db, home = str(tmp_path / "r.db"), tmp_path / "home"
    # With a reference the echo answer contains: the yes/no metric `contains` is 1 everywhere.
    prompts = [{**p, "reference": "ok answer"} for p in PROMPTS]
    cat = write_catalog(tmp_path / "a.yaml", server.base_url, {"m": "fake/echo"}, prompts)
    for _ in range(2):
        assert run_cli(["run", str(cat), "--db", db], home).returncode == 0
    diff = run_cli(["diff", "1", "2", "--db", db, "--json", "--lexical"], home)
    assert diff.returncode == 0, diff.stderr
    figures = {f["figure"]: f for f in json.loads(diff.stdout)["paired"]}
    # No figure claims a zero-width interval: every metric either has a real one or none.
    assert len(figures) > 3
    zero_width = [
        k
        for k, f in figures.items()
        if f["ci"] and None not in f["ci"] and f["ci"][0] == f["ci"][1]
    ]
    assert not zero_width, {k: figures[k]["ci"] for k in zero_width}
    a = figures["assert_pass_rate"]
    assert (a["n"], a["delta"], a["p_value"]) == (N, 0.0, 1.0)
    assert a["ci"] == pytest.approx(list(newcombe_paired(N, 0, 0, 0)))
    c = figures["mean:contains"]  # a yes/no metric: a rate
    assert (c["ci"], c["mde"]) == (a["ci"], a["mde"]) and a["mde"] is not None
    for flat in ("mean:pii_count", "mean:chars", "baseline_similarity"):
        assert figures[flat]["delta"] == 0 and figures[flat]["ci"] == [None, None], flat
    # Run 2 replayed run 1 from the response cache: no latency was measured twice.
    assert "latency_ms" not in figures
    assert a["ci"][0] < -0.2 and a["ci"][1] > 0.2
    shown = run_cli(["diff", "1", "2", "--db", db, "--lexical"], home, COLUMNS="160")
    row = next(line for line in shown.stdout.splitlines() if "assert_pass_rate" in line)
    assert "[0, 0]" not in row and "[-0.278, 0.278]" in row, row
    line = next(line for line in shown.stdout.splitlines() if "mean:chars" in line)
    cells = [c.strip() for c in line.split("│")[1:-1]]
    assert cells[0] == "mean:chars" and (cells[5], cells[6]) == ("0", "–"), cells  # Δ, 95% CI


def test_a_replayed_run_does_not_compare_latency_with_itself(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    """A run answered from the response cache keeps each answer's first latency. Against the run
    it replays, every pair was one measurement twice (Δ 0 ms): the paired ``latency_ms`` figure
    and the p95 rule count only answers the run waited for; ``--no-cache`` measures them."""
    db, home = str(tmp_path / "r.db"), tmp_path / "home"
    cat = write_catalog(
        tmp_path / "a.yaml", server.base_url, {"m": "fake/echo?delay=0.01"}, PROMPTS[:6]
    )
    assert run_cli(["run", str(cat), "--db", db], home).returncode == 0
    gate = ["--baseline", "1", "--fail-on", "p95_latency_increase > 1000%", "--json"]
    replay = run_cli(["run", str(cat), "--db", db, *gate], home)
    live = run_cli(["run", str(cat), "--db", db, "--no-cache", *gate], home)
    import sqlite3

    with sqlite3.connect(db) as conn:
        cached = dict(conn.execute("SELECT run_id, sum(from_cache) FROM responses GROUP BY run_id"))
    assert cached == {1: 0, 2: 6, 3: 0}
    for proc, measured in ((replay, False), (live, True)):
        assert proc.returncode == 0, proc.stdout + proc.stderr
        reg = json.loads(proc.stdout)["regression"]
        figures = {f["figure"]: f for f in reg["paired"]}
        (rule,) = reg["rules"]
        assert rule["evaluated"] is measured, rule
        if measured:
            assert figures["latency_ms"]["n"] == 6
            assert figures["latency_ms"]["delta"] != 0
        else:
            assert "latency_ms" not in figures, figures["latency_ms"]
            assert rule["value"] is None
        assert figures["assert_pass_rate"]["n"] == 6  # the answers themselves still pair
        assert ("mean:tokens_per_s" in figures) is measured  # a timing, as a metric
        (summary,) = json.loads(proc.stdout)["models"]
        assert summary["mean_latency_ms_n"] == (6 if measured else 0)
        assert (summary["mean_latency_ms"] is None) is not measured
    shown = run_cli(["run", str(cat), "--db", db, "--baseline", "1"], home, COLUMNS="120").stdout
    row = next(line for line in shown.splitlines() if line.startswith("│ m "))
    assert row.count("– n=0") == 3, shown  # latency, TTFT, tokens/s: none measured
    assert "6 from cache, their timings left out" in shown
    for runs, n in (("2", None), ("3", 6)):
        diff = run_cli(["diff", "1", runs, "--db", db, "--json", "--lexical"], home)
        paired = {f["figure"]: f for f in json.loads(diff.stdout)["paired"]}
        assert paired.get("latency_ms", {}).get("n") == n, runs
