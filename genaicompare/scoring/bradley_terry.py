"""Bradley–Terry ratings, pure over numpy arrays (the maths of FastChat's ``rating_systems.py``).

Both methods use FastChat's Chatbot Arena model (``fastchat/serve/monitor/rating_systems.py``):
logit ``ln(10)·(r_a − r_b)``, ties as half a win, rating = 400·r + 1000, multinomial bootstrap
rounds over the aggregated battle counts with a fixed seed, rank = 1 + number of models whose lower
bound exceeds this model's upper bound.

``method="map"`` (the default) is honest at small n. The ratings get a weak Gaussian prior,
r_i ~ N(0, (prior_sd/400)²) with prior_sd = 200 rating points: the maximum a posteriori fit (a
ridge-penalised likelihood) is finite on separated data (a model that never lost) and stays near
1000 on one vote, while a few hundred battles outweigh the prior. The point estimate and every
bootstrap round are the same fit, solved by Newton's method to convergence (gradient ≈ 1e-10).
The 95% interval is the wider of the bootstrap percentile interval and the posterior's normal
(Laplace) interval: at large n the two agree; at small n the bootstrap alone collapses (one vote
resampled is always that vote) while the posterior keeps the prior's width. The point estimate is
therefore always inside its interval.

``method="fastchat"`` is FastChat's ``compute_bt``/``compute_bootstrap_bt`` exactly: the plain
likelihood by L-BFGS from zero (at most 100 iterations), bootstrap weights normalised by the
number of battles, percentile interval (tested equal to FastChat's code).

Claims: a model is ranked (and said to be ahead of another) only when it took part in at least
``min_battles`` battles (default 10) and the intervals separate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from genaicompare.scoring.stats import Z95, FloatArray


@dataclass
class BattleCounts:
    """Aggregated battles. ``wins[i, j]``: i beat j. ``ties`` is symmetric and includes
    ``both_bad`` (also symmetric), which FastChat counts as a tie."""

    models: list[str]
    wins: FloatArray
    ties: FloatArray
    both_bad: FloatArray

    @classmethod
    def empty(cls, models: Sequence[str]) -> BattleCounts:
        m = len(models)
        return cls(list(models), np.zeros((m, m)), np.zeros((m, m)), np.zeros((m, m)))

    def add(
        self, i: int, j: int, i_wins: float, j_wins: float, ties: float, both_bad: float
    ) -> None:
        """Count battles between models ``i`` and ``j`` (``ties`` excludes ``both_bad``)."""
        self.wins[i, j] += i_wins
        self.wins[j, i] += j_wins
        self.ties[i, j] += ties + both_bad
        self.ties[j, i] += ties + both_bad
        self.both_bad[i, j] += both_bad
        self.both_bad[j, i] += both_bad

    def __add__(self, other: BattleCounts) -> BattleCounts:
        assert self.models == other.models
        return BattleCounts(
            self.models,
            self.wins + other.wins,
            self.ties + other.ties,
            self.both_bad + other.both_bad,
        )

    @property
    def n_battles(self) -> int:
        return round(float(self.wins.sum() + np.triu(self.ties, 1).sum()))

    def per_model(self) -> NDArray[np.int64]:
        return np.rint(self.wins.sum(1) + self.wins.sum(0) + self.ties.sum(1)).astype(np.int64)


def battles_from_counts(models: Sequence[str], up: Any, down: Any, counts: Any) -> BattleCounts:
    """Thumbs on one prompt by one rater as battles: up vs down = win, up/up = tie,
    down/down = both bad. Row k of ``up``/``down`` holds how many of each model's answers a
    (rater, prompt) group thumbed up/down; ``counts[k]`` is how many groups look like that.
    Every up answer of model i meets every down answer of model j ≠ i."""
    w = np.asarray(counts, dtype=np.float64)[:, None]
    u = np.asarray(up, dtype=np.float64)
    d = np.asarray(down, dtype=np.float64)
    wins = (u * w).T @ d
    ties = (u * w).T @ u
    bad = (d * w).T @ d
    for mat in (wins, ties, bad):
        np.fill_diagonal(mat, 0.0)
    return BattleCounts(list(models), wins, ties + bad, bad)


def _scaled(counts: BattleCounts, k: float) -> BattleCounts:
    return BattleCounts(counts.models, counts.wins * k, counts.ties * k, counts.both_bad * k)


def _restrict(counts: BattleCounts, active: NDArray[np.int64]) -> BattleCounts:
    ix = np.ix_(active, active)
    return BattleCounts(
        [counts.models[i] for i in active], counts.wins[ix], counts.ties[ix], counts.both_bad[ix]
    )


def _design_weights(counts: BattleCounts) -> FloatArray:
    """:func:`bt_design`'s weights before zero rows are dropped (every (a, b, outcome) row)."""
    m = len(counts.models)
    ia, ib = np.triu_indices(m, 1)
    return np.column_stack([counts.wins[ib, ia], counts.ties[ia, ib], counts.wins[ia, ib]]).ravel()


