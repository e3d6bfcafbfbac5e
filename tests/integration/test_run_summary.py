"""``genaicompare run``'s summary, verdict, --json, --markdown and JUnit as a user gets them: every
mean and rate with n and a 95% interval ("n too small" under 5 cases), and tables that fit 80 and
120 columns whole (issues #13, #14 §2, #12 §10)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.fake_openai import FakeOpenAI
from tests.support.headless import run_cli, write_catalog
from tests.support.tables import assert_readable, merged

MODELS = {
    "alpha": "fake/echo",
    "beta-with-a-long-alias": "fake/tokens?n=5",
    "gamma": "fake/echo?x=1",
}
# "echo" answers the prompt back: contains "hello" passes, "zzz" fails; "tokens" fails all.
PROMPTS = [
    {"id": f"p{i}", "prompt": f"say hello {i}", "assert": {"contains": "zzz" if i < 2 else "hello"}}
    for i in range(6)
]


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as s:
        yield s


def _run(tmp: Path, server: FakeOpenAI, *extra: str, columns: int = 120, prompts=PROMPTS):  # type: ignore[no-untyped-def]
    cat = write_catalog(tmp / "c.yaml", server.base_url, MODELS, prompts, name="quickstart")
    return run_cli(
        ["run", str(cat), "--db", str(tmp / "r.db"), "--no-progress", *extra],
        tmp / "home",
        COLUMNS=str(columns),
    )


@pytest.mark.parametrize("columns", [80, 120])
def test_the_summary_and_verdict_fit_and_carry_intervals(
    tmp_path: Path, server: FakeOpenAI, columns: int
) -> None:
    proc = _run(tmp_path, server, columns=columns)
    assert proc.returncode == 1, proc.stderr
    text = proc.stdout
    assert_readable(text, columns)
    summary = merged(text, "quickstart — run 1", tuple(MODELS))
    assert set(summary) == set(MODELS)
    for row in summary.values():
        assert row["answers"] == "6"
        lat = row["latency ms (95% CI)"]
        assert lat.endswith(" n=6") and "[" in lat, lat
    figures = merged(text, "per model (95% intervals", tuple(MODELS))
    # 4 of 6 pass for echo, 0 of 6 for tokens: Wilson intervals (statsmodels agrees, below).
    assert figures["alpha"]["assertions pass"] == "66.7% [30.0–90.3] n=6"
    assert figures["beta-with-a-long-alias"]["assertions pass"] == "0.0% [0.0–39.0] n=6"
    # No baseline: the failure is an assertion failure, not a "regression" (#12 §10).
    assert "verdict: assertions failed (exit 1)" in text and "regression" not in text


def test_json_markdown_and_junit_carry_n_and_the_interval(
    tmp_path: Path, server: FakeOpenAI
) -> None:
    from statsmodels.stats.proportion import proportion_confint

    md, junit = tmp_path / "r.md", tmp_path / "r.xml"
    proc = _run(tmp_path, server, "--json", "--markdown", str(md), "--junit", str(junit))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    lo, hi = proportion_confint(4, 6, alpha=0.05, method="wilson")
    fig = doc["regression"]["figures"]["alpha"]["assert_pass_rate"]
    assert fig["n"] == 6 and fig["enough"] is True
    assert (fig["lower"], fig["upper"]) == pytest.approx((lo, hi), abs=1e-9)
    assert fig["value"] == doc["regression"]["models"]["alpha"]["assert_pass_rate"]  # unchanged
    for m in doc["models"]:
        assert m["mean_latency_ms_n"] == 6
        assert m["mean_latency_ms_lower"] <= m["mean_latency_ms"] <= m["mean_latency_ms_upper"]
    title = md.read_text(encoding="utf-8").splitlines()[0]
    assert title.endswith("quickstart 1 — assertions failed"), title
    assert "66.7% \\[30.0–90.3\\] n=6 \\(4/6\\)" in md.read_text(encoding="utf-8")
    props = {
        p.get("name"): p.get("value")
        for suite in ET.parse(junit).getroot()
        if suite.get("name") == "genaicompare.quickstart.alpha"
        for p in suite.iter("property")
    }
    assert props["figure.assert_pass_rate.n"] == "6"
    assert float(props["figure.assert_pass_rate.lower"]) == pytest.approx(lo, abs=1e-9)


def test_too_few_cases_say_n_too_small(tmp_path: Path, server: FakeOpenAI) -> None:
    proc = _run(tmp_path, server, "--json", prompts=PROMPTS[:3])
    doc = json.loads(proc.stdout)
    fig = doc["regression"]["figures"]["alpha"]["assert_pass_rate"]
    assert fig["n"] == 3 and fig["enough"] is False
    text = _run(tmp_path, server, columns=120, prompts=PROMPTS[:3]).stdout
    figures = merged(text, "per model (95% intervals", tuple(MODELS))
    assert figures["alpha"]["assertions pass"] == "n too small (n=3)"
    assert "33.3%" not in text
