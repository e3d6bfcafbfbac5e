"""The interval and agreement formulas against independent references (statsmodels, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genaicompare.scoring.stats import auc, cohen_kappa, newcombe_difference, wilson_interval


@pytest.mark.parametrize(("k", "n"), [(0, 1), (1, 1), (3, 10), (50, 100), (999, 1000), (7, 13)])
def test_wilson_matches_statsmodels(k: int, n: int) -> None:
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = wilson_interval([k], [n])
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert lo[0] == pytest.approx(ref_lo, abs=1e-12)
    assert hi[0] == pytest.approx(ref_hi, abs=1e-12)


def test_wilson_hand_value_and_empty() -> None:
    # 8/10 by hand: centre (0.8 + z²/20)/(1 + z²/10), half z·√(0.016 + z²/400)/(1 + z²/10).
    z = 1.959963984540054
    centre = (0.8 + z * z / 20) / (1 + z * z / 10)
    half = z * math.sqrt(0.8 * 0.2 / 10 + z * z / 400) / (1 + z * z / 10)
    lo, hi = wilson_interval([8, 0], [10, 0])
    assert lo[0] == pytest.approx(centre - half) and hi[0] == pytest.approx(centre + half)
    assert math.isnan(lo[1]) and math.isnan(hi[1])


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"), [(30, 50, 20, 50), (5, 9, 1, 12), (10, 10, 0, 7)]
)
def test_newcombe_matches_statsmodels(k1: int, n1: int, k2: int, n2: int) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    d, lo, hi = newcombe_difference(k1, n1, k2, n2)
    ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert d == pytest.approx(k1 / n1 - k2 / n2)
    assert (lo, hi) == pytest.approx(ref, abs=1e-10)


def test_cohen_kappa_matches_statsmodels() -> None:
    from statsmodels.stats.inter_rater import cohens_kappa

    for table in ([[20, 5], [10, 15]], [[3, 1, 0], [2, 7, 1], [0, 1, 5]], [[10, 0], [0, 0]]):
        ours = cohen_kappa(table)
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = cohens_kappa(np.asarray(table)).kappa
        if math.isnan(ours):  # one category only: undefined for both
            assert math.isnan(ref)
        else:
            assert ours == pytest.approx(ref)
    # Hand value: po = 35/50, pe = (25·30 + 25·20)/2500 = 0.5 → κ = 0.4.
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_auc_is_mann_whitney_u_over_n1_n2() -> None:
    from scipy.stats import mannwhitneyu

    rng = np.random.default_rng(3)
    pos, neg = rng.normal(1, 1, 40).round(1), rng.normal(0, 1, 55).round(1)  # with ties
    u = mannwhitneyu(pos, neg, alternative="two-sided").statistic
    assert auc(pos, neg) == pytest.approx(u / (40 * 55))
    assert auc([1, 2], [0, 0.5]) == 1.0 and auc([0], [1]) == 0.0


# -- intervals for κ, AUC and means --------------------------------------------------------------
@pytest.mark.parametrize(
    "table", [[[20, 5], [10, 15]], [[3, 1, 0], [2, 7, 1], [0, 1, 5]], [[40, 9], [6, 30]]]
)
def test_kappa_interval_matches_statsmodels(table: list[list[int]]) -> None:
    from statsmodels.stats.inter_rater import cohens_kappa

    from genaicompare.scoring.stats import kappa_interval

    ref = cohens_kappa(np.asarray(table))
    k, lo, hi = kappa_interval(table)
    assert k == pytest.approx(ref.kappa)
    assert (lo, hi) == pytest.approx((ref.kappa_low, ref.kappa_upp), abs=1e-12)


def _delong_by_hand(pos: np.ndarray, neg: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) written out: ψ over every pair, placement values, their variances."""
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    var = v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size
    return float(psi.mean()), float(var)


def test_auc_interval_is_delong() -> None:
    from genaicompare.scoring.stats import Z95, auc_interval

    rng = np.random.default_rng(5)
    pos, neg = rng.normal(0.8, 1, 30).round(1), rng.normal(0, 1, 45).round(1)  # with ties
    a, lo, hi = auc_interval(pos, neg)
    ref_a, ref_var = _delong_by_hand(pos, neg)
    assert a == pytest.approx(ref_a) and a == pytest.approx(auc(pos, neg))
    half = Z95 * math.sqrt(ref_var)
    assert (lo, hi) == pytest.approx((ref_a - half, ref_a + half), abs=1e-12)


def test_auc_interval_at_perfect_separation_is_not_a_point() -> None:
    from genaicompare.scoring.stats import auc_interval

    a, lo, hi = auc_interval([0.9, 0.8, 0.7], [0.1, 0.2])
    ref_lo, ref_hi = __import__(
        "statsmodels.stats.proportion", fromlist=["proportion_confint"]
    ).proportion_confint(2, 2, method="wilson")
    assert a == 1.0 and (lo, hi) == pytest.approx((ref_lo, ref_hi))
    assert lo < 0.5  # two answers of one kind prove nothing


def test_mean_interval_bootstrap_agrees_with_scipy_and_normal_above_the_cap() -> None:
    from scipy.stats import bootstrap
    from statsmodels.stats.weightstats import DescrStatsW

    from genaicompare.scoring.stats import BOOTSTRAP_MAX_N, mean_interval

    rng = np.random.default_rng(2)
    small = rng.gamma(2.0, 1.0, 60)
    m, lo, hi = mean_interval(small)
    ref = bootstrap(
        (small,), np.mean, n_resamples=20000, method="percentile", random_state=1
    ).confidence_interval
    assert m == pytest.approx(small.mean())
    width = ref.high - ref.low
    assert lo == pytest.approx(ref.low, abs=0.04 * width)  # Monte-Carlo error of 1,000 rounds
    assert hi == pytest.approx(ref.high, abs=0.04 * width)
    big = rng.normal(5, 2, BOOTSTRAP_MAX_N + 1)
    m, lo, hi = mean_interval(big)
    assert (lo, hi) == pytest.approx(DescrStatsW(big).zconfint_mean(alpha=0.05), abs=1e-12)
    assert all(math.isnan(x) for x in mean_interval([3.0])[1:])