def bt_design(counts: BattleCounts) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
    """FastChat's ``preprocess_for_bt`` output from aggregated counts: unique (a, b, outcome)
    rows with outcome 1 (a won), 0 (b won) or 0.5 (tie), and their counts as weights.

    Rows come in ``np.unique``'s order — by a, then b (a < b), then outcome 0, 0.5, 1 — as
    FastChat's are for battles listed with model_a before model_b, so one seed draws the same
    bootstrap rounds."""
    m = len(counts.models)
    ia, ib = np.triu_indices(m, 1)
    rows_a = np.repeat(ia, 3)
    rows_b = np.repeat(ib, 3)
    outcomes = np.tile([0.0, 0.5, 1.0], ia.size)
    weights = np.column_stack(
        [counts.wins[ib, ia], counts.ties[ia, ib], counts.wins[ia, ib]]
    ).ravel()
    keep = weights > 0
    matchups = np.column_stack([rows_a[keep], rows_b[keep]]).astype(np.int64)
    return matchups, outcomes[keep], weights[keep]


def bt_loss_and_grad(
    ratings: FloatArray,
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    weights: FloatArray,
    alpha: float,
) -> tuple[float, FloatArray]:
    """Negative log-likelihood of the BT model and its gradient (FastChat's ``bt_loss_and_grad``).

    Written with ``logaddexp`` instead of ``log(expit(·))`` so a lopsided matchup cannot give
    ``log(0)``; the value is the same wherever FastChat's is finite.
    """
    logits = alpha * (ratings[matchups[:, 0]] - ratings[matchups[:, 1]])
    probs = 0.5 * (1.0 + np.tanh(0.5 * logits))
    loss = float(
        (
            (outcomes * np.logaddexp(0.0, -logits) + (1.0 - outcomes) * np.logaddexp(0.0, logits))
            * weights
        ).sum()
    )
    g = -alpha * (outcomes - probs) * weights
    n = ratings.size
    grad = np.asarray(
        np.bincount(matchups[:, 0], g, n) - np.bincount(matchups[:, 1], g, n), np.float64
    )
    return loss, grad


def _minimise(
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    weights: FloatArray,
    n_ratings: int,
    alpha: float,
    options: dict[str, float],
) -> FloatArray:
    """L-BFGS-B on :func:`bt_loss_and_grad` from zeros (one loss for one fit and for many)."""
    from scipy.optimize import minimize

    result = minimize(
        fun=bt_loss_and_grad,
        x0=np.zeros(n_ratings),
        args=(matchups, outcomes, weights, alpha),
        jac=True,
        method="L-BFGS-B",
        options=options,
    )
    return np.asarray(result["x"], dtype=np.float64)


def fit_bt(
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    weights: FloatArray,
    n_models: int,
    alpha: float = math.log(10.0),
    tol: float = 1e-6,
) -> FloatArray:
    """FastChat's ``fit_bt``: L-BFGS-B from zeros, at most 100 iterations, gtol ``tol``."""
    return _minimise(matchups, outcomes, weights, n_models, alpha, {"maxiter": 100, "gtol": tol})


