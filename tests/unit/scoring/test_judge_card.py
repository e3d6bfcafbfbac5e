"""The judge's report card (issue 14 §6), read from a real store: every figure against its reference
(statsmodels' Wilson interval and Cohen's κ, FastChat's contextual BT for the length slope), small
n, and the min_agreement check."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genaicompare.scoring.judge_card import (
    MIN_OVERLAP,
    check_min_agreement,
    judge_human_agreement,
    judge_section,
    kappa_entry,
    provider_of,
)

JUDGE = "openai/judge-x"


def _store(path: Path, n_prompts: int):  # type: ignore[no-untyped-def]
    from genaicompare.catalog import Catalog
    from genaicompare.store import Store

    store = Store(path)
    cat = Catalog.model_validate(
        {
            "name": "jc",
            "prompts": [
                {"id": f"p{i}", "prompt": f"q{i}", "tags": ["even" if i % 2 == 0 else "odd"]}
                for i in range(n_prompts)
            ],
            "models": [
                {"id": "short", "model": "openai/s"},
                {"id": "long", "model": "anthropic/l"},
            ],
        }
    )
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "headless")
    return store, cid, run


def _answer(store, cid, run, prompt: str, alias: str, text: str):  # type: ignore[no-untyped-def]
    from genaicompare.core.records import FinishState, ResponseRecord

    rec = ResponseRecord(
        prompt_id=prompt,
        model_alias=alias,
        model="openai/s" if alias == "short" else "anthropic/l",
        params={},
        messages=[{"role": "user", "content": prompt}],
        text=text,
        state=FinishState("complete"),
    )
    store.save_response(rec, run_id=run, catalog_id=cid)
    return rec


def _verdict(store, a, b, ab: str, ba: str) -> None:  # type: ignore[no-untyped-def]
    """Store a pairwise verdict as the judge runner does: on both answers, from each side."""
    winner = ab if ab == ba else "tie"
    value = {"a": 1.0, "b": -1.0, "tie": 0.0}[winner]
    alias = {"a": a.model_alias, "b": b.model_alias, "tie": "tie"}[winner]
    for me, other, sign in ((a, b, 1.0), (b, a, -1.0)):
        detail = {
            "winner": alias,
            "orders": {"AB": ab, "BA": ba},
            "inconsistent": ab != ba,
            "a": a.model_alias,
            "b": b.model_alias,
            "opponent": other.model_alias,
            "opponent_id": other.id,
        }
        store.save_metrics(
            me.id,
            {f"judge_pairwise:{other.model_alias}": (value * sign or 0.0, detail, f"1:{JUDGE}")},
        )


# (AB, BA, human vote) per prompt; "long" is side a. The judge prefers long; people are split.
PLAN: list[tuple[str, str, str | None]] = [
    ("a", "a", "a"),
    ("a", "a", "b"),
    ("a", "b", "tie"),  # order flip: each order picked the first shown
    ("a", "a", "a"),
    ("b", "b", "b"),
    ("a", "tie", "a"),
    ("a", "a", "a"),
    ("tie", "tie", "tie"),
    ("a", "a", "b"),
    ("b", "a", "a"),  # order flip: each picked the second shown
    ("a", "a", "a"),
    ("b", "b", "b"),
    ("a", "a", None),
    ("a", "a", "both_bad"),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    from genaicompare.ratings import Ratings

    path = tmp_path / "jc.db"
    store, cid, run = _store(path, len(PLAN))
    ratings = Ratings(store)
    for i, (ab, ba, human) in enumerate(PLAN):
        long = _answer(store, cid, run, f"p{i}", "long", "# Long\n" + "word " * (20 + i))
        short = _answer(store, cid, run, f"p{i}", "short", "word " * (3 + i % 4))
        _verdict(store, long, short, ab, ba)
        if human is not None:
            ratings.prefer(
                long, short, human, rater="ann", catalog_name="jc", pane_order=["long", "short"]
            )
    store.close()
    return path


def _card(db: Path) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        (card,) = judge_section(conn, "jc", rounds=200)
    finally:
        conn.close()
    return card


def test_card_rates_equal_statsmodels(db: Path) -> None:
    from statsmodels.stats.proportion import proportion_confint

    card = _card(db)
    n = len(PLAN)
    assert card["judge"] == JUDGE and card["comparisons"] == n
    flips = sum(ab != ba for ab, ba, _h in PLAN)
    f = card["order_flip"]
    assert (f["k"], f["n"]) == (flips, n)
    lo, hi = proportion_confint(flips, n, method="wilson")
    assert f["lower"] == pytest.approx(lo) and f["upper"] == pytest.approx(hi)
    # First shown: AB's a, BA's b.
    first = sum(ab == "a" for ab, _ba, _h in PLAN) + sum(ba == "b" for _ab, ba, _h in PLAN)
    decisive = sum(ab != "tie" for ab, _ba, _h in PLAN) + sum(ba != "tie" for _ab, ba, _h in PLAN)
    fp = card["first_position_win"]
    assert (fp["k"], fp["n"]) == (first, decisive)
    lo, hi = proportion_confint(first, decisive, method="wilson")
    assert fp["lower"] == pytest.approx(lo) and fp["upper"] == pytest.approx(hi)
    # Longer (side a) won every consistent decisive "a" verdict.
    wins = [ab if ab == ba else "tie" for ab, ba, _h in PLAN]
    lw = card["longer_won"]
    assert (lw["won"], lw["n"]) == (wins.count("a"), wins.count("a") + wins.count("b"))


def test_length_slope_is_fastchats_contextual_fit(db: Path) -> None:
    from genaicompare.scoring.style import style_features
    from tests.unit.scoring.test_style import fit_contextual_bt

    card = _card(db)
    wins = [ab if ab == ba else "tie" for ab, ba, _h in PLAN]
    outcomes = np.array([{"a": 1.0, "b": 0.0}.get(w, 0.5) for w in wins])
    la = np.array([[len("# Long\n" + "word " * (20 + i))] for i in range(len(PLAN))], float)
    lb = np.array([[len("word " * (3 + i % 4))] for i in range(len(PLAN))], float)
    z, _v = style_features(la, lb, apply_ratio=(1,))
    models = ["long", "short"]  # sorted: long is index 0 and always side a
    matchups = np.array([(0, 1)] * len(PLAN), np.int64)
    fc = fit_contextual_bt(matchups, z, outcomes, models, tol=1e-12)
    s = card["length_slope"]
    assert s["enough"] and s["coef"] == pytest.approx(fc[2], abs=1e-3)
    assert s["lower"] <= s["coef"] <= s["upper"]


def test_human_agreement_equals_statsmodels_kappa(db: Path) -> None:
    from statsmodels.stats.inter_rater import cohens_kappa

    card = _card(db)
    pairs = []
    for ab, ba, human in PLAN:
        if human is None:
            continue
        judge = ab if ab == ba else "tie"
        pairs.append(("tie" if human == "both_bad" else human, judge))
    cats = ["a", "b", "tie"]
    table = np.zeros((3, 3))
    for h, j in pairs:
        table[cats.index(h), cats.index(j)] += 1
    ref = cohens_kappa(table)
    ha = card["human_agreement"]
    assert ha["n"] == len(pairs) and ha["enough"] == (len(pairs) >= MIN_OVERLAP)
    assert ha["kappa"] == pytest.approx(ref.kappa)
    assert ha["lower"] == pytest.approx(max(-1, ref.kappa_low))
    assert ha["upper"] == pytest.approx(min(1, ref.kappa_upp))
    by_tag = {t["tag"]: t for t in card["human_agreement_by_tag"]}
    assert set(by_tag) == {"even", "odd"}
    assert by_tag["even"]["n"] + by_tag["odd"]["n"] == ha["n"]
    assert not by_tag["odd"]["enough"]  # 6 or 7 shared judgements: n too small
    conn = sqlite3.connect(db)
    try:
        assert judge_human_agreement(conn, "jc", JUDGE) == ha
        assert judge_human_agreement(conn, "jc", "another/judge")["n"] == 0
    finally:
        conn.close()


def test_same_provider_flag(db: Path) -> None:
    card = _card(db)
    flags = {e["model"]: e["same"] for e in card["same_provider"]}
    assert flags == {"long": False, "short": True}
    assert provider_of("gpt-4o-mini") == "openai" and provider_of("claude-3-haiku") == "anthropic"
    assert provider_of("ollama/llama3") == "ollama"


def test_small_n_and_min_agreement() -> None:
    few = kappa_entry([("a", "a"), ("b", "b"), ("a", "b")])
    assert few["n"] == 3 and not few["enough"]
    allowed, why = check_min_agreement(few, 0.6)
    assert allowed and "n too small" in why
    bad = kappa_entry([("a", "b"), ("b", "a")] * 5 + [("a", "a")] * 2)
    allowed, why = check_min_agreement(bad, 0.6)
    assert not allowed and "below the catalog's judge.min_agreement 0.6" in why
    good = kappa_entry([("a", "a"), ("b", "b"), ("tie", "tie")] * 4)
    allowed, why = check_min_agreement(good, 0.6)
    assert allowed and "κ = 1.00" in why
    one = kappa_entry([("a", "a")] * 12)  # κ undefined: not checked, not refused
    allowed, why = check_min_agreement(one, 0.6)
    assert allowed and "undefined" in why and one["kappa"] is None


def test_no_verdicts_no_card(tmp_path: Path) -> None:
    store, cid, run = _store(tmp_path / "e.db", 2)
    _answer(store, cid, run, "p0", "long", "x")
    store.close()
    conn = sqlite3.connect(tmp_path / "e.db")
    try:
        assert judge_section(conn, "jc") == []
    finally:
        conn.close()


def test_the_card_reads_the_same_verdicts_where_blocks_cover_the_answers(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The card reads verdicts only in the answer ranges that may hold them
    (store.columns.ranges_with_metric): blocks with a verdict and what no block covers."""
    from genaicompare.store import Store, columns

    expected = _card(db)
    monkeypatch.setattr(columns, "BLOCK_ROWS", 3)
    store = Store(db)
    for i in range(12):  # answers with no verdict, in blocks of their own
        _answer(store, 1, None, "p0", "short", f"plain {i}")
    store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        assert columns.extend(conn) > 0
        ranges = columns.covered(conn)
        judged = columns.ranges_with_metric(conn, lambda n: n.startswith("judge_pairwise:"))
    finally:
        conn.close()
    assert [r for r in ranges if r not in judged]  # the verdict-free blocks are skipped …
    assert [r for r in ranges if r in judged]  # … and the ones with verdicts read
    assert _card(db) == expected
