"""Every scoring formula against an independent reference, and compute_scores on a real DB."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from genaicompare.scoring import (
    BattleCounts,
    auc,
    battles_from_counts,
    bradley_terry,
    bt_design,
    cohen_kappa,
    compute_scores,
    fit_bt,
    fit_bt_rounds,
    newcombe_difference,
    votes_to_separate,
    wilson_interval,
)


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


# -- end to end on a real database ---------------------------------------------------------------
def _db(tmp_path: Path):  # type: ignore[no-untyped-def]
    from genaicompare.catalog import Catalog
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    store = Store(tmp_path / "s.db")
    prompts = [
        {
            "id": f"p{i}",
            "prompt": f"q{i}",
            "tags": ["math" if i < 2 else "chat"],
            "segment": "g1" if i % 2 == 0 else "g2",
            "task": "qa",
        }
        for i in range(4)
    ]
    cat = Catalog.model_validate(
        {"name": "c", "prompts": prompts, "models": [{"id": "x", "model": "openai/x"}]}
    )
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "headless")
    recs: dict[tuple[str, str], ResponseRecord] = {}
    for i in range(4):
        for alias, lat in (("x", 100.0 + i), ("y", 200.0 + i)):
            rec = ResponseRecord(
                prompt_id=f"p{i}",
                model_alias=alias,
                model=f"openai/{alias}",
                params={},
                messages=[{"role": "user", "content": f"q{i}"}],
                text=f"{alias} answer {i}",
                state=FinishState.complete,
                latency_ms=lat,
                ttft_ms=lat / 10,
                cost_usd=None if (alias, i) == ("y", 3) else 0.01,
            )
            store.save_response(rec, run_id=run, catalog_id=cid)
            store.save_metrics(
                rec.id,
                {
                    "rougeL": (0.1 * i + (0.5 if alias == "x" else 0), None, "1"),
                    "assert:len": (1.0 if alias == "x" else 0.0, None, "1"),
                },
            )
            recs[(alias, f"p{i}")] = rec
    ann, bob = Ratings(store, rater="ann"), Ratings(store, rater="bob")
    for i in range(4):
        ann.thumb(recs[("x", f"p{i}")], "up")
        ann.thumb(recs[("y", f"p{i}")], "down" if i else "up")
    bob.thumb(recs[("x", "p0")], "up")
    bob.thumb(recs[("y", "p0")], "down")  # disagrees with ann on y/p0
    bob.prefer(recs[("x", "p1")], recs[("y", "p1")], "a")
    bob.prefer(recs[("y", "p2")], recs[("x", "p2")], "b")
    bob.prefer(recs[("x", "p3")], recs[("y", "p3")], "both_bad")
    return store


def test_compute_scores_end_to_end(tmp_path: Path) -> None:
    store = _db(tmp_path)
    s = compute_scores(store, "c", rounds=100)
    rows = {r.model: r for r in s.models}
    assert (rows["x"].rated, rows["x"].up) == (5, 5)
    assert (rows["y"].rated, rows["y"].up) == (5, 1)
    lo, hi = wilson_interval([1], [5])
    assert (rows["y"].up_lower, rows["y"].up_upper) == pytest.approx((lo[0], hi[0]))
    assert rows["x"].latency_p50 == pytest.approx(np.quantile([100, 101, 102, 103], 0.5))
    assert rows["y"].latency_p95 == pytest.approx(np.quantile([200, 201, 202, 203], 0.95))
    assert rows["y"].cost_unknown == 1 and rows["y"].cost_total == pytest.approx(0.03)
    assert rows["y"].cost_per_answer == pytest.approx(0.01)
    assert rows["x"].metrics["rougeL"]["n"] == 4
    assert rows["x"].metrics["rougeL"]["mean"] == pytest.approx(0.65)
    assert rows["y"].metrics["rougeL"]["median"] == pytest.approx(0.15)
    # Battles: bob's 3 A/B votes; thumbs per (rater, prompt): ann p0 up/up tie, p1..p3 x beats
    # y, bob p0 x beats y. x won 1 (A/B) + 3 + 1 (thumbs); 1 tie; 1 both-bad (a tie too).
    assert s.battle_sources == {"preferences": 3, "thumbs": 5}
    mx = s.pairwise["models"].index("x")
    my = s.pairwise["models"].index("y")
    assert s.pairwise["wins"][mx][my] == 6 and s.pairwise["wins"][my][mx] == 0
    assert s.pairwise["ties"][mx][my] == 2 and s.pairwise["both_bad"][mx][my] == 1
    assert s.bt is not None and s.bt.rows()[0]["model"] == "x"
    # κ between ann and bob over their 2 shared thumbs (x/p0 up-up, y/p0 up-down).
    (k,) = s.kappa
    assert (k["rater_a"], k["rater_b"], k["shared"]) == ("ann", "bob", 2)
    assert k["agreement"] == 0.5
    assert k["kappa"] == pytest.approx(cohen_kappa([[1, 1], [0, 0]]), nan_ok=True)
    # Metric agreement: assert:len is 1 exactly for x, which humans liked: perfect agreement.
    agree = {a["metric"]: a for a in s.metric_agreement}
    assert agree["assert:len"]["kind"] == "pass/fail"
    assert agree["assert:len"]["agreement"] == pytest.approx(7 / 7)
    assert agree["rougeL"]["kind"] == "score" and 0.5 < agree["rougeL"]["auc"] <= 1.0
    # Fairness: y is up on g1 (p0: ann up → 1 of 2 thumbs on p0, p2 down) vs g2 (p1, p3 down).
    fy = next(m for m in s.fairness["models"] if m["model"] == "y")
    segs = {e["segment"]: e for e in fy["segments"]}
    assert (segs["g1"]["rated"], segs["g1"]["up_rate"]) == (3, pytest.approx(1 / 3))
    assert (segs["g2"]["rated"], segs["g2"]["up_rate"]) == (2, 0.0)
    gap = fy["largest_gap"]
    d, lo_d, hi_d = newcombe_difference(1, 3, 0, 2)
    assert (gap["high"], gap["low"], gap["gap"]) == ("g1", "g2", pytest.approx(d))
    assert (gap["lower"], gap["upper"]) == pytest.approx((lo_d, hi_d))
    (run,) = s.trends["per_run"]
    assert run["responses"] == 8 and run["rated"] == 10 and run["up_rate"] == pytest.approx(0.6)
    (day,) = s.trends["per_day"]
    assert day["rated"] == 10 and day["responses"] == 8
    js = s.to_json()
    assert js["bt"]["rows"][0]["model"] == "x" and js["battle_sources"]["thumbs"] == 5
    charts = s.chart_data()
    assert charts[0]["bars"][0]["label"] == "x" and charts[0]["bars"][0]["value"] == 100.0


def test_compute_scores_by_tag_and_task(tmp_path: Path) -> None:
    store = _db(tmp_path)
    by_tag = compute_scores(store, "c", by="tag", rounds=10)
    g = {(r.model, r.group): r for r in by_tag.groups}
    assert (g[("y", "math")].rated, g[("y", "math")].up) == (3, 1)  # p0 ann up, bob down; p1
    assert (g[("y", "chat")].rated, g[("y", "chat")].up) == (2, 0)
    assert g[("x", "math")].responses == 2 and g[("x", "math")].metrics["rougeL"]["n"] == 2
    by_task = compute_scores(store, "c", by="task", rounds=10)
    t = {(r.model, r.group): r for r in by_task.groups}
    assert t[("x", "qa")].rated == 5 and t[("x", "qa")].responses == 4


def test_scores_see_an_empty_catalog_without_failing(tmp_path: Path) -> None:
    from genaicompare.store import Store

    with Store(tmp_path / "e.db") as store:
        s = compute_scores(store, "nothing")
    assert s.models == [] and s.bt is None and s.kappa == []


def test_parallel_and_sequential_reads_agree(tmp_path: Path) -> None:
    store = _db(tmp_path)
    for by in (None, "tag"):
        one = compute_scores(store, "c", by=by, rounds=20, parallel=False).to_json()
        two = compute_scores(store, "c", by=by, rounds=20, parallel=True).to_json()
        assert one == two


def test_scores_table_shows_hostile_names_as_inert_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from genaicompare.commands.scores import print_scores
    from genaicompare.ratings import Ratings
    from genaicompare.store import Store

    monkeypatch.setenv("COLUMNS", "300")  # wide enough that no cell is cut
    store = _db(tmp_path)
    evil = "eve\x1b]52;c;cHduZWQ=\x07[bold red]x[/]\x9b2J"
    rec = store.response(1)
    assert rec is not None
    Ratings(store, rater=evil).thumb(rec, "down")
    print_scores(compute_scores(store, "c", rounds=10))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "[bold red]x[/]" in out  # markup shown literally, not applied
    assert isinstance(store, Store)
