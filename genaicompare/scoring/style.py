"""Style-controlled Bradley–Terry: ratings with answer length and Markdown style held fixed.

Longer, more formatted answers win human votes (FastChat issue 3911: 68%). FastChat's style
control (``fastchat/serve/monitor/rating_systems.py``: ``preprocess_for_style``,
``fit_contextual_bt``; first ``elo_analysis.py``: ``construct_style_matrices``) adds one covariate
per style feature to the Bradley–Terry logit:

    logit P(a beats b) = ln 10 · (r_a − r_b) + Σ_k β_k · z_k,

where z_k is the standardised normalised difference (f_a − f_b) / (f_a + f_b + 1) of feature k —
length, Markdown headers, list items, bold spans — counted as FastChat's ``count_markdown_elements``
does, after removing fenced code blocks. Ties count half a win; the fit is FastChat's L2-penalised
likelihood (penalty 0.25·‖θ‖², ``reg=0.5``). Here it is solved by Newton's method to convergence
(every bootstrap round at once), and each figure's 95% interval is the wider of the bootstrap
percentile interval and the posterior's normal (Laplace) interval, as in
:mod:`~genaicompare.scoring.bradley_terry`. The raw ratings beside the adjusted ones are the same
fit on the same battles without covariates, so the two columns differ only by style.

Length is in characters (FastChat counts tokens; the ratio makes the unit nearly irrelevant).
A feature that never varies among the battles has no coefficient (FastChat's standardisation
would divide by zero).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from genaicompare.core.markdown_style import STYLE_COLUMNS
from genaicompare.scoring.concat import case_codes, numbers
from genaicompare.scoring.stats import Z95, FloatArray, wilson_interval

FEATURES: tuple[str, ...] = ("length", "headers", "lists", "bold")
"""The style covariates, in FastChat's order (``STYLE_CONTROL_ELEMENTS_V1``)."""
MIN_STYLE_BATTLES = 30
"""Fewer A/B votes than this: the style-controlled table says "n too small"."""
MIN_SHARE_N = 10
"""Fewer decisive votes between answers of different length: "n too small" for the share."""
REG = 0.5
"""FastChat's ``reg``: the penalty is reg/2 · ‖θ‖² (its ``half_reg``)."""

BOOT_BUDGET = 500_000
"""Most (bootstrap rounds × battles) resampled; above it the intervals are the normal (Laplace)
ones from the Hessian alone (``interval: "normal"``), which at that n the bootstrap matches."""


