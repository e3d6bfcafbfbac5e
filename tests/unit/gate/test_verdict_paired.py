"""decide() with a baseline: the paired figures, significance-qualified rules, the verdict's label
and the reports (console, Markdown, JUnit properties, JSON), checked against statsmodels/scipy."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.gate.reports import junit_xml, markdown, print_verdict, verdict_json
from genaicompare.gate.rules import RuleError, parse_rule, parse_rules
from genaicompare.gate.verdict import EXIT_PASS, EXIT_REGRESSION, Verdict, decide
from genaicompare.store import Store
from tests.unit.gate.test_verdict import Run

N = 20


def catalog() -> Catalog:
    return Catalog(
        name="c",
        models=[{"id": "base", "model": "openai/b"}, {"id": "cand", "model": "openai/c"}],
        prompts=[
            {"id": f"p{i}", "prompt": f"say ok {i}", "assert": {"contains": "ok"}} for i in range(N)
        ],
    )


def rec(pid: str, alias: str, text: str, rid: int, latency: float) -> ResponseRecord:
    return ResponseRecord(
        id=rid,
        prompt_id=pid,
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": pid}],
        text=text,
        latency_ms=latency,
        state=FinishState.complete,
    )


def run(failing: int) -> Run:
    """The baseline passes everything; the candidate fails ``failing`` prompts, is slower."""
    records, metrics = [], {}
    for i in range(N):
        records.append(rec(f"p{i}", "base", f"ok {i}", 2 * i + 1, 100.0 + i))
        text = f"no {i}" if i < failing else f"ok {i}"
        records.append(rec(f"p{i}", "cand", text, 2 * i + 2, 130.0 + 2 * i))
        metrics[2 * i + 1] = {"rougeL": {"value": 0.5 + i / 100}}
        metrics[2 * i + 2] = {"rougeL": {"value": 0.45 + i / 90}}
    return Run(catalog(), records, metrics)


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with Store(tmp_path / "v.db") as s:
        yield s


def figures(v: Verdict) -> dict[str, dict]:
    return {f["figure"]: f for f in verdict_json(v)["paired"]}


def test_paired_figures_equal_the_reference_libraries(store: Store) -> None:
    v = decide(run(8), store, [], None, "base")
    f = figures(v)
    a = f["assert_pass_rate"]
    assert (a["test"], a["n"], a["baseline"], a["candidate"]) == ("mcnemar_exact", N, 1.0, 0.6)
    assert a["delta"] == pytest.approx(-0.4)
    assert a["p_value"] == pytest.approx(
        mcnemar(np.array([[12, 8], [0, 0]]), exact=True).pvalue, rel=1e-6
    )
    assert a["ci"][0] < -0.4 < a["ci"][1] and a["mde"] > 0
    r = f["mean:rougeL"]
    base = [0.5 + i / 100 for i in range(N)]
    cand = [0.45 + i / 90 for i in range(N)]
    assert r["test"] == "wilcoxon" and r["n"] == N
    assert r["p_value"] == pytest.approx(
        stats.wilcoxon(np.array(cand) - np.array(base)).pvalue, rel=1e-5
    )
    lat = f["latency_ms"]
    assert lat["delta"] == pytest.approx(np.mean([30.0 + i for i in range(N)]))
    assert lat["p_value"] == pytest.approx(stats.wilcoxon([30.0 + i for i in range(N)]).pvalue)
    assert f["baseline_similarity"]["baseline"] == 1.0
    assert {x["model"] for x in f.values()} == {"cand"}
    assert {x["against"] for x in f.values()} == {"model base"}


def test_a_significant_drop_fails(store: Store) -> None:
    rules = parse_rules(["assert_pass_rate_drop > 5% at 95%"])
    v = decide(run(8), store, rules, None, "base")
    (r,) = v.rules
    # 8 of 20 pass → fail, none the other way: Tango's test rejects "the drop is ≤ 5 points".
    assert r.triggered and r.p_value is not None and r.p_value < 0.05 and r.test == "tango"
    assert (v.exit_code, v.label) == (EXIT_REGRESSION, "regression")
    assert "significant at α=0.05" in r.describe()


def test_a_drop_the_data_cannot_support_does_not_fail(store: Store) -> None:
    # 2 of 20 prompts worse: a 10-point drop, over the 5-point rule, but not significant.
    raw = decide(run(2), store, parse_rules(["assert_pass_rate_drop > 5%"]), None, "base")
    assert raw.rules[0].triggered and raw.rules[0].value == pytest.approx(10)
    v = decide(run(2), store, parse_rules(["assert_pass_rate_drop > 5% at 95%"]), None, "base")
    (r,) = v.rules
    assert not r.triggered and r.evaluated and "not significant" in r.describe()
    assert v.exit_code == EXIT_PASS


def test_margin_zero_is_mcnemar_one_sided(store: Store) -> None:
    v = decide(run(8), store, parse_rules(["assert_pass_rate_drop > 0 at 95%"]), None, "base")
    (r,) = v.rules
    assert r.test == "mcnemar_exact"
    assert r.p_value == pytest.approx(stats.binomtest(8, 8, 0.5, alternative="greater").pvalue)


def test_pass_rate_at_confidence_is_the_exact_binomial(store: Store) -> None:
    v = decide(run(4), store, parse_rules(["assert_pass_rate < 0.95 at 95%"]), None, "base")
    (r,) = v.rules
    ref = stats.binomtest(16, 20, 0.95, alternative="less").pvalue
    assert r.p_value == pytest.approx(ref) and r.triggered == (ref < 0.05)


def test_a_drop_rule_without_baseline_is_not_evaluated(store: Store) -> None:
    v = decide(run(8), store, parse_rules(["assert_pass_rate_drop > 5% at 95%"]), None, None)
    assert not v.rules[0].evaluated and "not evaluated" in v.rules[0].describe()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cost_increase > 20% at 95%", "has no significance test"),
        ("assert_pass_rate > 0.9 at 95%", "tested in one direction only"),
        ("assert_pass_rate_drop > 5 at 40%", "between 50% and 100%"),
    ],
)
def test_untestable_qualifiers_are_refused(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rule(text)


def test_rules_without_qualifier_keep_their_meaning() -> None:
    r = parse_rule("thumbs_up_drop > 10")
    assert r.confidence is None and r.holds(11) and r.text == "thumbs_up_drop > 10"
    q = parse_rule("thumbs_up_drop > 10 at 90%")
    assert q.confidence == pytest.approx(0.9) and q.text == "thumbs_up_drop > 10 at 90%"


def test_reports_carry_every_paired_field(store: Store) -> None:
    v = decide(run(8), store, [], None, "base")
    buf = io.StringIO()
    print_verdict(v, Console(file=buf, width=160, force_terminal=False))
    text = buf.getvalue()
    assert "paired: cand vs model base" in text and "mcnemar_exact" in text and "MDE 80%" in text
    assert "verdict: assertions failed (exit 1)" in text  # only the default assertion rule failed
    md = markdown("c 1", v.label, v.stats, v.rules, v.cases, paired=v.paired_list)
    assert "## ❌ genaicompare: c 1 — assertions failed" in md
    assert (
        "| cand | model base | assert\\_pass\\_rate | mcnemar\\_exact | 20 | 1 | 0.6 | -0.4 |" in md
    )
    root = ET.fromstring(junit_xml("s", v.cases, v.rules, v.paired_list))
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "s.cand")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["paired.assert_pass_rate.test"] == "mcnemar_exact"
    assert props["paired.assert_pass_rate.n"] == "20"
    assert {"p_value", "mde", "ci_low", "ci_high", "delta"} <= {
        k.rsplit(".", 1)[1] for k in props if k.startswith("paired.assert_pass_rate.")
    }
    assert suite[0].tag == "properties"  # JUnit's schema: properties before the test cases
    json.dumps(verdict_json(v))
