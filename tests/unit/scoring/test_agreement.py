"""Agreement between people (issue 14 §7): each coefficient against its reference implementation —
the ``krippendorff`` package, statsmodels' ``fleiss_kappa``, irrCAC (Fleiss, Gwet) — and Gwet's
AC1 against a hand-computed example, on fixtures with missing ratings, small n and one category."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genaicompare.scoring.agreement import (
    MIN_ITEMS,
    agreement_table,
    coefficients,
    count_table,
    position_bias,
)

krippendorff = pytest.importorskip("krippendorff")
pd = pytest.importorskip("pandas")


def _reliability(n_items: int, n_raters: int, q: int, missing: float, seed: int) -> np.ndarray:
    """raters × items codes 0..q-1 with NaN for a missing rating; raters agree more than chance."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n_items)
    data = np.where(
        rng.random((n_raters, n_items)) < 0.7, truth, rng.integers(0, q, (n_raters, n_items))
    )
    data = data.astype(float)
    data[rng.random((n_raters, n_items)) < missing] = np.nan
    return data


def _counts(data: np.ndarray, q: int) -> np.ndarray:
    keep = (~np.isnan(data)).sum(axis=0) > 0  # an item nobody rated is not an item
    d = data[:, keep]
    return np.stack([(d == k).sum(axis=0) for k in range(q)], axis=1).astype(float)


def _irr(data: np.ndarray, q: int):  # type: ignore[no-untyped-def]
    # Not in the test extra: irrCAC 0.4.4 pins scipy==1.12.0, which pulls numpy below 2 and
    # breaks the rest of the suite. `pip install --no-deps irrCAC` runs these comparisons.
    raw = pytest.importorskip(
        "irrCAC.raw", reason="irrCAC is not installed (pip install --no-deps irrCAC)"
    )
    CAC = raw.CAC

    frame = pd.DataFrame(data.T).dropna(how="all")
    return CAC(frame, categories=[float(k) for k in range(q)])


@pytest.mark.parametrize(
    ("n_items", "n_raters", "q", "missing", "seed"),
    [(40, 3, 2, 0.0, 0), (60, 4, 4, 0.3, 1), (12, 5, 3, 0.5, 2), (200, 2, 2, 0.1, 3)],
)
def test_coefficients_equal_references(
    n_items: int, n_raters: int, q: int, missing: float, seed: int
) -> None:
    data = _reliability(n_items, n_raters, q, missing, seed)
    ours = coefficients(_counts(data, q))
    assert ours["krippendorff_alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"), abs=1e-12
    )


@pytest.mark.parametrize(
    ("n_items", "n_raters", "q", "missing", "seed"),
    [(40, 3, 2, 0.0, 0), (60, 4, 4, 0.3, 1), (12, 5, 3, 0.5, 2), (200, 2, 2, 0.1, 3)],
)
def test_fleiss_and_gwet_with_missing_ratings_equal_irrcac(
    n_items: int, n_raters: int, q: int, missing: float, seed: int
) -> None:
    data = _reliability(n_items, n_raters, q, missing, seed)
    ours = coefficients(_counts(data, q))
    fleiss = _irr(data, q)
    fleiss.fleiss()
    assert ours["fleiss_kappa"] == pytest.approx(fleiss.coefficient_value, abs=1e-5)
    gwet = _irr(data, q)
    gwet.gwet()
    assert ours["gwet_ac1"] == pytest.approx(gwet.coefficient_value, abs=1e-5)


def test_fleiss_equals_statsmodels_on_complete_data() -> None:
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    data = _reliability(50, 4, 3, 0.0, 7)
    table, _cats = aggregate_raters(data.T.astype(int), n_cat=3)
    assert coefficients(table)["fleiss_kappa"] == pytest.approx(fleiss_kappa(table), abs=1e-12)


