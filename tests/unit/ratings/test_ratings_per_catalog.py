"""A rating belongs to the catalog, prompt, answer and rater it was given in (issue #12 §4).

Two catalogs share cached answers (same model, params and messages, so the same content hash) on
one real database. Rating those answers in the second catalog must not take the first catalog's
ratings away: its counts, its scores' totals and its KTO export stay as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.exports import export
from genaicompare.ratings import Ratings
from genaicompare.store import Store

MODELS = [
    {"id": "terse", "model": "local/smollm2", "system": "Answer with the shortest answer."},
    {"id": "friendly", "model": "local/smollm2", "system": "You are a friendly tutor."},
]
APPLES = "Sara has 3 apples. She buys 4 more and then eats 2. How many apples does she have now?"
TEXTS = {
    ("terse", "apples"): "9",
    ("friendly", "apples"): "She has 9 apples!",
    ("terse", "capital"): "Paris",
    ("friendly", "capital"): "Paris, a lovely city!",
}


def _catalog(name: str, prompts: list[str]) -> Catalog:
    bodies = {"apples": APPLES, "capital": "What is the capital of France?"}
    return Catalog.model_validate(
        {
            "name": name,
            "models": MODELS,
            "prompts": [{"id": p, "prompt": bodies[p]} for p in prompts],
        }
    )


def _answers(store: Store, cat: Catalog, *, cached: bool) -> dict[tuple[str, str], ResponseRecord]:
    cid = store.record_catalog(cat)
    run = store.start_run(cid, cat, "tui")
    out = {}
    for prompt in cat.prompts:
        for spec in cat.models:
            rendered = cat.render(prompt, spec)
            rec = ResponseRecord(
                prompt_id=prompt.id,
                model_alias=spec.id,
                model=spec.model,
                params={"temperature": 0.2},
                messages=rendered.messages,
                template_hash=rendered.template_hash,
                text=TEXTS[(spec.id, prompt.id)],
                state=FinishState.complete,
                from_cache=cached,
            )
            store.save_response(rec, run_id=run, catalog_id=cid)
            out[(spec.id, prompt.id)] = rec
    return out


def _cells(store: Store, catalog: str) -> dict[str, tuple[int, int]]:
    """Thumbs in force per model in one catalog: (ups, n), as the scores read them."""
    rows = store.query(
        "SELECT model_alias, sum(ups) AS ups, sum(n) AS n FROM agg_thumb_cells "
        "WHERE catalog = ? GROUP BY model_alias HAVING sum(n) > 0",
        [catalog],
    )
    return {r["model_alias"]: (r["ups"], r["n"]) for r in rows}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "shared.db")
    yield s
    s.close()


def test_rating_cached_answers_in_another_catalog_keeps_the_first_catalogs_ratings(
    store: Store, tmp_path: Path
) -> None:
    quick = _answers(store, _catalog("quickstart", ["apples", "capital"]), cached=False)
    ann = Ratings(store, rater="ann")
    ann.thumb(quick[("terse", "apples")], "down")
    ann.thumb(quick[("friendly", "apples")], "down")
    ann.thumb(quick[("terse", "capital")], "up")
    ann.thumb(quick[("friendly", "capital")], "up")

    before_cells = _cells(store, "quickstart")
    assert before_cells == {"terse": (1, 2), "friendly": (1, 2)}
    export(store, "quickstart", "kto", tmp_path / "kto-before.jsonl")
    kto_before = (tmp_path / "kto-before.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(kto_before) == 4

    # Another catalog, the same apples prompt: the cache serves the same answers (same hashes).
    mine = _answers(store, _catalog("mine", ["apples"]), cached=True)
    assert mine[("terse", "apples")].content_hash == quick[("terse", "apples")].content_hash
    ann.thumb(mine[("terse", "apples")], "down")
    ann.thumb(mine[("friendly", "apples")], "down")

    assert _cells(store, "quickstart") == before_cells
    assert _cells(store, "mine") == {"terse": (0, 1), "friendly": (0, 1)}
    per_catalog = store.query(
        "SELECT catalog_name, count(*) AS n FROM ratings_current GROUP BY catalog_name "
        "ORDER BY catalog_name"
    )
    assert [(r["catalog_name"], r["n"]) for r in per_catalog] == [("mine", 2), ("quickstart", 4)]
    assert [r.value for r in ann.for_prompt("quickstart", "apples")] == ["down", "down"]

    export(store, "quickstart", "kto", tmp_path / "kto-after.jsonl")
    kto_after = (tmp_path / "kto-after.jsonl").read_text(encoding="utf-8").splitlines()
    assert kto_after == kto_before
    assert [json.loads(x)["label"] for x in kto_after].count(False) == 2

    # Undoing in the second catalog only touches the second catalog.
    ann.undo()
    assert _cells(store, "quickstart") == before_cells
    assert _cells(store, "mine") == {"terse": (0, 1)}
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_other_catalogs_answer_still_shows_the_carried_over_thumb(store: Store) -> None:
    quick = _answers(store, _catalog("quickstart", ["apples"]), cached=False)
    mine = _answers(store, _catalog("mine", ["apples"]), cached=True)
    ann = Ratings(store, rater="ann")
    ann.thumb(quick[("terse", "apples")], "down")
    # Carry-over: the identical output in another catalog shows the thumb it was given...
    shown = ann.thumb_for(mine[("terse", "apples")])
    assert shown is not None and shown.value == "down" and shown.catalog_name == "quickstart"
    # ...and a thumb given there is that catalog's own, preferred when that catalog asks.
    ann.thumb(mine[("terse", "apples")], "up")
    assert ann.thumb_for(mine[("terse", "apples")], catalog_name="mine").value == "up"  # type: ignore[union-attr]
    assert ann.thumb_for(quick[("terse", "apples")], catalog_name="quickstart").value == "down"  # type: ignore[union-attr]


def test_upgrading_a_database_gives_misfiled_thumbs_back_to_their_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genaicompare.store import migrations

    path = tmp_path / "old.db"
    # The schema as the previous version left it (m001–m005), with the log it wrote: ann's two
    # quickstart thumbs, then the same two answers thumbed in "mine".
    from genaicompare.store import opening

    before = [f for f in migrations.MIGRATIONS if f.__name__ < "m006"]
    with monkeypatch.context() as m:
        # The previous version knew only these: its migrations, and the schema they build.
        m.setattr(migrations, "MIGRATIONS", before)
        m.setattr(opening, "MIGRATIONS", before)
        m.setattr(opening, "KNOWN", [f.__name__ for f in before])
        # Nor did it keep answers' style counts (m011): its writes stored none.
        from genaicompare.store import database

        m.setattr(database, "record_styles", lambda conn, rows: None)
        opening.expected_schema.cache_clear()
        with Store(path) as old:
            quick = _answers(old, _catalog("quickstart", ["apples"]), cached=False)
            mine = _answers(old, _catalog("mine", ["apples"]), cached=True)
            rows = [(quick, "quickstart"), (mine, "mine")]
            for n, (recs, cat) in enumerate(rows):
                for alias in ("terse", "friendly"):
                    rec = recs[(alias, "apples")]
                    old.conn.execute(
                        "INSERT INTO ratings (uid, kind, rater, prompt_id, catalog_name, "
                        "response_id, content_hash, model_alias, value, item, created_at) "
                        "VALUES (?, 'thumb', 'ann', 'apples', ?, ?, ?, ?, 'down', ?, ?)",
                        [
                            f"{cat}-{alias}",
                            cat,
                            rec.id,
                            rec.content_hash,
                            alias,
                            f"thumb:{rec.content_hash}",
                            f"2025-01-0{n + 1}T00:00:00",
                        ],
                    )
    opening.expected_schema.cache_clear()
    with Store(path) as new:
        assert _cells(new, "quickstart") == {"terse": (0, 1), "friendly": (0, 1)}
        assert _cells(new, "mine") == {"terse": (0, 1), "friendly": (0, 1)}
        assert len(Ratings(new).current()) == 4
