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

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*`disp`.*:DeprecationWarning"
)  # FastChat passes disp


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


# -- FastChat-exact mode against FastChat's own code ---------------------------------------------
def _battles_frame(models: list[str], wins: np.ndarray, ties: np.ndarray):  # type: ignore[no-untyped-def]
    """One row per battle, model_a before model_b in ``models`` order, every model appearing
    first in that order (so pandas.factorize numbers them as we do)."""
    import pandas as pd

    rows = []
    m = len(models)
    for i in range(m):
        for j in range(i + 1, m):
            rows += [(models[i], models[j], "model_a")] * int(wins[i, j])
            rows += [(models[i], models[j], "model_b")] * int(wins[j, i])
            rows += [(models[i], models[j], "tie")] * int(ties[i, j])
    rows.sort(key=lambda r: (models.index(r[0]), models.index(r[1])))
    return pd.DataFrame(rows, columns=["model_a", "model_b", "winner"])


@pytest.mark.parametrize("case", ["spread", "close"])
def test_fastchat_mode_equals_fastchat_code(case: str) -> None:
    from tests.unit.scoring import fastchat_reference as fc

    models = ["a", "b", "c", "d"]
    if case == "spread":
        wins = np.array([[0, 7, 9, 4], [3, 0, 6, 5], [1, 4, 0, 2], [6, 5, 8, 0]], dtype=float)
        ties = np.array([[0, 2, 1, 3], [2, 0, 4, 0], [1, 4, 0, 1], [3, 0, 1, 0]], dtype=float)
    else:
        wins = np.array([[0, 30, 28, 31], [29, 0, 30, 27], [30, 31, 0, 29], [28, 30, 31, 0]], float)
        ties = np.full((4, 4), 5.0) - 5 * np.eye(4)
    df = _battles_frame(models, wins, ties)
    counts = BattleCounts(models, wins, ties, np.zeros((4, 4)))
    ours = bradley_terry(counts, rounds=200, seed=0, method="fastchat", min_battles=1)
    assert ours is not None
    point = fc.compute_bt(df)
    boot = fc.compute_bootstrap_bt(df, num_round=200)
    for i, name in enumerate(models):
        assert ours.rating[i] == pytest.approx(point[name], abs=1e-3)
        assert ours.lower[i] == pytest.approx(boot[name].quantile(0.025), abs=1e-3)
        assert ours.upper[i] == pytest.approx(boot[name].quantile(0.975), abs=1e-3)
    # The design rows are FastChat's, in FastChat's order.
    fm, fo, _fmodels, fw = fc.preprocess_for_bt(df)
    mu, o, w = bt_design(counts)
    assert mu.tolist() == fm.tolist() and o.tolist() == fo.tolist() and w.tolist() == fw.tolist()


def test_fastchat_mode_reproduces_the_one_vote_overclaim() -> None:
    """FastChat's plain fit on one vote: ratings in the thousands, a zero-width interval. Kept
    as the exact mode, never the default."""
    from tests.unit.scoring import fastchat_reference as fc

    df = _battles_frame(["friendly", "terse"], np.array([[0, 0], [1, 0]]), np.zeros((2, 2)))
    counts = BattleCounts.empty(["friendly", "terse"])
    counts.add(1, 0, 1, 0, 0, 0)
    ours = bradley_terry(counts, rounds=20, method="fastchat")
    assert ours is not None
    ref = fc.compute_bt(df)
    assert ours.rating == pytest.approx([ref["friendly"], ref["terse"]], abs=1e-2)
    assert ours.rating[1] > 2000  # the overclaim of the plain MLE (issue 14 §1)


# -- the default: MAP with a weak prior ----------------------------------------------------------
def _one_vote() -> BattleCounts:
    counts = BattleCounts.empty(["friendly", "terse"])
    counts.add(1, 0, 1, 0, 0, 0)  # terse beat friendly once
    return counts