def style_features(
    counts_a: Any, counts_b: Any, apply_ratio: Sequence[int] | None = None, add_one: bool = True
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """FastChat's covariates from the two sides' counts (battles × features each): the
    difference, divided by the sum (+1) where ``apply_ratio`` (default: every column, as FastChat's
    ``[1, 1, 1, 1]``), standardised per column.

    Returns the (battles × features) matrix and which columns vary; a constant column is 0."""
    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    diff, total = a - b, a + b
    if add_one:
        total = total + 1.0
    ratio = np.arange(a.shape[1]) if apply_ratio is None else np.flatnonzero(apply_ratio)
    diff[:, ratio] /= total[:, ratio]
    mean, sd = diff.mean(axis=0), diff.std(axis=0)
    varies = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
    z = np.zeros_like(diff)
    z[:, varies] = (diff[:, varies] - mean[varies]) / sd[varies]
    return z, varies


def fit_contextual(
    matchups: NDArray[np.int64],
    features: FloatArray,
    outcomes: FloatArray,
    n_models: int,
    weights: FloatArray | None = None,
    alpha: float = math.log(10.0),
    reg: float = REG,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> tuple[FloatArray, FloatArray]:
    """Penalised contextual BT (FastChat's loss) by damped Newton, solved to convergence.

    θ = (ratings on the natural scale, feature coefficients). ``weights``: battle counts, one
    vector or a (rounds × battles) array (a multinomial bootstrap), every row solved at once.
    Returns θ (rounds × params, or params) and the covariance H⁻¹ of the first row at its optimum.
    """
    n, k = features.shape
    d = n_models + k
    x = np.zeros((n, d))
    x[np.arange(n), matchups[:, 0]] = alpha
    x[np.arange(n), matchups[:, 1]] -= alpha
    x[:, n_models:] = features
    w = np.ones((1, n)) if weights is None else np.atleast_2d(np.asarray(weights, np.float64))
    single = weights is None or np.asarray(weights).ndim == 1
    rounds = w.shape[0]
    half = 0.5 * reg

    def hessian(c: FloatArray) -> FloatArray:
        # xᵀ·diag(c_r)·x per round r, a few rounds at a time: never a (battles × d²) array.
        out = np.empty((c.shape[0], d, d))
        step = max(1, 4_000_000 // max(1, n * d))
        for s in range(0, c.shape[0], step):
            cx = c[s : s + step, :, None] * x[None, :, :]
            out[s : s + step] = np.matmul(cx.transpose(0, 2, 1), x)
        return out + reg * np.eye(d)

    def loss(t: FloatArray) -> FloatArray:
        z = t @ x.T
        # o·log(1+e⁻ᶻ) + (1−o)·log(1+eᶻ), with log(1+eᶻ) = log(1+e⁻ᶻ) + z: one softplus.
        nll = np.logaddexp(0.0, -z) + (1.0 - outcomes) * z
        return np.asarray((nll * w).sum(axis=1) + half * (t * t).sum(axis=1))

    theta = np.zeros((rounds, d))
    current = loss(theta)
    for _ in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * (theta @ x.T)))
        grad = (w * (p - outcomes)) @ x + reg * theta
        h = hessian(w * p * (1.0 - p))
        step = np.linalg.solve(h, grad[:, :, None])[:, :, 0]
        t = np.ones(rounds)
        for _halving in range(30):
            trial = theta - t[:, None] * step
            new = loss(trial)
            worse = new > current + 1e-12 * np.abs(current)
            if not worse.any():
                break
            t = np.where(worse, t / 2.0, t)
        theta, current = trial, new
        if np.abs(t[:, None] * step).max() < tol:
            break
    p = 0.5 * (1.0 + np.tanh(0.5 * (theta[0] @ x.T)))
    h0 = hessian((w[0] * p * (1.0 - p))[None, :])[0]
    return (theta[0] if single else theta), np.linalg.inv(h0)


@dataclass
class StyleResult:
    """Raw and style-adjusted ratings on the same A/B votes, the covariates' coefficients (each
    with a 95% interval), and how often the longer answer won."""

    models: list[str]
    raw: list[dict[str, float]]
    adjusted: list[dict[str, float]]
    coefficients: list[dict[str, Any]]
    n_battles: int
    rounds: int
    seed: int
    longer_won: dict[str, Any] = field(default_factory=dict)
    enough: bool = True
    min_battles: int = MIN_STYLE_BATTLES
    interval: str = "bootstrap"
    """``bootstrap`` (wider of percentile and normal) or ``normal`` (above :data:`BOOT_BUDGET`)."""

    def to_json(self) -> dict[str, Any]:
        none: list[dict[str, float] | None] = [None] * len(self.models)
        return {
            "n": self.n_battles,
            "enough": self.enough,
            "min_battles": self.min_battles,
            "rounds": self.rounds,
            "seed": self.seed,
            "interval": self.interval,
            "boot_budget": BOOT_BUDGET,
            "models": [
                {"model": m, "raw": r, "adjusted": a}
                for m, r, a in zip(
                    self.models,
                    self.raw or none,
                    self.adjusted or none,
                    strict=True,
                )
            ],
            "coefficients": self.coefficients,
            "longer_won": self.longer_won,
        }


def _interval(
    point: FloatArray, boot: FloatArray | None, half: FloatArray
) -> tuple[FloatArray, ...]:
    if boot is None:  # no bootstrap (over the budget): the normal interval alone
        return point - half, point + half
    lower = np.minimum(np.quantile(boot, 0.025, axis=0), point - half)
    upper = np.maximum(np.quantile(boot, 0.975, axis=0), point + half)
    return lower, upper


def longer_share(len_a: Any, len_b: Any, outcomes: Any) -> dict[str, Any]:
    """Decisive votes (no tie) between answers of different length: how many the longer won,
    with its 95% Wilson interval and n ("enough" from :data:`MIN_SHARE_N`)."""
    la, lb = np.asarray(len_a, np.float64), np.asarray(len_b, np.float64)
    o = np.asarray(outcomes, np.float64)
    keep = (o != 0.5) & (la != lb)
    won = int(((la > lb) == (o == 1.0))[keep].sum())
    n = int(keep.sum())
    (lo,), (hi,) = wilson_interval([won], [n])
    return {
        "won": won,
        "n": n,
        "rate": won / n if n else None,
        "lower": None if not n else float(lo),
        "upper": None if not n else float(hi),
        "enough": n >= MIN_SHARE_N,
    }


def style_control(
    models: Sequence[str],
    matchups: NDArray[np.int64],
    outcomes: FloatArray,
    counts_a: Any,
    counts_b: Any,
    rounds: int = 1000,
    seed: int = 0,
    scale: float = 400.0,
    init_rating: float = 1000.0,
    min_battles: int = MIN_STYLE_BATTLES,
    feature_names: Sequence[str] = FEATURES,
    boot_budget: int = BOOT_BUDGET,
) -> StyleResult:
    """Raw and style-controlled ratings over battles (model indices, outcome 1 / 0.5 / 0 for a,
    each side's style counts). Below ``min_battles`` nothing is fitted (``enough`` False).
    Above ``boot_budget`` rounds × battles the intervals are normal ones (``interval``)."""
    n, m = int(outcomes.size), len(models)
    ca, cb = np.asarray(counts_a, np.float64), np.asarray(counts_b, np.float64)
    share = longer_share(ca[:, 0], cb[:, 0], outcomes) if n else longer_share([], [], [])
    empty = StyleResult(list(models), [], [], [], n, rounds, seed, share, False, min_battles)
    if n < min_battles or m < 2:
        return empty
    z, varies = style_features(ca, cb)
    z = z[:, varies]
    interval = "bootstrap" if rounds * n <= boot_budget else "normal"
    if interval == "bootstrap":
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(np.float64)
    centre = np.eye(m) - 1.0 / m
    out: list[list[dict[str, float]]] = []
    coefficients: list[dict[str, Any]] = []
    for feats in (np.zeros((n, 0)), z):
        theta, cov = fit_contextual(matchups, feats, outcomes, m)
        boot: FloatArray | None = None
        if interval == "bootstrap":
            boot, _cov = fit_contextual(matchups, feats, outcomes, m, weights=draws)
        r_cov = centre @ cov[:m, :m] @ centre
        point = theta[:m] * scale + init_rating
        half = Z95 * np.sqrt(np.clip(np.diag(r_cov), 0.0, None)) * scale
        lo, hi = _interval(point, None if boot is None else boot[:, :m] * scale + init_rating, half)
        out.append(
            [
                {"rating": float(point[i]), "lower": float(lo[i]), "upper": float(hi[i])}
                for i in range(m)
            ]
        )
        if feats.shape[1]:
            beta = theta[m:]
            b_half = Z95 * np.sqrt(np.clip(np.diag(cov)[m:], 0.0, None))
            b_lo, b_hi = _interval(beta, None if boot is None else boot[:, m:], b_half)
            it = iter(range(beta.size))
            for name, v in zip(feature_names, varies.tolist(), strict=True):
                if not v:
                    coefficients.append({"feature": name, "coef": None, "varies": False})
                    continue
                j = next(it)
                coefficients.append(
                    {
                        "feature": name,
                        "coef": float(beta[j]),
                        "lower": float(b_lo[j]),
                        "upper": float(b_hi[j]),
                        "varies": True,
                    }
                )
    if not coefficients:
        coefficients = [{"feature": f, "coef": None, "varies": False} for f in feature_names]
    return StyleResult(
        list(models),
        out[0],
        out[1],
        coefficients,
        n,
        rounds,
        seed,
        share,
        True,
        min_battles,
        interval,
    )


def read_style_battles(
    conn: sqlite3.Connection, catalog: str | None
) -> tuple[list[str], NDArray[np.int64], FloatArray, FloatArray, FloatArray]:
    """The A/B votes in force with both answers' style counts → models, matchups, outcomes (for
    the side with the smaller content hash) and the two sides' counts (:data:`STYLE_COLUMNS`)."""
    where, params = ("1", []) if catalog is None else ("catalog = ?", [catalog])
    cols_a = [f"sa.{c}" for c in STYLE_COLUMNS]
    cols_b = [f"sb.{c}" for c in STYLE_COLUMNS]
    # item = 'pair:<hash a>|<hash b>'; each side's answer is its first stored one, whose model
    # and counts ``answer_style`` holds (a vote on an answer no longer stored has no row there);
    # the outcome is for side a. Every column comes as one list, the models as codes into the
    # answers' aliases in name order (300,000 votes: 1.3 s, where Python rows took 2.1 s).
    names = sorted(a for (a,) in conn.execute("SELECT DISTINCT model_alias FROM answer_style"))
    lists = ", ".join(
        f"group_concat({c})"
        for c in (
            case_codes("sa.model_alias", len(names)),
            case_codes("sb.model_alias", len(names)),
            "v.o",
            *cols_a,
            *cols_b,
        )
    )
    row = conn.execute(
        f"SELECT {lists} FROM (SELECT substr(item, 6, instr(item, '|') - 6) AS ha, "
        "substr(item, instr(item, '|') + 1) AS hb, "
        "CASE canon_value WHEN 'a' THEN 1.0 WHEN 'b' THEN 0.0 ELSE 0.5 END AS o FROM "
        f"ratings_current WHERE kind = 'pair' AND instr(item, '|') > 0 AND {where}) v "
        "JOIN answer_style sa ON sa.content_hash = v.ha "
        "JOIN answer_style sb ON sb.content_hash = v.hb WHERE sa.model_alias != sb.model_alias",
        [*names, *names, *params],
    ).fetchone()
    # Codes and counts are integers (parsed 4× faster as such); the outcome is 0, ½ or 1.
    values = [numbers(v, np.float64 if i == 2 else np.int64) for i, v in enumerate(row)]
    code = np.stack(values[:2], axis=1)
    num = np.stack(values[2:], axis=1).astype(np.float64)
    used, pairs = np.unique(code.T.reshape(-1), return_inverse=True)
    models = [names[i] for i in used.tolist()]
    matchups = pairs.reshape(2, -1).T.astype(np.int64).reshape(-1, 2)
    return models, matchups, num[:, 0], num[:, 1:5], num[:, 5:9]


def style_section(
    conn: sqlite3.Connection, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> StyleResult:
    """The style-controlled leaderboard of a catalog's A/B votes."""
    models, matchups, outcomes, ca, cb = read_style_battles(conn, catalog)
    return style_control(models, matchups, outcomes, ca, cb, rounds=rounds, seed=seed)
