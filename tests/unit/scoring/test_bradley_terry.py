"""Bradley–Terry against independent solutions (MM iterations, Nelder–Mead), bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genaicompare.scoring.bradley_terry import (
    BattleCounts,
    battles_from_counts,
    bradley_terry,
    bt_design,
    fit_bt,
    fit_bt_rounds,
    votes_to_separate,
)


def _mm_bradley_terry(wins: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """Independent reference: Zermelo/Hunter MM iterations on strengths p (ties = half wins)."""
    w = wins + ties / 2.0
    n = w + w.T
    p = np.ones(len(w))
    for _ in range(20000):
        denom = (n / (p[:, None] + p[None, :])).sum(axis=1)
        new = w.sum(axis=1) / denom
        new /= np.exp(np.log(new).mean())
        if np.abs(new - p).max() < 1e-14:
            break
        p = new
    return np.log(p) / math.log(10.0)  # BT logit uses base 10


def test_bt_point_estimate_matches_an_independent_mm_solution() -> None:
    wins = np.array([[0, 7, 9, 4], [3, 0, 6, 5], [1, 4, 0, 2], [6, 5, 8, 0]], dtype=float)
    t = np.array([[0, 2, 1, 3], [2, 0, 4, 0], [1, 4, 0, 1], [3, 0, 1, 0]], dtype=float)
    counts = BattleCounts(["a", "b", "c", "d"], wins, t, np.zeros((4, 4)))
    matchups, outcomes, weights = bt_design(counts)
    ours = fit_bt(matchups, outcomes, weights, 4, tol=1e-10) * 400 + 1000
    ref = _mm_bradley_terry(wins, t) * 400 + 1000
    # The likelihood fixes differences only; FastChat's fit keeps the mean at the 1000 offset.
    assert np.mean(ours) == pytest.approx(1000.0, abs=1e-6)
    assert ours - ours.mean() == pytest.approx(ref - ref.mean(), abs=0.05)
    # Also: scipy's generic minimiser on the plain likelihood (no gradient given).
    from scipy.optimize import minimize

    def nll(r: np.ndarray) -> float:
        total = 0.0
        for i in range(4):
            for j in range(4):
                if i != j:
                    p = 1 / (1 + 10 ** (r[j] - r[i]))
                    total -= (wins[i, j] + t[i, j] / 2) * math.log(p)
        return total

    res = minimize(
        nll,
        np.zeros(4),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    )
    nm = res.x * 400
    assert ours - ours.mean() == pytest.approx(nm - nm.mean(), abs=0.05)


def test_stacked_bootstrap_equals_per_round_fits() -> None:
    rng = np.random.default_rng(0)
    m = 5
    wins = rng.integers(5, 200, (m, m)).astype(float)
    np.fill_diagonal(wins, 0)
    ties = np.triu(rng.integers(0, 30, (m, m)), 1).astype(float)
    counts = BattleCounts([str(i) for i in range(m)], wins, ties + ties.T, np.zeros((m, m)))
    mu, o, w = bt_design(counts)
    draws = rng.multinomial(int(w.sum()), w / w.sum(), size=20) / w.sum()
    stacked = fit_bt_rounds(mu, o, draws, m)
    single = np.array([fit_bt(mu, o, d, m, tol=1e-10) for d in draws])
    assert np.abs(stacked - single).max() * 400 < 0.05


def test_bradley_terry_intervals_rank_and_determinism() -> None:
    # a ≫ b ≈ c: a is rank 1; b and c overlap so both are rank 2.
    wins = np.array([[0, 80, 85], [20, 0, 52], [15, 48, 0]], dtype=float)
    counts = BattleCounts(["a", "b", "c"], wins, np.zeros((3, 3)), np.zeros((3, 3)))
    bt = bradley_terry(counts, rounds=200, seed=0)
    assert bt is not None
    rows = {r["model"]: r for r in bt.rows()}
    assert rows["a"]["rank"] == 1 and rows["b"]["rank"] == 2 and rows["c"]["rank"] == 2
    for r in rows.values():
        assert r["lower"] <= r["rating"] <= r["upper"]
    again = bradley_terry(counts, rounds=200, seed=0)
    assert again is not None and again.lower == bt.lower and again.upper == bt.upper
    assert bradley_terry(counts, rounds=200, seed=1).lower != bt.lower  # type: ignore[union-attr]
    sep = votes_to_separate(bt)
    assert sep is not None and sep["top"] == "a" and sep["separated"] and sep["more_votes"] == 0
    # Between b and c the gap is small: more votes are needed, a finite positive number.
    sub = BattleCounts(["b", "c"], wins[1:, 1:], np.zeros((2, 2)), np.zeros((2, 2)))
    sep2 = votes_to_separate(bradley_terry(sub, rounds=100))  # type: ignore[arg-type]
    assert sep2 is not None and not sep2["separated"] and sep2["more_votes"] > 0


def test_thumb_battles_by_hand() -> None:
    # Group 1 (×2): a up, b down, c up.  Group 2 (×1): a down, b down.
    up = np.array([[1, 0, 1], [0, 0, 0]])
    down = np.array([[0, 1, 0], [1, 1, 0]])
    b = battles_from_counts(["a", "b", "c"], up, down, [2, 1])
    assert b.wins.tolist() == [[0, 2, 0], [0, 0, 0], [0, 2, 0]]
    assert b.both_bad.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    assert b.ties.tolist() == [[0, 1, 2], [1, 0, 0], [2, 0, 0]]  # a/c up-up ×2 + a/b bad
    assert b.n_battles == 2 + 2 + 2 + 1