def test_one_vote_gives_modest_ratings_wide_intervals_and_no_rank() -> None:
    bt = bradley_terry(_one_vote())
    assert bt is not None and bt.rounds == 1000 and bt.method == "map"
    rows = {r["model"]: r for r in bt.rows()}
    terse, friendly = rows["terse"], rows["friendly"]
    assert 1000 < terse["rating"] < 1150 and 850 < friendly["rating"] < 1000
    for r in rows.values():
        assert r["lower"] < r["rating"] < r["upper"]
        assert r["upper"] - r["lower"] > 300  # one vote says little
        assert r["rank"] is None and r["enough_battles"] is False
    assert terse["lower"] < friendly["upper"]  # intervals overlap
    assert not bt.rankable and bt.status().startswith("1 vote: not enough to rank")
    sep = votes_to_separate(bt)
    assert sep is not None and sep["separated"] is False and sep["enough"] is False


def test_separated_data_stays_finite_and_inside_its_interval() -> None:
    # a never lost: the plain MLE diverges (FastChat stops at 100 iterations somewhere huge).
    wins = np.array([[0, 12, 15], [0, 0, 6], [0, 5, 0]], dtype=float)
    counts = BattleCounts(["a", "b", "c"], wins, np.zeros((3, 3)), np.zeros((3, 3)))
    bt = bradley_terry(counts, rounds=300)
    assert bt is not None
    for r in bt.rows():
        assert r["lower"] <= r["rating"] <= r["upper"]
        assert 500 < r["rating"] < 1600
    top = bt.rows()[0]
    assert top["model"] == "a" and top["rank"] == 1


def test_map_point_is_the_penalised_optimum() -> None:
    """Newton's MAP solution against scipy's generic minimiser on the same penalised likelihood."""
    from scipy.optimize import minimize

    from genaicompare.scoring.bradley_terry import fit_bt_map

    wins = np.array([[0, 3, 5], [1, 0, 2], [0, 1, 0]], dtype=float)
    ties = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    counts = BattleCounts(["a", "b", "c"], wins, ties, np.zeros((3, 3)))
    mu, o, w = bt_design(counts)
    ours, _cov = fit_bt_map(mu, o, w, 3, prior_sd=0.5)
    ln10 = math.log(10.0)

    def objective(r: np.ndarray) -> float:
        total = 0.0
        for i in range(3):
            for j in range(3):
                if i != j:
                    p = 1 / (1 + 10 ** (r[j] - r[i]))
                    total -= (wins[i, j] + ties[i, j] / 2) * math.log(p)
        return total + float((r * r).sum()) / (2 * 0.25)

    ref = minimize(
        objective,
        np.zeros(3),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 40000},
    ).x
    assert ours * 400 == pytest.approx(ref * 400, abs=1e-3)
    assert abs(ours.sum()) < 1e-9 and ln10 > 0  # the prior centres the ratings


def test_large_samples_make_the_prior_negligible() -> None:
    wins = np.array([[0, 800, 850], [200, 0, 520], [150, 480, 0]], dtype=float)
    counts = BattleCounts(["a", "b", "c"], wins, np.zeros((3, 3)), np.zeros((3, 3)))
    mapped = bradley_terry(counts, rounds=200)
    plain = bradley_terry(counts, rounds=200, method="fastchat")
    assert mapped is not None and plain is not None
    assert mapped.rating == pytest.approx(plain.rating, abs=1.5)
    for lo_m, lo_p in zip(mapped.lower, plain.lower, strict=True):
        assert lo_m == pytest.approx(lo_p, abs=6)


def test_min_battles_is_configurable() -> None:
    wins = np.array([[0, 8], [1, 0]], dtype=float)
    counts = BattleCounts(["a", "b"], wins, np.zeros((2, 2)), np.zeros((2, 2)))
    strict = bradley_terry(counts, rounds=200, min_battles=10)
    loose = bradley_terry(counts, rounds=200, min_battles=5)
    assert strict is not None and loose is not None
    assert strict.rank == [None, None] and not strict.rankable
    assert loose.rankable and loose.rank[0] == 1
