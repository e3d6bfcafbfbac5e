"""Paired tests for a baseline and a candidate answering the same prompts, and the sizes they need.

Same prompts on both sides: the outcomes are paired, and so are the tests (an unpaired test throws
away the correlation and misses real differences).

* pass/fail outcomes (assertions, thumbs): McNemar's exact test on the discordant pairs, equal to
  statsmodels' ``mcnemar(table, exact=True)``, and Newcombe's (1998) paired score interval of the
  difference; a drop beyond a margin: Tango's (1998) score test;
* metric deltas (``mean:METRIC``, similarity, latency, cost): a paired bootstrap interval of the
  mean difference (fixed seed) and the Wilcoxon signed-rank p-value, equal to
  ``scipy.stats.wilcoxon`` with its defaults (zeros dropped, no continuity correction, exact
  distribution when it can be, normal approximation otherwise);
* judge pairwise verdicts: the sign test, equal to ``scipy.stats.binomtest(k, n, 0.5)``;
* the minimum detectable effect (MDE) at 80% power for the n at hand, and its inverse, the n a
  change needs (:mod:`genaicompare.commands.plan`).

Pure Python and numpy: the reference libraries are the tests' oracles, not dependencies.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from genaicompare.core.records import TIMINGS, measured

if TYPE_CHECKING:
    from genaicompare.gate.cases import Case

ALPHA = 0.05
POWER = 0.8
BOOTSTRAP_ROUNDS = 2000
BOOTSTRAP_CELLS = 1 << 21
"""Resampled values the paired bootstrap holds at once (16 MB of indices, 16 MB of values): its
rounds are drawn a block at a time. 2,000 rounds of 333,000 pairs at once were 5 GB."""
_N = NormalDist()

TESTS = ("mcnemar_exact", "wilcoxon", "sign")


def z(q: float) -> float:
    """The standard normal quantile."""
    return _N.inv_cdf(q)


# ------------------------------------------------------------------------------ exact binomials


def _log_pmf(k: int, n: int, p: float) -> float:
    if p <= 0.0:
        return 0.0 if k == 0 else -math.inf
    if p >= 1.0:
        return 0.0 if k == n else -math.inf
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def binom_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k), X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    return min(1.0, math.fsum(math.exp(_log_pmf(i, n, p)) for i in range(k + 1)))


def binom_sf(k: int, n: int, p: float) -> float:
    """P(X ≥ k), X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return min(1.0, math.fsum(math.exp(_log_pmf(i, n, p)) for i in range(k, n + 1)))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test of ``wins`` against ``losses`` (ties dropped before):
    ``scipy.stats.binomtest(wins, wins + losses, 0.5).pvalue``; 1.0 when there is no pair."""
    n = wins + losses
    if n == 0:
        return 1.0
    return min(1.0, 2.0 * binom_cdf(min(wins, losses), n, 0.5))


def mcnemar_exact(b: int, c: int) -> float:
    """McNemar's exact test on the discordant pairs ``b`` (pass → fail) and ``c`` (fail → pass):
    statsmodels' ``mcnemar([[a, b], [c, d]], exact=True).pvalue`` (1.0 with no discordant pair)."""
    return sign_test(b, c)


def min_exact_pairs(alpha: float = ALPHA) -> int:
    """The fewest pairs, all one way, that a two-sided exact sign (or McNemar) test can reject at
    ``alpha`` with: 6 at 0.05. Fewer discordant pairs can never be significant."""
    k = 1
    while 2.0 * 0.5**k > alpha:
        k += 1
    return k


def min_wilcoxon_pairs(alpha: float = ALPHA) -> int:
    """The fewest non-zero differences with which the exact signed-rank test can reject (6)."""
    return min_exact_pairs(alpha)


# ------------------------------------------------------------------------- the margin (Tango)