def fit_bt_rounds(
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    weights: FloatArray,
    n_models: int,
    alpha: float = math.log(10.0),
    tol: float = 1e-6,
) -> FloatArray:
    """:func:`fit_bt` for many weight vectors at once (``weights``: rounds × matchups).

    The rounds' likelihoods are independent, so their sum is minimised by one L-BFGS run over
    the stacked ratings — one vectorised evaluation per step instead of one Python-level
    optimisation per round (100 rounds: ~20× faster). Round k's models are numbered
    k·n_models + i, so the stacked problem is an ordinary BT design with the same loss. Every
    gradient keeps each round's ratings centred at zero, as FastChat's per-round fits do; the
    solutions agree to well under a rating point (tested).
    """
    rounds = weights.shape[0]
    offsets = (np.arange(rounds) * n_models)[:, None]
    stacked = np.column_stack(
        [(matchups[:, 0][None, :] + offsets).ravel(), (matchups[:, 1][None, :] + offsets).ravel()]
    )
    ratings = _minimise(
        stacked,
        np.broadcast_to(outcomes, weights.shape).ravel(),
        weights.ravel(),
        rounds * n_models,
        alpha,
        {"maxiter": 100 * max(1, rounds), "gtol": tol * 1e-2, "ftol": 1e-15},
    )
    return ratings.reshape(rounds, n_models)


