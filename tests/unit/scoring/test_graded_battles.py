"""Best-of-N picks and strong votes in the scores: N−1 battles per pick, ×3 per strong vote,
each resampled as one judgement — through ``genaicompare scores --json`` and the fit itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from genaicompare.scoring.bradley_terry import BattleCounts, bradley_terry
from tests.integration.test_scores_cli import _answer, _store
from tests.support.headless import run_cli


def _scores(db: Path, home: Path) -> tuple[dict, str]:
    js = run_cli(["scores", "quick", "--db", str(db), "--json"], home)
    assert js.returncode == 0, js.stderr
    text = run_cli(["scores", "quick", "--db", str(db)], home, COLUMNS="160")
    return json.loads(js.stdout), text.stdout


def test_best_of_three_is_two_battles_and_a_pair_vote_replaces_one(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "s.db"
    store, cid, run = _store(db, ("x", "y", "z"), 4)
    me = Ratings(store, rater="me")
    for i in range(4):
        x, y, z = (_answer(store, cid, run, f"p{i}", m) for m in ("x", "y", "z"))
        me.thumb(x, "up", catalog_name="quick")
        me.thumb(y, "down", catalog_name="quick")
        me.best(x, [y, z], catalog_name="quick", pane_order=["z", "x", "y"])
    me.prefer(y, x, "a", catalog_name="quick")  # on p3: y beat x after all (supersedes the pick)
    store.close()
    js, text = _scores(db, tmp_path)
    src = js["battle_sources"]
    # 4 picks × 2 battles, less the one the pair vote took; the thumbs' x–y battles are gone.
    assert (src["best_of_n_picks"], src["best_of_n"], src["preferences"], src["thumbs"]) == (
        4,
        7,
        1,
        0,
    )
    names = js["pairwise"]["models"]
    x, y, z = (names.index(m) for m in "xyz")
    assert js["pairwise"]["wins"][x][y] == 3 and js["pairwise"]["wins"][y][x] == 1
    assert js["pairwise"]["wins"][x][z] == 4 and js["pairwise"]["wins"][z][y] == 0
    assert js["bt"]["battles"] == 8
    flat = " ".join(text.split())
    assert "4 best-of-N picks" in flat and "resampled as one judgement" in flat, text


def test_strong_votes_weigh_three_and_are_said(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "g.db"
    store, cid, run = _store(db, ("x", "y"), 6)
    me = Ratings(store, rater="me")
    for i in range(6):
        x, y = (_answer(store, cid, run, f"p{i}", m) for m in ("x", "y"))
        me.prefer(x, y, "a" if i < 4 else "b", catalog_name="quick", strength=2 if i < 2 else 1)
    store.close()
    js, text = _scores(db, tmp_path)
    assert js["battle_sources"]["strong_preferences"] == 2
    assert js["battle_sources"]["strong_weight"] == 3
    assert js["bt"]["battles"] == 6  # a strong vote is one battle for min_battles
    assert "2 strong votes (A≫B) weighted ×3" in " ".join(text.split())
    # The point estimate is the fit of 2×3 + 2 wins for x and 2 for y.
    plain = BattleCounts.empty(["x", "y"])
    plain.add(0, 1, 8, 2, 0, 0)
    ref = bradley_terry(plain, rounds=50)
    assert ref is not None
    rows = {r["model"]: r for r in js["bt"]["rows"]}
    assert rows["x"]["rating"] == pytest.approx(ref.rows()[0]["rating"], abs=1e-6)


def test_a_group_is_resampled_whole() -> None:
    """Same point estimate as its battles counted one by one; an interval at least as wide."""
    models = ["a", "b", "c"]
    pick = BattleCounts.empty(models)
    pick.add(0, 1, 1, 0, 0, 0)
    pick.add(0, 2, 1, 0, 0, 0)
    other = BattleCounts.empty(models)
    other.add(1, 2, 6, 6, 2, 0)
    expanded = other + BattleCounts(models, pick.wins * 20, pick.ties, pick.both_bad)
    flat = bradley_terry(expanded, rounds=400)
    grouped = bradley_terry(other, rounds=400, groups=[(20, pick, 1.0)])
    assert flat is not None and grouped is not None
    assert grouped.rating == pytest.approx(flat.rating, abs=1e-6)
    assert grouped.battles == flat.battles and grouped.n_battles == flat.n_battles
    width = lambda r: np.subtract(r.upper, r.lower)  # noqa: E731
    assert (width(grouped) >= width(flat) - 1e-9).all()
    # No groups: exactly the plain fit (same draws), so FastChat equality is untouched.
    assert bradley_terry(other, rounds=50).lower == bradley_terry(other, rounds=50, groups=[]).lower
