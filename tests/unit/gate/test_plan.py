"""``plan``'s sizes: equal to the analytic formulas, and with the promised power in simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from genaicompare.commands.plan import icc, make_plan, phi
from genaicompare.gate import paired as P


def test_no_stored_runs_uses_stated_assumptions() -> None:
    doc = make_plan(40, 40, {"source": None, "passes": [], "metrics": {}, "samples": []}, 0.1)
    assert doc["rho"] == 0.0 and doc["baseline_pass_rate"] == 0.5
    assert "no stored runs" in doc["basis"][0]
    # Connor's formula with ψ = p1 + p2 − 2 p1 p2 (independent outcomes), by hand.
    psi = 0.5 + 0.4 - 2 * 0.5 * 0.4
    za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    n = (za * math.sqrt(psi) + zb * math.sqrt(psi - 0.01)) ** 2 / 0.01
    assert doc["assert_pass_rate"]["prompts_needed"] == math.ceil(n)


def test_stored_pairs_set_the_correlation_and_the_size_has_its_power() -> None:
    rng = np.random.default_rng(0)
    base = rng.random(200) < 0.8
    cand = np.where(rng.random(200) < 0.7, base, rng.random(200) < 0.8)
    passes = list(zip(base.tolist(), cand.tolist(), strict=True))
    data = {"source": "runs 1 and 2", "passes": passes, "metrics": {}, "samples": []}
    doc = make_plan(50, 50, data, 0.1)
    assert doc["rho"] == pytest.approx(np.corrcoef(base, cand)[0, 1])
    assert "from runs 1 and 2" in doc["basis"][0]
    n = doc["assert_pass_rate"]["prompts_needed"]
    # Simulation: pairs with that discordance and a 10-point drop; McNemar rejects ≈ 80%.
    psi, d = doc["discordant_share"], 0.1
    tables = rng.multinomial(n, [(psi + d) / 2, (psi - d) / 2, 1 - psi], size=3000)
    power = np.mean([P.mcnemar_exact(int(t[0]), int(t[1])) < 0.05 for t in tables])
    assert 0.72 < power < 0.88
    # A positive correlation needs fewer prompts than the independence assumption.
    none = make_plan(50, 50, {"passes": [], "metrics": {}, "samples": []}, 0.1)
    assert n < none["assert_pass_rate"]["prompts_needed"]


def test_metric_size_equals_the_formula_and_simulates() -> None:
    rng = np.random.default_rng(1)
    b = rng.normal(0.5, 0.1, 60)
    c = b + rng.normal(0, 0.08, 60)
    data = {"source": "x", "passes": [], "metrics": {"rougeL": list(zip(b, c, strict=True))}}
    m = make_plan(30, 0, data, 0.05)["metrics"]["mean:rougeL"]
    sd = float(np.std(c - b, ddof=1))
    assert m["sd_of_differences"] == pytest.approx(sd)
    n = m["prompts_needed"]
    assert n == math.ceil(((1.959964 + 0.841621) * sd / 0.05) ** 2 + 1.959964**2 / 2)
    sims = rng.normal(0.05, sd, size=(3000, n))
    power = np.mean([P.wilcoxon(row) < 0.05 for row in sims[:800]])
    assert 0.7 < power < 0.9


def test_repeat_and_helpers() -> None:
    assert phi([(True, True), (False, False), (True, False)]) == pytest.approx(0.5)
    assert phi([(True, True)] * 3) is None
    # Samples that never differ within a prompt: ICC 1, --repeat cannot replace prompts.
    assert icc([[1, 1], [0, 0], [1, 1]]) == pytest.approx(1.0)
    doc = make_plan(10, 10, {"passes": [], "metrics": {}, "samples": [[1, 1], [0, 0]]}, 0.1)
    assert doc["repeat"]["samples_needed"] is None and "add prompts" in doc["repeat"]["note"]
    varied = [[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0]] * 5
    doc = make_plan(10, 10, {"passes": [], "metrics": {}, "samples": varied}, 0.2)
    assert doc["repeat"]["icc"] == 0.0 and doc["repeat"]["samples_needed"] >= 2