def tango_restricted_p21(b: int, c: int, n: int, margin: float) -> float:
    """The maximum-likelihood P(fail → pass) under H0 "drop = margin" (drop = p12 − p21)."""
    lo = max(0.0, -margin)
    hi = (1.0 - margin) / 2.0
    a = n - b - c

    def score(p: float) -> float:  # derivative of the log-likelihood in p21; decreasing
        s = 0.0
        if b:
            s += b / (p + margin)
        if c:
            s += c / p
        if a:
            s -= 2.0 * a / (1.0 - 2.0 * p - margin)
        return s

    eps = 1e-15
    if score(lo + eps) <= 0:
        return lo
    if score(hi - eps) >= 0:
        return hi
    for _ in range(200):
        mid = (lo + hi) / 2
        if score(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def drop_beyond_margin(b: int, c: int, n: int, margin: float) -> tuple[float, str]:
    """One-sided p-value of H0 "the pass-rate drop is at most ``margin``" (drop = baseline rate −
    candidate rate = (b − c)/n). Margin 0: McNemar's exact one-sided test; otherwise Tango's score
    test (Tango 1998, the paired non-inferiority test). Returns (p, test name)."""
    if n <= 0:
        return 1.0, "none"
    if margin == 0:
        return binom_sf(b, b + c, 0.5) if b + c else 1.0, "mcnemar_exact"
    p21 = tango_restricted_p21(b, c, n, margin)
    var = n * (2.0 * p21 + margin * (1.0 - margin))
    if var <= 0:
        return (0.0 if b - c > n * margin else 1.0), "tango"
    stat = (b - c - n * margin) / math.sqrt(var)
    return 1.0 - _N.cdf(stat), "tango"


# ------------------------------------------------------------------------------- signed ranks


def _average_ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def wilcoxon(differences: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value, as ``scipy.stats.wilcoxon(d)`` computes it with
    its defaults: zeros dropped; the exact null distribution when there are at most 50
    differences and no zero or tie, or at most 13 differences (with ties/zeros: every sign flip
    enumerated, scipy's permutation test); the normal approximation with the tie correction and
    no continuity correction otherwise. 1.0 when every difference is 0 (no evidence either way;
    scipy gives NaN above 13 such pairs)."""
    d_all = [float(x) for x in differences]
    d = [x for x in d_all if x != 0.0]
    if not d:
        return 1.0
    ranks = _average_ranks([abs(x) for x in d])
    r_plus = sum(r for r, x in zip(ranks, d, strict=True) if x > 0)
    ties = len(set(ranks)) < len(ranks)
    zeros = len(d) < len(d_all)
    if (len(d_all) <= 50 and not (ties or zeros)) or len(d_all) <= 13:
        # Exact: the distribution of the sum of the ranks given a + sign, each sign flip equally
        # likely; ranks doubled so that half ranks are integers.
        twice = [round(2 * r) for r in ranks]
        counts = np.zeros(sum(twice) + 1)
        counts[0] = 1.0
        for r in twice:
            counts[r:] = counts[r:] + counts[: len(counts) - r].copy()
        probs = counts / counts.sum()
        obs = round(2 * r_plus)
        p_le = float(probs[: obs + 1].sum())
        p_ge = float(probs[obs:].sum())
        return min(1.0, 2.0 * min(p_le, p_ge))
    n = len(d)
    mean: float = n * (n + 1) / 4
    counts_of: dict[float, int] = {}
    for rank in ranks:
        counts_of[rank] = counts_of.get(rank, 0) + 1
    tie_term = sum(t**3 - t for t in counts_of.values())
    se = math.sqrt((n * (n + 1) * (2 * n + 1) - tie_term / 2) / 24)
    stat = (r_plus - mean) / se
    return min(1.0, 2.0 * (1.0 - _N.cdf(abs(stat))))


# ---------------------------------------------------------------------------------- intervals


def wilson(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n <= 0:
        return math.nan, math.nan
    zz = z(1 - alpha / 2)
    p = k / n
    denom = 1 + zz * zz / n
    centre = (p + zz * zz / (2 * n)) / denom
    half = zz * math.sqrt(p * (1 - p) / n + zz * zz / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_paired(
    both: int, fail_to_pass: int, pass_to_fail: int, neither: int, alpha: float = ALPHA
) -> tuple[float, float]:
    """Newcombe's (1998) hybrid score interval, his method 10, for the paired difference of
    rates ``candidate − baseline``: the two rates' Wilson intervals squared and added, with the
    continuity-corrected correlation of the pairs. Equal to ``Newcombe_square_and_add_CI_paired_2x2``
    of Fagerland, Lydersen & Laake (R ``contingencytables``). Unlike a bootstrap it keeps its
    width when no pair is discordant: 20 agreeing pairs do not prove the rates equal."""
    n = both + fail_to_pass + pass_to_fail + neither
    if n <= 0:
        return math.nan, math.nan
    cand_pass, base_pass = both + fail_to_pass, both + pass_to_fail
    p1, p2 = cand_pass / n, base_pass / n
    l1, u1 = wilson(cand_pass, n, alpha)
    l2, u2 = wilson(base_pass, n, alpha)
    margins = cand_pass * (n - cand_pass) * base_pass * (n - base_pass)
    phi = 0.0
    if margins > 0:
        cross = both * neither - fail_to_pass * pass_to_fail
        if cross > n / 2:
            phi = (cross - n / 2) / math.sqrt(margins)
        elif cross < 0:
            phi = cross / math.sqrt(margins)
    d = p1 - p2
    lower = d - math.sqrt(
        max(0.0, (p1 - l1) ** 2 + (u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2))
    )
    upper = d + math.sqrt(
        max(0.0, (p2 - l2) ** 2 + (u1 - p1) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1))
    )
    return max(-1.0, lower), min(1.0, upper)


def paired_bootstrap(
    baseline: Sequence[float],
    candidate: Sequence[float],
    rounds: int = BOOTSTRAP_ROUNDS,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval of the mean of ``candidate − baseline``, pairs resampled together
    (``rounds`` resamples, fixed seed: the same data gives the same interval)."""
    diff = np.asarray(candidate, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    n = diff.size
    if n == 0:
        return math.nan, math.nan
    if n == 1:
        return math.nan, math.nan  # one pair: no spread to resample, no interval to claim
    rng = np.random.default_rng(seed)
    # A block of rounds at a time: the generator draws the same integers, in the same order, as
    # for all rounds at once, and each round's mean is its own row's, so the interval is the same.
    step = max(1, BOOTSTRAP_CELLS // n)
    means = np.empty(rounds)
    for start in range(0, rounds, step):
        stop = min(rounds, start + step)
        means[start:stop] = diff[rng.integers(0, n, size=(stop - start, n))].mean(axis=1)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(lo), float(hi)


# ---------------------------------------------------------------------------- power and sizes


def n_for_paired_rates(
    delta: float, psi: float, alpha: float = ALPHA, power: float = POWER
) -> float:
    """Pairs a McNemar test needs to detect a change ``delta`` in a pass rate when the discordant
    share is ``psi`` (Connor 1987): n = (z₁₋α/₂ √ψ + z_power √(ψ − δ²))² / δ². ψ below |δ| is
    impossible and taken as |δ| (every discordant pair one way)."""
    delta = abs(delta)
    if delta <= 0:
        return math.inf
    psi = min(1.0, max(psi, delta))
    za, zb = z(1 - alpha / 2), z(power)
    return (za * math.sqrt(psi) + zb * math.sqrt(max(0.0, psi - delta * delta))) ** 2 / delta**2


def discordance(p_base: float, p_cand: float, rho: float) -> float:
    """The share of discordant pairs ψ = p₁ + p₂ − 2 p₁₁ of two pass/fail outcomes with rates
    ``p_base``, ``p_cand`` and correlation (phi) ``rho``, kept inside what the rates allow."""
    joint = p_base * p_cand + rho * math.sqrt(p_base * (1 - p_base) * p_cand * (1 - p_cand))
    joint = min(max(joint, max(0.0, p_base + p_cand - 1)), min(p_base, p_cand))
    return p_base + p_cand - 2 * joint


def mde_paired_rates(
    n: int, psi: float | None, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest change in a pass rate n pairs detect at ``power`` (McNemar), at the observed
    discordant share ``psi``; never below the exact test's floor (6 pairs one way at α = 0.05).
    None when n is below that floor: no change at all could be significant."""
    k_min = min_exact_pairs(alpha)
    if n < k_min:
        return None
    psi = 0.0 if psi is None else psi
    lo, hi = 1e-9, 1.0
    if n_for_paired_rates(hi, psi, alpha, power) > n:
        return 1.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if n_for_paired_rates(mid, psi, alpha, power) > n:
            lo = mid
        else:
            hi = mid
    return max(hi, k_min / n)


def n_for_mean(delta: float, sd: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Pairs a paired test of the mean difference needs for a change ``delta`` when the
    differences have standard deviation ``sd``: ((z₁₋α/₂ + z_power)·sd/δ)² + z₁₋α/₂²/2 (the
    normal formula with Guenther's 1981 correction for the t distribution)."""
    delta = abs(delta)
    if delta <= 0:
        return math.inf
    za, zb = z(1 - alpha / 2), z(power)
    return ((za + zb) * sd / delta) ** 2 + za * za / 2


def mde_mean(n: int, sd: float | None, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest mean difference n pairs detect at ``power``: the inverse of
    :func:`n_for_mean`. None below the signed-rank test's floor (6 non-zero differences) or
    without an estimate of the spread (sd None, or 0: every pair equal says nothing of how much
    they could differ)."""
    za, zb = z(1 - alpha / 2), z(power)
    if not sd or n < min_wilcoxon_pairs(alpha) or n <= za * za / 2:
        return None
    return (za + zb) * sd / math.sqrt(n - za * za / 2)


def n_for_sign(delta: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """Decisive votes a sign test needs to detect a win rate of 0.5 + ``delta``:
    ((z₁₋α/₂·0.5 + z_power·√(p(1 − p)))/δ)², p = 0.5 + δ."""
    delta = abs(delta)
    if delta <= 0:
        return math.inf
    if delta >= 0.5:
        return float(min_exact_pairs(alpha))
    p = 0.5 + delta
    za, zb = z(1 - alpha / 2), z(power)
    return max(
        float(min_exact_pairs(alpha)), ((za * 0.5 + zb * math.sqrt(p * (1 - p))) / delta) ** 2
    )


def mde_sign(n: int, alpha: float = ALPHA, power: float = POWER) -> float | None:
    """The smallest departure of a win rate from 0.5 that n decisive votes detect (None below 6)."""
    if n < min_exact_pairs(alpha):
        return None
    lo, hi = 1e-9, 0.5
    for _ in range(100):
        mid = (lo + hi) / 2
        if n_for_sign(mid, alpha, power) > n:
            lo = mid
        else:
            hi = mid
    return hi


# ---------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class PairedFigure:
    """One compared figure of a candidate and its baseline (the reports' ``paired`` rows)."""

    figure: str
    test: str
    n: int
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    mde: float | None
    model: str = ""
    against: str = ""
    detail: dict[str, int] | None = None
    """mcnemar_exact / sign: the discordant (or decisive) counts behind the test."""

    def as_dict(self) -> dict[str, Any]:
        def num(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        return {
            "figure": self.figure,
            "test": self.test,
            "model": self.model,
            "against": self.against,
            "n": self.n,
            "baseline": num(self.baseline),
            "candidate": num(self.candidate),
            "delta": num(self.delta),
            "ci": None if self.ci is None else [num(self.ci[0]), num(self.ci[1])],
            "p_value": num(self.p_value),
            "mde": num(self.mde),
            **({"detail": self.detail} if self.detail else {}),
        }


def _rate_table(pairs: Sequence[tuple[Any, Any]]) -> tuple[int, int, int, int]:
    """(both passed, fail → pass, pass → fail, neither) of (baseline, candidate) outcomes, as
    :func:`newcombe_paired` takes them."""
    both = up = down = 0
    for base, cand in pairs:
        if base and cand:
            both += 1
        elif cand:
            up += 1
        elif base:
            down += 1
    return both, up, down, len(pairs) - both - up - down


def _rate_interval(table: tuple[int, int, int, int]) -> tuple[tuple[float, float], float | None]:
    """A paired rate difference's interval (Newcombe's) and McNemar's MDE at its n."""
    n = sum(table)
    return newcombe_paired(*table), mde_paired_rates(n, (table[1] + table[2]) / n)


def paired_rates(
    figure: str, pairs: Sequence[tuple[bool, bool]], model: str = "", against: str = ""
) -> PairedFigure:
    """(baseline passed, candidate passed) per prompt → McNemar's exact test, Newcombe's paired
    score interval of the rate difference (:func:`newcombe_paired`), McNemar's MDE at this n."""
    n = len(pairs)
    if n == 0:
        return PairedFigure(
            figure, "mcnemar_exact", 0, None, None, None, None, None, None, model, against
        )
    table = _rate_table(pairs)
    both, c, b, _neither = table
    pb, pc = (both + b) / n, (both + c) / n
    ci, mde = _rate_interval(table)
    return PairedFigure(
        figure,
        "mcnemar_exact",
        n,
        pb,
        pc,
        pc - pb,
        ci,
        mcnemar_exact(b, c),
        mde,
        model,
        against,
        {"pass_to_fail": b, "fail_to_pass": c},
    )


def paired_means(
    figure: str,
    pairs: Sequence[tuple[float, float]],
    model: str = "",
    against: str = "",
    rate: bool = False,
) -> PairedFigure:
    """(baseline value, candidate value) per prompt → Wilcoxon signed-rank p, bootstrap interval
    of the mean difference, MDE from the differences' spread.

    ``rate``: the values answer yes or no (1 or 0: ``contains``, ``exact_match``), so the
    interval and the MDE are a rate's (:func:`paired_rates`). Otherwise, when every difference
    is the same, there is no interval (as there is no MDE): a bootstrap of a constant is
    [Δ, Δ], a certainty the pairs cannot give."""
    n = len(pairs)
    if n == 0:
        return PairedFigure(
            figure, "wilcoxon", 0, None, None, None, None, None, None, model, against
        )
    base = [x for x, _ in pairs]
    cand = [y for _, y in pairs]
    diffs = [y - x for x, y in pairs]
    sd = float(np.std(diffs, ddof=1)) if n > 1 else None
    mb, mc = math.fsum(base) / n, math.fsum(cand) / n
    mde = mde_mean(n, sd)
    if rate and all(x in (0.0, 1.0) and y in (0.0, 1.0) for x, y in pairs):
        ci, mde = _rate_interval(_rate_table(pairs))
    elif sd == 0:
        ci = (math.nan, math.nan)
    else:
        ci = paired_bootstrap(base, cand)
    return PairedFigure(
        figure,
        "wilcoxon",
        n,
        mb,
        mc,
        mc - mb,
        ci,
        wilcoxon(diffs),
        mde,
        model,
        against,
    )


def paired_votes(
    figure: str, wins: int, losses: int, ties: int, model: str = "", against: str = ""
) -> PairedFigure:
    """Judge pairwise verdicts of the candidate against the baseline → the sign test (ties
    dropped). baseline / candidate: each side's share of the decisive verdicts; the interval
    is the Wilson interval of the candidate's share, shifted to the difference (2p − 1)."""
    n = wins + losses
    if n == 0:
        return PairedFigure(
            figure,
            "sign",
            0,
            None,
            None,
            None,
            None,
            None,
            None,
            model,
            against,
            {"wins": wins, "losses": losses, "ties": ties},
        )
    pc = wins / n
    lo, hi = wilson(wins, n)
    return PairedFigure(
        figure,
        "sign",
        n,
        1 - pc,
        pc,
        2 * pc - 1,
        (2 * float(lo) - 1, 2 * float(hi) - 1),
        sign_test(wins, losses),
        None if (m := mde_sign(n)) is None else 2 * m,
        model,
        against,
        {"wins": wins, "losses": losses, "ties": ties},
    )


# ------------------------------------------------------------------------------ from the cases

_SKIPPED_METRICS = frozenset({"latency_ms", "ttft_ms", "cost_usd", "judge_pairwise", "tokens_in"})
"""Metrics compared under their own figure (latency, cost), by their own test (judge), or that
describe the prompt rather than the answer (``tokens_in``, ``prompt_*``)."""


def _number(value: Any) -> float | None:
    v = value.get("value") if isinstance(value, dict) else value
    if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _case_mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return math.fsum(kept) / len(kept) if kept else None


def compare_cases(
    model: str,
    against: str,
    pairs: Sequence[tuple[Case, Case]],
    metrics: dict[int, dict[str, Any]],
    thumbs: dict[str, bool] | None = None,
    votes: tuple[int, int, int] | None = None,
) -> list[PairedFigure]:
    """Every figure of a candidate compared with its baseline on the same prompts.

    ``pairs``: (baseline case, candidate case) per prompt, neither errored; ``metrics``: response
    id → stored metrics (both sides); ``thumbs``: content hash → thumbs up (the majority of the
    current thumbs; ties left out); ``votes``: the judge's (wins, losses, ties) of the candidate
    against the baseline. The reports show them in this order: assertions, thumbs, judge,
    similarity, metrics, latency, cost."""
    gathered = PairedInputs()
    gathered.add(pairs, metrics, thumbs)
    return gathered.figures(model, against, votes)


class PairedInputs:
    """What :func:`compare_cases` compares, gathered a batch of pairs at a time: per figure, the
    baseline's and the candidate's numbers in two flat arrays (8 bytes a value), so that a diff
    of two runs of 333,000 answers holds numbers, not the cases and their metrics."""

    def __init__(self) -> None:
        self.asserted = (array("b"), array("b"))
        self.thumbs = (array("b"), array("b"))
        self.similarity = array("d")
        self.metrics: dict[str, tuple[array[float], array[float]]] = {}
        self.ops: dict[str, tuple[array[float], array[float]]] = {
            "latency_ms": (array("d"), array("d")),
            "cost_usd": (array("d"), array("d")),
        }

    def add(
        self,
        pairs: Sequence[tuple[Case, Case]],
        metrics: dict[int, dict[str, Any]],
        thumbs: dict[str, bool] | None = None,
    ) -> None:
        """More (baseline case, candidate case) pairs, in order; ``metrics`` and ``thumbs`` as
        :func:`compare_cases` takes them, for these pairs' answers at least."""
        for b, c in pairs:
            if b.has_assertions and c.has_assertions:
                self.asserted[0].append(b.passed)
                self.asserted[1].append(c.passed)
            if thumbs:
                tb = [thumbs[s.content_hash] for s in b.samples[:1] if s.content_hash in thumbs]
                tc = [thumbs[s.content_hash] for s in c.samples[:1] if s.content_hash in thumbs]
                if tb and tc:
                    self.thumbs[0].append(tb[0])
                    self.thumbs[1].append(tc[0])
            if c.baseline_similarity is not None:
                self.similarity.append(c.baseline_similarity)
            mb = _sample_metrics(b, metrics)
            mc = _sample_metrics(c, metrics)
            for name in mc:
                if name in mb:
                    base, cand = self.metrics.setdefault(name, (array("d"), array("d")))
                    base.append(mb[name])
                    cand.append(mc[name])
            for field, (base, cand) in self.ops.items():
                vb = _case_mean([getattr(s, field) for s in b.samples if measured(s, field)])
                vc = _case_mean([getattr(s, field) for s in c.samples if measured(s, field)])
                if vb is not None and vc is not None:
                    base.append(vb)
                    cand.append(vc)

    def figures(
        self, model: str, against: str, votes: tuple[int, int, int] | None = None
    ) -> list[PairedFigure]:
        """The figures, in the reports' order (see :func:`compare_cases`)."""
        from genaicompare.metrics.display import YES_NO  # lazy: the metrics package

        out: list[PairedFigure] = []
        if self.asserted[0]:
            out.append(paired_rates("assert_pass_rate", _bools(self.asserted), model, against))
        if self.thumbs[0]:
            out.append(paired_rates("thumbs_up_rate", _bools(self.thumbs), model, against))
        if votes is not None and votes[0] + votes[1] + votes[2]:
            out.append(paired_votes("judge_pairwise", *votes, model=model, against=against))
        if self.similarity:
            sims = [(1.0, v) for v in self.similarity]
            out.append(paired_means("baseline_similarity", sims, model, against))
        for name in sorted(self.metrics):
            if name in _SKIPPED_METRICS or name.startswith(
                ("judge_pairwise:", "similarity_to:", "prompt_")
            ):
                continue
            base, cand = self.metrics[name]
            out.append(
                paired_means(
                    f"mean:{name}",
                    list(zip(base, cand, strict=True)),
                    model,
                    against,
                    rate=name in YES_NO,
                )
            )
        for figure, (base, cand) in self.ops.items():
            if base:
                out.append(paired_means(figure, list(zip(base, cand, strict=True)), model, against))
        return out


def _bools(columns: tuple[array[int], array[int]]) -> list[tuple[bool, bool]]:
    return [(bool(x), bool(y)) for x, y in zip(*columns, strict=True)]


def _sample_metrics(case: Case, metrics: dict[int, dict[str, Any]]) -> dict[str, float]:
    sums: dict[str, list[float]] = {}
    for s in case.samples:
        for name, value in metrics.get(s.id or -1, {}).items():
            if s.from_cache and name in TIMINGS:
                continue  # the first asking's timing (see TIMINGS)
            v = _number(value)
            if v is not None:
                sums.setdefault(name, []).append(v)
    return {k: math.fsum(v) / len(v) for k, v in sums.items()}


def judge_votes(
    cases: Sequence[Case], metrics: dict[int, dict[str, Any]], baseline_alias: str
) -> tuple[int, int, int] | None:
    """The judge's pairwise verdicts of these (candidate) cases against ``baseline_alias``:
    (wins, losses, ties), or None when the judge compared none."""
    wins = losses = ties = 0
    for case in cases:
        for s in case.samples:
            v = _number(metrics.get(s.id or -1, {}).get(f"judge_pairwise:{baseline_alias}"))
            if v is None:
                continue
            wins += v > 0
            losses += v < 0
            ties += v == 0
    return (wins, losses, ties) if wins + losses + ties else None


def majority_thumbs(rows: Sequence[dict[str, Any]]) -> dict[str, bool]:
    """content hash → True (more ups than downs) / False (more downs); ties left out."""
    tally: dict[str, int] = {}
    for row in rows:
        step = 1 if row["value"] == "up" else -1 if row["value"] == "down" else 0
        tally[row["content_hash"]] = tally.get(row["content_hash"], 0) + step
    return {h: t > 0 for h, t in tally.items() if t != 0}
