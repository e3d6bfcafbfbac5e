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
    from scipy.stats import rankdata

    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        return math.nan
    ranks = rankdata(np.concatenate([pos, neg]))
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def grouped_quantiles(
    values: FloatArray, groups: NDArray[np.int64], n_groups: int, qs: Sequence[float]
) -> FloatArray:
    """Quantiles (linear interpolation, numpy's default) of ``values`` per group; NaN if empty."""
    out = np.full((n_groups, len(qs)), np.nan)
    keep = ~np.isnan(values)
    values, groups = values[keep], groups[keep]
    order = np.lexsort((values, groups))
    values, groups = values[order], groups[order]
    starts = np.searchsorted(groups, np.arange(n_groups), side="left")
    ends = np.searchsorted(groups, np.arange(n_groups), side="right")
    for g in range(n_groups):
        if ends[g] > starts[g]:
            out[g] = np.quantile(values[starts[g] : ends[g]], qs)
    return out
