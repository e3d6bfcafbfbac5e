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