def test_gwet_ac1_hand_computed() -> None:
    # Two raters, ten items: both "yes" on 6, both "no" on 2, one each way on 2.
    # pa = 8/10; π_yes = (6·1 + 2·½)/10 = 0.7; pe = (0.7·0.3 + 0.3·0.7)/(2 − 1) = 0.42;
    # AC1 = (0.8 − 0.42)/(1 − 0.42) = 0.38/0.58.
    counts = [[2, 0]] * 6 + [[0, 2]] * 2 + [[1, 1]] * 2
    assert coefficients(counts)["gwet_ac1"] == pytest.approx(0.38 / 0.58, abs=1e-12)
    # Fleiss: pe = 0.7² + 0.3² = 0.58, κ = (0.8 − 0.58)/0.42.
    assert coefficients(counts)["fleiss_kappa"] == pytest.approx(0.22 / 0.42, abs=1e-12)


def test_intervals_n_and_too_small() -> None:
    data = _reliability(80, 3, 2, 0.2, 4)
    counts = _counts(data, 2)
    t = agreement_table(counts, rounds=300, seed=0)
    assert t["enough"] and t["n"] == int((counts.sum(axis=1) >= 2).sum())
    for name in ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1"):
        e = t[name]
        assert e["lower"] <= e["value"] <= e["upper"] and e["upper"] - e["lower"] > 0.01
    assert agreement_table(counts, rounds=300, seed=0) == t  # seeded
    small = agreement_table(counts[: MIN_ITEMS - 1], rounds=100)
    assert not small["enough"] and small["n"] <= MIN_ITEMS - 1
    # Single-rated items only: nothing is pairable, no coefficient.
    lone = agreement_table([[1, 0], [0, 1], [1, 0]], rounds=50)
    assert lone["n"] == 0 and lone["krippendorff_alpha"]["value"] is None
    empty = agreement_table(np.zeros((0, 2)), rounds=50)
    assert empty["n"] == 0 and empty["gwet_ac1"]["value"] is None


def test_one_category_everywhere() -> None:
    # Every rater said "up" on every item: α and κ are undefined (no expected disagreement);
    # AC1 is defined (Gwet's point: high agreement is not a paradox).
    counts = [[3, 0]] * 12
    c = coefficients(counts)
    assert math.isnan(c["krippendorff_alpha"]) and math.isnan(c["fleiss_kappa"])
    assert c["gwet_ac1"] == pytest.approx(1.0)
    t = agreement_table(counts, rounds=50)
    assert t["fleiss_kappa"]["value"] is None and t["gwet_ac1"]["value"] == pytest.approx(1.0)


def test_count_table_ignores_unknown_categories() -> None:
    items, counts = count_table(
        [("i1", "ann", "up"), ("i1", "bob", "down"), ("i2", "ann", "up"), ("i2", "bob", "??")],
        ("up", "down"),
    )
    assert items == ["i1", "i2"]
    assert counts.tolist() == [[1, 1], [1, 0]]


def test_position_bias_is_a_wilson_share() -> None:
    from statsmodels.stats.proportion import proportion_confint

    b = position_bias(14, 20)
    lo, hi = proportion_confint(14, 20, method="wilson")
    assert b["rate"] == 0.7 and b["lower"] == pytest.approx(lo) and b["upper"] == pytest.approx(hi)
    assert b["enough"]
    none = position_bias(0, 0)
    assert none["rate"] is None and not none["enough"]


def test_item_classes_give_the_per_item_figures() -> None:
    # One row per distinct count row with its number of items: the same estimates and n as
    # the per-item table, and the same seeded interval (the bootstrap draws over classes).
    counts = _counts(_reliability(60, 4, 3, 0.3, 7), 3)
    rows, sizes = np.unique(counts, axis=0, return_counts=True)
    per_item = agreement_table(counts, rounds=200, seed=3)
    grouped = agreement_table(rows, rounds=200, seed=3, sizes=sizes)
    assert grouped == per_item
    ref = coefficients(counts)
    for name, value in ref.items():
        assert grouped[name]["value"] == pytest.approx(value, abs=1e-12)


def test_rankdata_is_scipys_average_ranks() -> None:
    from scipy.stats import rankdata as scipy_rankdata

    from genaicompare.scoring.stats import rankdata

    rng = np.random.default_rng(5)
    for x in (rng.integers(0, 5, 200), rng.normal(size=50), [3.0], [], [1, 1, 1]):
        np.testing.assert_array_equal(rankdata(x), scipy_rankdata(x))
