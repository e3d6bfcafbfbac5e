"""The paired tests against their reference implementations (statsmodels, scipy) — test-only
oracles — on fixtures of our own, small n and all-equal cases included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.power import TTestPower

from genaicompare.gate import paired as P


@pytest.mark.parametrize(
    "table",
    [
        [[10, 0], [0, 10]],  # zero discordant pairs
        [[0, 0], [0, 0]],  # nothing at all
        [[5, 1], [0, 3]],
        [[20, 7], [1, 12]],
        [[3, 4], [4, 3]],  # b == c
        [[0, 6], [0, 0]],  # the exact floor: 6 pairs one way
        [[0, 5], [0, 0]],
        [[101, 121], [59, 33]],
        [[400, 180], [140, 300]],  # large n: log-space pmf
    ],
)
def test_mcnemar_exact_equals_statsmodels(table: list[list[int]]) -> None:
    ref = mcnemar(np.array(table), exact=True).pvalue
    assert P.mcnemar_exact(table[0][1], table[1][0]) == pytest.approx(ref, rel=1e-9, abs=1e-15)


@pytest.mark.parametrize(
    ("wins", "losses"), [(0, 1), (1, 0), (3, 3), (6, 0), (9, 2), (0, 12), (30, 18), (250, 210)]
)
def test_sign_test_equals_binomtest(wins: int, losses: int) -> None:
    ref = stats.binomtest(wins, wins + losses, 0.5).pvalue
    assert P.sign_test(wins, losses) == pytest.approx(ref, rel=1e-9)


def test_sign_test_without_pairs_is_no_evidence() -> None:
    assert P.sign_test(0, 0) == 1.0


WILCOXON_CASES = {
    "small, distinct": [0.3, -0.1, 0.25, 0.4, 0.05],
    "n=1": [0.2],
    "with zeros (permutation)": [0.0, 0.1, 0.2, -0.05, 0.0, 0.3],
    "with ties (permutation)": [0.1, 0.1, -0.1, 0.2, 0.2, 0.3, 0.3],
    "exact, 30 distinct": list(np.random.default_rng(1).normal(0.1, 1, 30)),
    "ties above 13 (normal)": [round(x, 1) for x in np.random.default_rng(2).normal(0.2, 1, 40)],
    "zeros above 13 (normal)": [0.0] * 5 + list(np.random.default_rng(3).normal(0.3, 1, 20)),
    "60 distinct (normal)": list(np.random.default_rng(4).normal(0.0, 1, 60)),
    "all one sign": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    "binary 0/±1 differences": [1, 0, 0, -1, 1, 1, 0, 1, 1, 0, 1, 1, -1, 1, 1, 0, 0],
}


@pytest.mark.parametrize("name", WILCOXON_CASES)
def test_wilcoxon_equals_scipy_defaults(name: str) -> None:
    d = WILCOXON_CASES[name]
    assert P.wilcoxon(d) == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_wilcoxon_all_equal() -> None:
    # Every difference 0: scipy says 1.0 up to 13 pairs (NaN above); no evidence either way.
    assert P.wilcoxon([0.0] * 8) == stats.wilcoxon([0.0] * 8).pvalue == 1.0
    assert P.wilcoxon([0.0] * 30) == 1.0


def test_paired_bootstrap_direct_and_against_scipy() -> None:
    rng = np.random.default_rng(7)
    base = rng.normal(0.5, 0.2, 40)
    cand = base + rng.normal(-0.05, 0.1, 40)
    lo, hi = P.paired_bootstrap(base, cand, rounds=2000, seed=0)
    # Direct: the same resampling of the pairs by hand.
    d = cand - base
    idx = np.random.default_rng(0).integers(0, 40, size=(2000, 40))
    assert (lo, hi) == tuple(np.quantile(d[idx].mean(axis=1), [0.025, 0.975]))
    # scipy's paired percentile bootstrap of the mean difference: same interval up to resampling.
    ref = stats.bootstrap(
        (base, cand),
        lambda x, y: np.mean(y - x),
        paired=True,
        method="percentile",
        n_resamples=20000,
        rng=np.random.default_rng(1),
    ).confidence_interval
    assert lo == pytest.approx(ref.low, abs=0.006) and hi == pytest.approx(ref.high, abs=0.006)
    assert lo < float(d.mean()) < hi
    # Seeded: the same data gives the same interval.
    assert P.paired_bootstrap(base, cand) == P.paired_bootstrap(base, cand)


def test_paired_rates_figure() -> None:
    pairs = [(True, True)] * 28 + [(True, False)] * 9 + [(False, True)] * 1 + [(False, False)] * 2
    f = P.paired_rates("assert_pass_rate", pairs)
    assert (f.n, f.baseline, f.candidate) == (40, 37 / 40, 29 / 40)
    assert f.delta == pytest.approx(-0.2)
    assert f.p_value == pytest.approx(mcnemar(np.array([[28, 9], [1, 2]]), exact=True).pvalue)
    assert f.ci is not None and f.ci[0] < -0.2 < f.ci[1] < 0
    assert f.mde is not None and 0 < f.mde < 0.3
    d = f.as_dict()
    assert set(d) >= {
        "figure",
        "test",
        "n",
        "baseline",
        "candidate",
        "delta",
        "ci",
        "p_value",
        "mde",
    }
    assert d["test"] == "mcnemar_exact"


def test_newcombe_paired_matches_contingencytables() -> None:
    # Cavo et al. (2012), Fagerland, Lydersen & Laake's worked example: 59 pass both times,
    # 6 only the first, 16 only the second, 80 neither. contingencytables' own test reads
    # "estimate = -0.0621 (95% CI -0.1186 to -0.0046)".
    lo, hi = P.newcombe_paired(59, 6, 16, 80)
    assert (round(lo, 4), round(hi, 4)) == (-0.1186, -0.0046)
    f = P.paired_rates(
        "assert_pass_rate",
        [(True, True)] * 59 + [(False, True)] * 6 + [(True, False)] * 16 + [(False, False)] * 80,
    )
    assert f.delta == pytest.approx(-10 / 161) and f.ci == (lo, hi)
    # Symmetric in the sides, and never outside [-1, 1].
    assert P.newcombe_paired(59, 16, 6, 80) == pytest.approx((-hi, -lo))
    lo3, hi3 = P.newcombe_paired(0, 3, 0, 0)  # 3 of 3 improved: Δ = 1, the interval stops at 1
    assert hi3 == 1.0 and 0.1 < lo3 < 0.5
    assert P.newcombe_paired(0, 0, 3, 0) == pytest.approx((-hi3, -lo3))
    assert all(math.isnan(x) for x in P.newcombe_paired(0, 0, 0, 0))


def test_small_n_never_claims() -> None:
    # 3 prompts, every one worse: nothing can be significant, the MDE says so (None).
    f = P.paired_rates("assert_pass_rate", [(True, False)] * 3)
    assert f.p_value == pytest.approx(0.25) and f.mde is None
    m = P.paired_means("mean:rougeL", [(0.9, 0.1), (0.8, 0.2)])
    assert m.p_value == pytest.approx(stats.wilcoxon([-0.8, -0.6]).pvalue) and m.mde is None
    v = P.paired_votes("judge_pairwise", 1, 0, 0)
    assert v.p_value == 1.0 and v.mde is None


def test_all_equal_runs() -> None:
    f = P.paired_rates("assert_pass_rate", [(True, True)] * 20)
    assert (f.delta, f.p_value) == (0.0, 1.0)
    # 20 agreeing pairs do not make the rates equal: Newcombe's interval keeps its width where
    # a bootstrap of the differences collapses to [0, 0].
    assert f.ci is not None and f.ci[0] == pytest.approx(-f.ci[1]) and 0.1 < f.ci[1] < 0.2
    wider = P.paired_rates("assert_pass_rate", [(True, True)] * 5).ci
    assert wider is not None and wider[1] > f.ci[1]
    # No discordant pair observed: the MDE is not zero — every discordant pair would have to go
    # one way (ψ = δ), and never below the exact test's floor of 6 pairs.
    assert f.mde is not None and f.mde >= 6 / 20
    assert P.n_for_paired_rates(f.mde, f.mde) == pytest.approx(20, rel=1e-6)
    m = P.paired_means("latency_ms", [(5.0, 5.0)] * 10)
    assert (m.delta, m.p_value) == (0.0, 1.0)


def test_paired_votes_equals_binomtest() -> None:
    v = P.paired_votes("judge_pairwise", 14, 4, 2)
    assert v.n == 18 and v.p_value == pytest.approx(stats.binomtest(14, 18).pvalue)
    ci = stats.binomtest(14, 18).proportion_ci(method="wilson")
    assert v.ci == pytest.approx((2 * ci.low - 1, 2 * ci.high - 1))


# ------------------------------------------------------------------------- margins (Tango)


@pytest.mark.parametrize(
    ("b", "c", "n", "margin"),
    [(9, 1, 40, 0.05), (3, 3, 30, 0.05), (0, 0, 20, 0.1), (12, 2, 50, 0.1)],
)
def test_tango_restricted_mle_is_the_constrained_maximum(
    b: int, c: int, n: int, margin: float
) -> None:
    a = n - b - c

    def nll(p: float) -> float:
        return -(
            b * math.log(p + margin)
            + (c * math.log(p) if c else 0)
            + a * math.log(1 - 2 * p - margin)
        )

    res = optimize.minimize_scalar(
        nll, bounds=(1e-12, (1 - margin) / 2 - 1e-12), method="bounded", options={"xatol": 1e-12}
    )
    assert P.tango_restricted_p21(b, c, n, margin) == pytest.approx(res.x, abs=1e-6)


def test_tango_at_margin_zero_is_mcnemar_z() -> None:
    # δ0 = 0: Tango's statistic is McNemar's (b − c)/√(b + c).
    b, c, n = 9, 2, 40
    p21 = P.tango_restricted_p21(b, c, n, 0.0)
    assert p21 == pytest.approx((b + c) / (2 * n))


def test_margin_test_holds_its_level() -> None:
    # Simulated at the boundary (drop exactly 5 points): rejections ≲ 5%.
    rng = np.random.default_rng(0)
    n, p12, p21 = 60, 0.1, 0.05
    tables = rng.multinomial(n, [p12, p21, 1 - p12 - p21], size=2000)
    rejected = sum(P.drop_beyond_margin(int(t[0]), int(t[1]), n, 0.05)[0] < 0.05 for t in tables)
    assert rejected / 2000 < 0.07


# ------------------------------------------------------------------------------ power / sizes


def test_n_for_mean_matches_statsmodels_t_power() -> None:
    for delta, sd in [(0.05, 0.1), (0.1, 0.3), (0.2, 0.25)]:
        ref = TTestPower().solve_power(effect_size=delta / sd, alpha=0.05, power=0.8)
        assert P.n_for_mean(delta, sd) == pytest.approx(ref, abs=1.0)
        n = math.ceil(P.n_for_mean(delta, sd))
        # The MDE is the inverse: n pairs detect δ, one fewer does not.
        assert P.mde_mean(n, sd) <= delta < P.mde_mean(n - 1, sd)


def test_n_for_paired_rates_is_connors_formula_and_has_its_power() -> None:
    delta, psi = 0.1, 0.2
    za, zb = stats.norm.ppf(0.975), stats.norm.ppf(0.8)
    analytic = (za * math.sqrt(psi) + zb * math.sqrt(psi - delta**2)) ** 2 / delta**2
    assert P.n_for_paired_rates(delta, psi) == pytest.approx(analytic)
    n = math.ceil(analytic)
    # Simulation: McNemar's exact test at that n rejects ≈ 80% of the time (exact: a bit less).
    rng = np.random.default_rng(0)
    p12, p21 = (psi + delta) / 2, (psi - delta) / 2
    tables = rng.multinomial(n, [p12, p21, 1 - psi], size=3000)
    power = np.mean([P.mcnemar_exact(int(t[0]), int(t[1])) < 0.05 for t in tables])
    assert 0.72 < power < 0.86
    assert P.mde_paired_rates(n, psi) == pytest.approx(delta, abs=0.005)


def test_n_for_sign_has_its_power() -> None:
    n = math.ceil(P.n_for_sign(0.15))
    rng = np.random.default_rng(0)
    wins = rng.binomial(n, 0.65, size=4000)
    power = np.mean([P.sign_test(int(w), n - int(w)) < 0.05 for w in wins])
    assert 0.72 < power < 0.86
    assert P.mde_sign(n) == pytest.approx(0.15, abs=0.01)


def test_discordance_from_correlation() -> None:
    assert P.discordance(0.8, 0.8, 1.0) == pytest.approx(0.0)
    assert P.discordance(0.5, 0.5, 0.0) == pytest.approx(0.5)
    # Simulated pairs with that correlation have that discordant share.
    rng = np.random.default_rng(0)
    base = rng.random(200_000) < 0.7
    cand = np.where(rng.random(200_000) < 0.6, base, rng.random(200_000) < 0.7)
    rho = float(np.corrcoef(base, cand)[0, 1])
    assert P.discordance(0.7, float(cand.mean()), rho) == pytest.approx(
        np.mean(base != cand), abs=0.005
    )


@pytest.mark.parametrize("cells", [1, 7 * 40, 2000 * 40 - 1, 1 << 21])
def test_paired_bootstrap_in_blocks_is_the_one_resampling(
    monkeypatch: pytest.MonkeyPatch, cells: int
) -> None:
    """Drawn a block of rounds at a time (bounded memory), the interval is bit for bit the one
    of every round drawn at once."""
    rng = np.random.default_rng(3)
    base = rng.normal(0.5, 0.2, 40)
    cand = base + rng.normal(0.02, 0.1, 40)
    d = cand - base
    idx = np.random.default_rng(0).integers(0, 40, size=(2000, 40))
    at_once = tuple(np.quantile(d[idx].mean(axis=1), [0.025, 0.975]))
    monkeypatch.setattr(P, "BOOTSTRAP_CELLS", cells)
    assert P.paired_bootstrap(base, cand) == at_once


def test_paired_bootstrap_memory_stays_bounded() -> None:
    """200,000 pairs (a diff of two large runs): the resampling holds blocks, not 2,000 × n
    indices (3.2 GB of indices and values before)."""
    import tracemalloc

    rng = np.random.default_rng(5)
    base = rng.random(200_000)
    cand = base + rng.normal(0.0, 0.1, 200_000)
    tracemalloc.start()
    try:
        lo, hi = P.paired_bootstrap(base, cand)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lo < float(np.mean(cand - base)) < hi
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MB"


def test_one_pair_claims_no_interval() -> None:
    # One pair has no spread to resample: no interval (shown "–"), not [Δ, Δ].
    assert all(math.isnan(x) for x in P.paired_bootstrap([0.2], [0.9]))
    m = P.paired_means("mean:rougeL", [(0.2, 0.9)])
    assert m.delta == pytest.approx(0.7) and m.as_dict()["ci"] == [None, None]


def test_a_metric_that_never_varies_claims_no_zero_width_interval() -> None:
    # A yes/no metric (contains, exact_match) compared as a mean is a rate: Newcombe's
    # interval, with its width when every pair agrees.
    same = P.paired_means("mean:contains", [(1.0, 1.0)] * 20, rate=True)
    assert same.delta == 0.0 and same.ci == P.newcombe_paired(20, 0, 0, 0)
    # …and the MDE of a rate, as assert_pass_rate's (no spread of differences needed).
    rate_mde = P.paired_rates("x", [(True, True)] * 20).mde
    assert rate_mde is not None and same.mde == rate_mde
    mixed = [(1.0, 1.0)] * 59 + [(0.0, 1.0)] * 6 + [(1.0, 0.0)] * 16 + [(0.0, 0.0)] * 80
    assert P.paired_means("mean:exact_match", mixed, rate=True).ci == P.newcombe_paired(
        59, 6, 16, 80
    )
    # A count or a similarity that happens to be 0 or 1 everywhere is not a rate.
    assert P.paired_means("mean:pii_count", [(0.0, 0.0)] * 20).as_dict()["ci"] == [None, None]
    # Any other metric with every difference equal: no interval, as there is no MDE.
    flat = P.paired_means("mean:rougeL", [(0.4, 0.4), (0.7, 0.7)] * 10)
    assert flat.delta == 0.0 and flat.mde is None
    assert flat.as_dict()["ci"] == [None, None]
    # Values that vary keep the bootstrap interval.
    varied = [(0.1 * i, 0.1 * i + 0.05 * (i % 3)) for i in range(10)]
    assert P.paired_means("mean:rougeL", varied).ci == P.paired_bootstrap(
        [x for x, _ in varied], [y for _, y in varied]
    )
