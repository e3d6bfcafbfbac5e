"""``genaicompare scores`` as a user runs it: the real CLI on a real SQLite file written through the
store and ratings APIs, its ``--json`` and its table read back (issues 12 §5, §10 and 14 §1, §2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.headless import run_cli
from tests.support.tables import assert_readable, merged, table


def _store(path: Path, models: tuple[str, ...], n_prompts: int, name: str = "quick"):  # type: ignore[no-untyped-def]
    from genaicompare.catalog import Catalog
    from genaicompare.store import Store

    store = Store(path)
    cat = Catalog.model_validate(
        {
            "name": name,
            "prompts": [{"id": f"p{i}", "prompt": f"question {i}"} for i in range(n_prompts)],
            "models": [{"id": m, "model": f"openai/{m}"} for m in models],
        }
    )
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "headless")
    return store, cid, run


def _answer(store, cid, run, prompt: str, alias: str, state: str = "complete", text: str = ""):  # type: ignore[no-untyped-def]
    from genaicompare.core.records import FinishState, ResponseRecord

    rec = ResponseRecord(
        prompt_id=prompt,
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": prompt}],
        text=text or f"{alias} says {prompt}",
        state=FinishState(state),
        latency_ms=100.0,
        ttft_ms=10.0,
        cost_usd=0.001,
    )
    store.save_response(rec, run_id=run, catalog_id=cid)
    return rec


def scores(db: Path, home: Path, *extra: str, columns: int = 160) -> tuple[dict[str, Any], str]:
    js = run_cli(["scores", "quick", "--db", str(db), "--json", *extra], home)
    assert js.returncode == 0, js.stderr
    table = run_cli(["scores", "quick", "--db", str(db), *extra], home, COLUMNS=str(columns))
    assert table.returncode == 0, table.stderr
    return json.loads(js.stdout), table.stdout


def test_one_ab_vote_is_not_enough_to_rank(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "one.db"
    store, cid, run = _store(db, ("friendly", "terse"), 1)
    friendly = _answer(store, cid, run, "p0", "friendly")
    terse = _answer(store, cid, run, "p0", "terse")
    Ratings(store, rater="me").prefer(friendly, terse, "b")  # terse wins the one vote
    store.close()
    js, text = scores(db, tmp_path)
    bt = js["bt"]
    assert bt["rounds"] == 1000 and bt["method"] == "map" and bt["rankable"] is False
    assert bt["status"].startswith("1 vote: not enough to rank")
    rows = {r["model"]: r for r in bt["rows"]}
    for r in rows.values():
        assert r["lower"] < r["rating"] < r["upper"]  # the estimate inside its interval
        assert 800 < r["rating"] < 1200 and r["rank"] is None and not r["enough_battles"]
    assert rows["terse"]["lower"] < rows["friendly"]["upper"]
    assert js["separation"]["separated"] is False
    assert "1 vote: not enough to rank" in text
    assert "ahead" not in text
    assert "2345" not in text and "2690" not in text


def _realistic(db: Path) -> None:
    """Two models, 12 prompts, thumbs on both answers and a pair vote on each prompt (the same
    judgement twice), one cancelled and one failed answer, metrics on every answer."""
    from genaicompare.ratings import Ratings

    store, cid, run = _store(db, ("friendly", "terse"), 14)
    me = Ratings(store, rater="me")
    for i in range(12):
        f = _answer(store, cid, run, f"p{i}", "friendly", text="hello " * (i + 3))
        t = _answer(store, cid, run, f"p{i}", "terse", text="ok " * (i + 1))
        store.save_metrics(f.id, {"rougeL": (0.3 + 0.02 * i, None, "1")})
        store.save_metrics(t.id, {"rougeL": (0.5 + 0.03 * (i % 5), None, "1")})
        terse_wins = i % 4 != 0
        me.thumb(t, "up" if terse_wins else "down")
        me.thumb(f, "down" if terse_wins else "up")
        me.prefer(f, t, "b" if terse_wins else "a")
    _answer(store, cid, run, "p12", "friendly", state="cancelled")
    _answer(store, cid, run, "p13", "terse", state="error")
    store.close()


def test_a_pair_vote_and_thumbs_on_one_prompt_are_one_battle(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    _realistic(db)
    js, _text = scores(db, tmp_path)
    # 12 prompts, each judged once (a vote that the two thumbs agree with): 12 battles, not 24.
    assert _two(js["battle_sources"]) == {"preferences": 12, "thumbs": 0}
    assert js["bt"]["battles"] == 12
    names = js["pairwise"]["models"]
    f, t = names.index("friendly"), names.index("terse")
    assert js["pairwise"]["wins"][t][f] == 9 and js["pairwise"]["wins"][f][t] == 3
    rows = {r["model"]: r for r in js["bt"]["rows"]}
    assert rows["terse"]["battles"] == 12 and rows["terse"]["rank"] is not None


def test_undoing_the_vote_brings_the_thumb_battles_back(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings
    from genaicompare.scoring import compute_scores
    from genaicompare.store import Store
    from genaicompare.store.migrations import rebuild_current

    db = tmp_path / "undo.db"
    store, cid, run = _store(db, ("friendly", "terse"), 1)
    f, t = _answer(store, cid, run, "p0", "friendly"), _answer(store, cid, run, "p0", "terse")
    me = Ratings(store, rater="me")
    me.thumb(t, "up")
    me.thumb(f, "down")
    assert _two(compute_scores(store, "quick", rounds=10).battle_sources) == {
        "preferences": 0,
        "thumbs": 1,
    }
    me.prefer(f, t, "b")
    assert _two(compute_scores(store, "quick", rounds=10).battle_sources) == {
        "preferences": 1,
        "thumbs": 0,
    }
    other = Ratings(store, rater="you")  # another rater's thumbs stay their own battle
    other.thumb(t, "up")
    other.thumb(f, "up")
    assert _two(compute_scores(store, "quick", rounds=10).battle_sources) == {
        "preferences": 1,
        "thumbs": 1,
    }
    me.undo()
    assert _two(compute_scores(store, "quick", rounds=10).battle_sources) == {
        "preferences": 0,
        "thumbs": 2,
    }
    me.prefer(f, t, "a")
    incremental = compute_scores(store, "quick", rounds=10).to_json()
    with store.conn:
        rebuild_current(store.conn)  # the running totals equal a recount from the log
    assert compute_scores(store, "quick", rounds=10).to_json() == incremental
    assert isinstance(store, Store)
    store.close()


def test_errors_exclude_cancellations_and_votes_are_counted(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    _realistic(db)
    js, text = scores(db, tmp_path)
    m = {s["model"]: s for s in js["models"]}
    assert (m["friendly"]["errors"], m["friendly"]["cancelled"]) == (0, 1)
    assert (m["terse"]["errors"], m["terse"]["cancelled"]) == (1, 0)
    assert m["terse"]["rated"] == 12 and m["terse"]["votes"] == 12  # thumbs, A/B votes
    assert "cancelled" in text and "A/B votes" in text


def test_every_rate_and_mean_carries_n_and_an_interval(tmp_path: Path) -> None:
    from statsmodels.stats.proportion import proportion_confint

    db = tmp_path / "real.db"
    _realistic(db)
    js, text = scores(db, tmp_path)
    m = {s["model"]: s for s in js["models"]}
    lo, hi = proportion_confint(9, 12, alpha=0.05, method="wilson")
    assert (m["terse"]["up_lower"], m["terse"]["up_upper"]) == pytest.approx((lo, hi), abs=1e-12)
    rouge = m["terse"]["metrics"]["rougeL"]
    assert rouge["n"] == 12 and rouge["lower"] < rouge["mean"] < rouge["upper"]
    terse = merged(text, "per model", ("friendly", "terse"))["terse"]
    assert terse["👍 rate (95% CI)"] == "75.0% [46.8–91.1]" and terse["rated"] == "12"
    means = merged(text, "metric means", ("rougeL",))
    assert means["rougeL"]["terse"] == (
        f"{rouge['mean']:.2f} [{rouge['lower']:.2f}–{rouge['upper']:.2f}] n=12"
    )
    for r in js["trends"]["per_run"]:
        assert r["mean_length_lower"] <= r["mean_length"] <= r["mean_length_upper"]
        assert r["mean_length_n"] == r["responses"]
    # Which metric tracks the thumbs: 24 answers, 9+3 up / 3+9 down — enough, with intervals.
    (agree,) = js["metric_agreement"]
    assert agree["enough"] and agree["auc_lower"] <= agree["auc"] <= agree["auc_upper"]


def test_metric_agreement_on_two_answers_is_n_too_small(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "tiny.db"
    store, cid, run = _store(db, ("friendly", "terse"), 1)
    f, t = _answer(store, cid, run, "p0", "friendly"), _answer(store, cid, run, "p0", "terse")
    store.save_metrics(f.id, {"rougeL": (0.2, None, "1")})
    store.save_metrics(t.id, {"rougeL": (0.9, None, "1")})
    me = Ratings(store, rater="me")
    me.thumb(t, "up")
    me.thumb(f, "down")
    store.close()
    js, text = scores(db, tmp_path)
    (agree,) = js["metric_agreement"]
    assert agree["n"] == 2 and agree["enough"] is False
    assert "n too small" in text and "AUC 1.00" not in text


SIX = (
    "friendly",
    "terse",
    "gpt-4o-mini-long-alias",
    "llama3.1-8b-instruct",
    "claude-3-5-haiku",
    "mistral-small",
)


def _many(db: Path, models: tuple[str, ...]) -> None:
    """``models`` on 12 prompts: thumbs on every answer, an A/B vote between neighbours, three
    metrics (a reference one, an ops one, a length) on every answer."""
    from genaicompare.ratings import Ratings

    store, cid, run = _store(db, models, 12)
    me = Ratings(store, rater="me")
    for i in range(12):
        recs = []
        for k, m in enumerate(models):
            r = _answer(store, cid, run, f"p{i}", m, text="word " * (i + k + 1))
            store.save_metrics(
                r.id,
                {
                    "rougeL": (0.3 + 0.02 * i + 0.05 * k, None, "1"),
                    "latency_ms": (100.0 + k, None, "1"),
                    "chars": (100.0 + 10 * k + i, None, "1"),
                },
            )
            me.thumb(r, "up" if (i + k) % 3 else "down")
            recs.append(r)
        for k in range(len(recs) - 1):
            me.prefer(recs[k], recs[k + 1], "b" if (i + k) % 4 else "a")
    store.close()


@pytest.mark.parametrize("columns", [80, 120, 200])
@pytest.mark.parametrize("n_models", [2, 6])
def test_every_table_fits_whole_at_80_120_and_200_columns(
    tmp_path: Path, columns: int, n_models: int
) -> None:
    """No grid of empty cells, no cell cut to one character or to "f…", at any width: a table
    that cannot fit is transposed or split (issue #13)."""
    db = tmp_path / "many.db"
    models = SIX[:n_models]
    _many(db, models)
    js, text = scores(db, tmp_path, columns=columns)
    assert_readable(text, columns)
    head = merged(text, "per model", models)
    assert set(head) == set(models)
    by_model = {m["model"]: m for m in js["models"]}
    for alias, row in head.items():
        m = by_model[alias]
        rate = f"{100 * m['up_rate']:.1f}% [{100 * m['up_lower']:.1f}–{100 * m['up_upper']:.1f}]"
        assert row["👍 rate (95% CI)"] == rate and row["rated"] == str(m["rated"]) == "12"
        assert row["answers"] == "12" and row["latency p50"] == "100 ms"
        bt = next(r for r in js["bt"]["rows"] if r["model"] == alias)
        assert row["BT rating (95% CI)"] == (
            f"{bt['rating']:.0f} [{bt['lower']:.0f}–{bt['upper']:.0f}] n={bt['battles']}"
        )
    # Ranked: the headline's models in the leaderboard's order, whichever way it is printed.
    first = table(text, "per model")[0]
    order = first.header[1:] if first.header[1] in models else [r[0] for r in first.rows]
    assert order == [r["model"] for r in js["bt"]["rows"]]
    # Metric means are metrics × models (or models × metrics when that fits better), every
    # model and metric there, the reference metric before the ops ones.
    means = merged(text, "metric means", ("rougeL", "latency_ms", "chars"))
    assert list(means) == ["rougeL", "chars", "latency_ms"]
    assert all(set(row) == set(models) for row in means.values())


def test_a_model_without_votes_says_not_enough_votes(tmp_path: Path) -> None:
    from genaicompare.ratings import Ratings

    db = tmp_path / "few.db"
    store, cid, run = _store(db, ("friendly", "terse"), 1)
    f, t = _answer(store, cid, run, "p0", "friendly"), _answer(store, cid, run, "p0", "terse")
    Ratings(store, rater="me").prefer(f, t, "b")
    store.close()
    _js, text = scores(db, tmp_path, columns=80)
    assert_readable(text, 80)
    head = merged(text, "per model", ("friendly", "terse"))
    assert head["terse"]["BT rating (95% CI)"] == "not enough votes (n=1)"
    assert head["terse"]["👍 rate (95% CI)"] == "no thumbs"


@pytest.mark.parametrize("columns", [80, 120])
def test_the_table_is_readable_at_80_and_120_columns(tmp_path: Path, columns: int) -> None:
    db = tmp_path / "real.db"
    _realistic(db)
    _js, text = scores(db, tmp_path, columns=columns)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns
    # No grid of empty cells: every table row carries text, and the figures are whole.
    for line in lines:
        if line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            assert any(cells), line
    assert (
        merged(text, "per model", ("friendly", "terse"))["terse"]["👍 rate (95% CI)"]
        == "75.0% [46.8–91.1]"
    )
    assert "friendly vs terse" in text


def _two(sources: dict) -> dict:
    """The A/B and thumb battle counts (the other sources are zero here: no picks, no strong votes)."""
    assert not any(
        v for k, v in sources.items() if k not in ("preferences", "thumbs", "strong_weight")
    )
    return {k: sources[k] for k in ("preferences", "thumbs")}
