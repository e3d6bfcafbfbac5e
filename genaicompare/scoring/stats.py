"""The interval and agreement formulas, pure over numpy arrays (each tested against an
independent reference: statsmodels, scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

Z95 = 1.959963984540054
FloatArray = NDArray[np.float64]


def wilson_interval(successes: Any, n: Any, z: float = Z95) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial proportion (vectorised; NaN where n = 0)."""
    k = np.asarray(successes, dtype=np.float64)
    nn = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / nn
        z2 = z * z
        denom = 1.0 + z2 / nn
        centre = (p + z2 / (2.0 * nn)) / denom
        half = z * np.sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom
        lo = np.where(nn > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(nn > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def newcombe_difference(
    k1: float, n1: float, k2: float, n2: float, z: float = Z95
) -> tuple[float, float, float]:
    """p1 − p2 with Newcombe's hybrid score interval (method 10, built from Wilson intervals)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan, math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    (l1,), (u1,) = wilson_interval([k1], [n1], z)
    (l2,), (u2,) = wilson_interval([k2], [n2], z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def cohen_kappa(table: Any) -> float:
    """Cohen's κ from a square confusion table (rows: rater 1, columns: rater 2)."""
    t = np.asarray(table, dtype=np.float64)
    n = t.sum()
    if n <= 0:
        return math.nan
    po = np.trace(t) / n
    pe = float((t.sum(axis=1) @ t.sum(axis=0)) / (n * n))
    if pe >= 1.0:
        # Both raters used a single, identical category: agreement is total but κ is undefined.
        return math.nan
    return float((po - pe) / (1.0 - pe))


def auc(positive: Any, negative: Any) -> float:
    """P(score of a thumbs-up answer > score of a thumbs-down answer), ties counting half.

    The Mann–Whitney U statistic over n₁·n₂: 0.5 means the metric ignores human judgement.
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        return math.nan
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def group_order(groups: NDArray[np.integer[Any]], n_groups: int) -> NDArray[np.intp]:
    """A stable order of ``groups`` (codes in ``0 … n_groups − 1``): the positions of group 0,
    then of group 1, … each in their original order.

    numpy sorts 16-bit integers stably by radix, 40× faster than ``lexsort`` on a million rows
    (0.06 s vs 2.3 s for 3 M); codes that need more bits fall back to a stable merge sort.
    """
    if n_groups <= np.iinfo(np.int16).max:
        return np.argsort(groups.astype(np.int16, copy=False), kind="stable")
    return np.argsort(groups, kind="stable")


def group_bounds(groups: NDArray[np.integer[Any]], n_groups: int) -> NDArray[np.int64]:
    """``bounds[g] : bounds[g + 1]`` is group ``g``'s slice of :func:`group_order`'s order
    (counted, so the sorted codes are never copied)."""
    bounds = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(groups, minlength=n_groups), out=bounds[1:])
    return bounds


def grouped_quantiles(
    values: FloatArray, groups: NDArray[np.integer[Any]], n_groups: int, qs: Sequence[float]
) -> FloatArray:
    """Quantiles (linear interpolation, numpy's default) of ``values`` per group; NaN if empty."""
    out = np.full((n_groups, len(qs)), np.nan)
    keep = ~np.isnan(values)
    values, groups = values[keep], groups[keep]
    values = values[group_order(groups, n_groups)]
    bounds = group_bounds(groups, n_groups)
    for g in range(n_groups):
        if bounds[g + 1] > bounds[g]:
            out[g] = np.quantile(values[bounds[g] : bounds[g + 1]], qs)
    return out


def kappa_interval(table: Any, z: float = Z95) -> tuple[float, float, float]:
    """Cohen's κ with its asymptotic 95% interval, κ ± z·√var (Fleiss, Cohen & Everitt 1969:
    the variance under the alternative, as statsmodels' ``cohens_kappa`` computes it).

    NaN where κ is undefined (no items, or both raters used one identical category).
    """
    t = np.asarray(table, dtype=np.float64)
    n = t.sum()
    kappa = cohen_kappa(t)
    if n <= 0 or math.isnan(kappa):
        return kappa, math.nan, math.nan
    probs = t / n
    row, col = t.sum(1) / n, t.sum(0) / n
    pe = float((row * col).sum())
    term_a = float((np.diag(probs) * (1 - (row + col) * (1 - kappa)) ** 2).sum())
    off = probs * (col[:, None] + row) ** 2
    np.fill_diagonal(off, 0.0)
    term_b = (1 - kappa) ** 2 * float(off.sum())
    term_c = (kappa - pe * (1 - kappa)) ** 2
    var = max(0.0, (term_a + term_b - term_c) / (1 - pe) ** 2 / n)
    half = z * math.sqrt(var)
    return kappa, max(-1.0, kappa - half), min(1.0, kappa + half)


def rankdata(values: Any) -> FloatArray:
    """Ranks from 1, ties given their average rank: ``scipy.stats.rankdata`` (its "average"
    method, the same steps), without importing scipy.stats (≈1 s, most of `scores`' imports)."""
    x = np.asarray(values, dtype=np.float64).ravel()
    sorter = np.argsort(x, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size, dtype=np.intp)
    xs = x[sorter]
    obs = np.r_[True, xs[1:] != xs[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], obs.size]
    return np.asarray(0.5 * (count[dense] + count[dense - 1] + 1), dtype=np.float64)


def auc_interval(positive: Any, negative: Any, z: float = Z95) -> tuple[float, float, float]:
    """AUC with DeLong's 95% interval (DeLong, DeLong & Clarke-Pearson 1988), clipped to [0, 1].

    The variance is S₁₀/n₁ + S₀₁/n₀ from the placement values (the share of negatives each
    positive beats, and of positives each negative loses to; ties count half). Where that variance
    is 0 (AUC exactly 0 or 1) DeLong's interval collapses to a point, which would claim certainty
    from a handful of answers; the interval is then the Wilson interval of a proportion AUC with
    n = min(n₁, n₀), a conservative bound.
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    n1, n0 = pos.size, neg.size
    if n1 == 0 or n0 == 0:
        return math.nan, math.nan, math.nan
    both = np.concatenate([pos, neg])
    ranks = rankdata(both)
    a = float((ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))
    # Placement values through ranks (ties half): V10[i] = (rank in all − rank among positives)/n0.
    v10 = (ranks[:n1] - rankdata(pos)) / n0
    v01 = 1.0 - (ranks[n1:] - rankdata(neg)) / n1
    s10 = float(np.var(v10, ddof=1)) if n1 > 1 else 0.0
    s01 = float(np.var(v01, ddof=1)) if n0 > 1 else 0.0
    var = s10 / n1 + s01 / n0
    if var <= 0.0:
        (lo,), (hi,) = wilson_interval([a * min(n1, n0)], [min(n1, n0)], z)
        return a, float(lo), float(hi)
    half = z * math.sqrt(var)
    return a, max(0.0, a - half), min(1.0, a + half)


BOOTSTRAP_MAX_N = 500
"""Above this many values a mean's interval is the normal one (see :func:`mean_interval`)."""


def mean_interval(
    values: Any, rounds: int = 1000, seed: int = 0, z: float = Z95
) -> tuple[float, float, float]:
    """A mean with its 95% interval: the percentile bootstrap (``rounds`` resamples, fixed seed)
    up to :data:`BOOTSTRAP_MAX_N` values; above that, mean ± z·s/√n (the bootstrap percentile
    interval of a mean converges to it, and drawing rounds × n values would cost seconds).

    NaN values are dropped; (NaN, NaN, NaN) when none is left. One value: its interval is NaN
    (nothing to resample).
    """
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if n == 1:
        return mean, math.nan, math.nan
    if n > BOOTSTRAP_MAX_N:
        half = z * float(v.std(ddof=1)) / math.sqrt(n)
        return mean, mean - half, mean + half
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, n, size=(rounds, n))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return mean, float(min(lo, mean)), float(max(hi, mean))
