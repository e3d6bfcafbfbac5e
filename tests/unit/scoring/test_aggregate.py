"""compute_scores on a real database: SQL aggregates → the scores, sequential and parallel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from genaicompare.scoring import compute_scores
from genaicompare.scoring.stats import cohen_kappa, newcombe_difference, wilson_interval


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
    assert _two(s.battle_sources) == {"preferences": 3, "thumbs": 5}
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
    # Two shared items: shown as "n too small", the agreement still with its Wilson interval.
    (lo,), (hi,) = wilson_interval([1], [2])
    assert k["enough"] is False
    assert (k["agreement_lower"], k["agreement_upper"]) == pytest.approx((lo, hi))
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


def _two(sources: dict) -> dict:
    """The A/B and thumb battle counts (the other sources are zero here: no picks, no strong votes)."""
    assert not any(
        v for k, v in sources.items() if k not in ("preferences", "thumbs", "strong_weight")
    )
    return {k: sources[k] for k in ("preferences", "thumbs")}


@pytest.mark.parametrize(("block_rows", "foreign"), [(3, False), (8192, False), (3, True)])
def test_a_rated_output_counts_in_every_run_of_the_catalog_that_carries_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int, foreign: bool
) -> None:
    """Ratings meet their answers by content hash: in every run of the catalog whose answers
    carry it (a rerun that gave the same output), never in another catalog's answers, and the
    metric agreement reads the first stored answer of each rated output."""
    import sqlite3

    from genaicompare.catalog import Catalog
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.store import columns

    monkeypatch.setattr(columns, "BLOCK_ROWS", block_rows)
    store = _db(tmp_path)
    before = compute_scores(store, "c", rounds=10).metric_agreement
    cat = Catalog.model_validate(
        {"name": "c", "prompts": [{"id": f"p{i}", "prompt": f"q{i}"} for i in range(4)]}
    )
    other = Catalog.model_validate({"name": "d", "prompts": [{"id": "p0", "prompt": "q0"}]})
    for catalog, prompts in ((cat, range(0, 4, 2)), (other, range(1))):
        cid = store.record_catalog(catalog)
        run = store.start_run(cid, catalog, "headless")
        for i in prompts:  # the same outputs as the first run's x answers, other metrics
            rec = ResponseRecord(
                prompt_id=f"p{i}",
                model_alias="x",
                model="openai/x",
                params={},
                messages=[{"role": "user", "content": f"q{i}"}],
                text=f"x answer {i}",
                state=FinishState.complete,
                latency_ms=50.0,
            )
            store.save_response(rec, run_id=run, catalog_id=cid)
            store.save_metrics(rec.id, {"rougeL": (0.0, None, "1"), "assert:len": (0.0, None, "1")})
    if foreign:  # hashes not written by this program (not 32 hex digits): read one by one
        with sqlite3.connect(store.path) as conn:
            for table in ("responses", "agg_thumb_items"):
                conn.execute(f"UPDATE {table} SET content_hash = 'X' || content_hash")
    s = compute_scores(store, "c", rounds=10)
    with sqlite3.connect(store.path) as conn:
        expected = [
            {"run_id": run, "rated": n, "up_rate": ups / n}
            for run, ups, n in conn.execute(
                "SELECT r.run_id, sum(t.ups), sum(t.n) FROM agg_thumb_items t "
                "JOIN responses r ON r.content_hash = t.content_hash "
                "JOIN catalogs c ON c.id = r.catalog_id "
                "WHERE t.catalog = 'c' AND c.name = 'c' GROUP BY r.run_id ORDER BY r.run_id"
            )
        ]
    assert [
        {k: r[k] for k in ("run_id", "rated", "up_rate")} for r in s.trends["per_run"]
    ] == expected
    # x/p0 (ann up, bob up) and x/p2 (ann up) again in run 2; run 3 is catalog d's.
    assert [(r["run_id"], r["rated"]) for r in s.trends["per_run"]] == [(1, 10), (2, 3)]
    assert s.metric_agreement == before
    assert compute_scores(store, "c", rounds=10, parallel=False).to_json() == s.to_json()


def test_the_newest_catalog_version_gives_a_prompt_its_task_and_segment(tmp_path: Path) -> None:
    from genaicompare.catalog import Catalog

    store = _db(tmp_path)
    prompts = [
        {"id": f"p{i}", "prompt": f"q{i}", "task": "qa", "segment": "g1" if i % 2 == 0 else "g2"}
        for i in range(4)
    ]
    prompts[0].update(task="chat", segment="g9")  # p0 moved in the newer version
    store.record_catalog(Catalog.model_validate({"name": "c", "prompts": prompts}))
    t = {(r.model, r.group): r for r in compute_scores(store, "c", by="task", rounds=10).groups}
    assert (t[("x", "chat")].responses, t[("x", "qa")].responses) == (1, 3)
    s = compute_scores(store, "c", rounds=10)
    assert s.fairness["segments"] == ["g1", "g2", "g9"]
    fx = next(m for m in s.fairness["models"] if m["model"] == "x")
    rated = {e["segment"]: e["rated"] for e in fx["segments"]}
    assert rated == {"g1": 1, "g2": 2, "g9": 2}  # p2: ann; p1 and p3: ann; p0: ann and bob