def fit_bt_map(
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    weights: FloatArray,
    n_models: int,
    alpha: float = math.log(10.0),
    prior_sd: float = 0.5,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """MAP Bradley–Terry ratings (natural scale) under r_i ~ N(0, prior_sd²), by damped Newton.

    ``weights`` is one vector of battle counts or a (rounds × matchups) array of them; every row
    is solved at once (batched m × m Newton systems) until the largest step is below ``tol``.
    Returns the ratings (rounds × models, or models) and, for the first row, the posterior
    covariance H⁻¹ at the optimum (the Laplace approximation).
    """
    single = weights.ndim == 1
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    rounds, k = w.shape
    m = n_models
    ia, ib = matchups[:, 0], matchups[:, 1]
    x = np.zeros((k, m))
    x[np.arange(k), ia] = 1.0
    x[np.arange(k), ib] = -1.0
    # Matchup rows → unordered model pairs (a Hessian's off-diagonal cells).
    pair_key = ia * m + ib
    pairs, pair_of = np.unique(pair_key, return_inverse=True)
    pa, pb = pairs // m, pairs % m
    to_pair = np.zeros((k, pairs.size))
    to_pair[np.arange(k), pair_of] = 1.0
    pair_models = np.zeros((pairs.size, m))  # pair → its two models (the Hessian's diagonal)
    pair_models[np.arange(pairs.size), pa] = 1.0
    pair_models[np.arange(pairs.size), pb] = 1.0
    inv_var = 1.0 / (prior_sd * prior_sd)

    def loss(r: FloatArray) -> FloatArray:
        logits = alpha * (r[:, ia] - r[:, ib])
        nll = outcomes * np.logaddexp(0.0, -logits) + (1.0 - outcomes) * np.logaddexp(0.0, logits)
        return np.asarray((nll * w).sum(axis=1) + 0.5 * inv_var * (r * r).sum(axis=1))

    def hessian(r: FloatArray) -> tuple[FloatArray, FloatArray]:
        logits = alpha * (r[:, ia] - r[:, ib])
        p = 0.5 * (1.0 + np.tanh(0.5 * logits))
        grad = (alpha * w * (p - outcomes)) @ x + inv_var * r
        s = (alpha * alpha * w * p * (1.0 - p)) @ to_pair  # rounds × pairs
        h = np.zeros((rounds, m, m))
        h[:, pa, pb] = -s
        h[:, pb, pa] = -s
        idx = np.arange(m)
        h[:, idx, idx] = s @ pair_models + inv_var
        return grad, h

    r = np.zeros((rounds, m))
    current = loss(r)
    for _ in range(max_iter):
        grad, h = hessian(r)
        step = np.linalg.solve(h, grad[:, :, None])[:, :, 0]
        t = np.ones(rounds)
        for _halving in range(30):
            trial = r - t[:, None] * step
            new = loss(trial)
            worse = new > current + 1e-12 * np.abs(current)
            if not worse.any():
                break
            t = np.where(worse, t / 2.0, t)
        r, current = trial, new
        if np.abs(t[:, None] * step).max() < tol:
            break
    _grad, h = hessian(r[:1])
    cov = np.linalg.inv(h[0])
    return (r[0] if single else r), cov


@dataclass
class BTResult:
    models: list[str]
    rating: list[float]
    lower: list[float]
    upper: list[float]
    rank: list[int | None]
    """Rank among the models with enough battles; ``None`` for a model below ``min_battles``."""
    battles: list[int]
    """Battles each model took part in."""
    n_battles: int
    rounds: int
    seed: int
    method: str = "map"
    prior_sd: float | None = 200.0
    """The prior's standard deviation in rating points (``None``: FastChat's plain fit)."""
    min_battles: int = 10

    @property
    def enough(self) -> list[bool]:
        return [b >= self.min_battles for b in self.battles]

    @property
    def rankable(self) -> bool:
        """Every model took part in at least ``min_battles`` battles."""
        return all(self.enough)

    def status(self) -> str:
        """One line for people: whether this leaderboard may rank at all."""
        if self.rankable:
            return f"each model has at least {self.min_battles} battles"
        few = min(self.battles)
        return (
            f"{self.n_battles} vote{'s' if self.n_battles != 1 else ''}: not enough to rank "
            f"(each model needs {self.min_battles} battles; the fewest has {few})"
        )

    def rows(self) -> list[dict[str, Any]]:
        order = np.argsort(-np.asarray(self.rating), kind="stable")
        return [
            {
                "model": self.models[i],
                "rating": self.rating[i],
                "lower": self.lower[i],
                "upper": self.upper[i],
                "rank": self.rank[i],
                "battles": self.battles[i],
                "enough_battles": self.battles[i] >= self.min_battles,
            }
            for i in order
        ]


METHODS = ("map", "fastchat")


def bradley_terry(
    counts: BattleCounts,
    rounds: int = 1000,
    seed: int = 0,
    scale: float = 400.0,
    init_rating: float = 1000.0,
    base: float = 10.0,
    method: str = "map",
    prior_sd: float = 200.0,
    min_battles: int = 10,
    groups: Sequence[tuple[float, BattleCounts, float]] = (),
) -> BTResult | None:
    """Arena ratings with 95% intervals over the models that took part in a battle.

    ``method``: ``map`` (weak prior N(0, prior_sd²) in rating points, Newton to convergence,
    interval = bootstrap ∪ Laplace — see the module docstring) or ``fastchat`` (FastChat's code).

    ``groups``: judgements that are more than one plain battle, each ``(n, battles, weight)`` —
    ``n`` such judgements, each making ``battles`` (same models as ``counts``), each battle
    weighing ``weight`` in the fit (a best-of-N pick: N−1 battles of weight 1; a strong vote:
    one battle of weight 3). The bootstrap resamples judgements, so a group's battles are drawn
    together, never as independent votes; battle counts (``min_battles``) count each battle once.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    unweighted = counts
    for n, one, _weight in groups:
        unweighted = unweighted + _scaled(one, n)
    active = np.flatnonzero(unweighted.per_model() > 0)
    if active.size < 2:
        return None
    sub = _restrict(unweighted, active)
    weighted = counts
    for n, one, weight in groups:
        weighted = weighted + _scaled(one, n * weight)
    matchups, outcomes, weights = bt_design(_restrict(weighted, active))
    m, alpha = active.size, math.log(base)
    rng = np.random.default_rng(seed)
    if not groups:
        total = weights.sum()
        # FastChat resamples the unique outcomes' counts from one multinomial per round.
        draws = rng.multinomial(round(float(total)), weights / total, size=rounds).astype(
            np.float64
        )
    else:
        # Resampling units: each plain battle cell, and each group (its battles as one row).
        keep = _design_weights(_restrict(weighted, active)) > 0
        units = [np.diag(_design_weights(_restrict(counts, active))[keep])]
        unit_n = [np.diag(units[0]).copy()]
        units[0] = (units[0] > 0).astype(np.float64)
        for n, one, weight in groups:
            units.append(weight * _design_weights(_restrict(one, active))[keep][None, :])
            unit_n.append(np.array([float(n)]))
        u, un = np.vstack(units), np.concatenate(unit_n)
        u, un = u[un > 0], un[un > 0]
        total_units = un.sum()
        picked = rng.multinomial(round(float(total_units)), un / total_units, size=rounds)
        draws = picked.astype(np.float64) @ u
        total = weights.sum()
    if method == "fastchat":
        point = fit_bt(matchups, outcomes, weights, m, alpha) * scale + init_rating
        boot = np.array([fit_bt(matchups, outcomes, d / total, m, alpha) for d in draws])
        boot = boot * scale + init_rating
        lower = np.quantile(boot, 0.025, axis=0)
        upper = np.quantile(boot, 0.975, axis=0)
        sd_points: float | None = None
    else:
        sd = prior_sd / scale
        r, cov = fit_bt_map(matchups, outcomes, weights, m, alpha, sd)
        boot_r, _cov = fit_bt_map(matchups, outcomes, draws, m, alpha, sd)
        point = r * scale + init_rating
        boot = boot_r * scale + init_rating
        # Laplace interval of each rating relative to the mean (the ratings are centred).
        centre = np.eye(m) - 1.0 / m
        half = Z95 * np.sqrt(np.clip(np.diag(centre @ cov @ centre), 0.0, None)) * scale
        lower = np.minimum(np.quantile(boot, 0.025, axis=0), point - half)
        upper = np.maximum(np.quantile(boot, 0.975, axis=0), point + half)
        sd_points = prior_sd
    battles = sub.per_model()
    enough = battles >= min_battles
    beats = (lower[None, :] > upper[:, None]) & enough[None, :]
    rank: list[int | None] = [int(1 + beats[i].sum()) if enough[i] else None for i in range(m)]
    return BTResult(
        models=sub.models,
        rating=point.tolist(),
        lower=lower.tolist(),
        upper=upper.tolist(),
        rank=rank,
        battles=battles.tolist(),
        n_battles=sub.n_battles,
        rounds=rounds,
        seed=seed,
        method=method,
        prior_sd=sd_points,
        min_battles=min_battles,
    )


def votes_to_separate(bt: BTResult) -> dict[str, Any] | None:
    """Whether the top two models are told apart, and if not, about how many more battles.

    ``separated`` needs both: intervals that do not overlap, and at least ``min_battles``
    battles for each of the two (``enough``). Interval widths shrink like 1/√n; assuming the
    current gap holds, the intervals separate at n' = n·((h₁ + h₂)/gap)², where h are the
    half-widths facing each other.
    """
    rows = bt.rows()
    if len(rows) < 2:
        return None
    first, second = rows[0], rows[1]
    gap = first["rating"] - second["rating"]
    h1 = first["rating"] - first["lower"]
    h2 = second["upper"] - second["rating"]
    enough = bool(first["enough_battles"] and second["enough_battles"])
    apart = bool(first["lower"] > second["upper"])
    out: dict[str, Any] = {
        "top": first["model"],
        "second": second["model"],
        "gap": gap,
        "enough": enough,
        "intervals_apart": apart,
        "separated": apart and enough,
        "min_battles": bt.min_battles,
    }
    if out["separated"]:
        out["more_votes"] = 0
    elif gap <= 0 or h1 + h2 <= 0:
        out["more_votes"] = None
    else:
        needed = bt.n_battles * ((h1 + h2) / gap) ** 2
        short = max(bt.min_battles - first["battles"], bt.min_battles - second["battles"], 0)
        out["more_votes"] = max(short, math.ceil(needed - bt.n_battles))
    return out
