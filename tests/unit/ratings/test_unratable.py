"""An answer that ended in ``error`` or ``timeout`` cannot be rated (issue #18 §14): the rating is
refused with a RatingError the TUI shows, nothing is stored and no score counts it."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.catalog import Catalog
from genaicompare.core.records import FinishState, ResponseRecord
from genaicompare.ratings import RatingError, Ratings
from genaicompare.store import Store


def _rec(alias: str, state: FinishState, text: str = "") -> ResponseRecord:
    return ResponseRecord(
        prompt_id="p1",
        model_alias=alias,
        model=f"openai/{alias}",
        params={},
        messages=[{"role": "user", "content": "2+2?"}],
        text=text,
        state=state,
        error_type="AuthenticationError" if state is FinishState.error else None,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "u.db")
    cat = Catalog.model_validate({"name": "cat", "prompts": [{"id": "p1", "prompt": "2+2?"}]})
    cid = s.record_catalog(cat)
    for rec in (
        _rec("ok", FinishState.complete, "4"),
        _rec("broken", FinishState.error),
        _rec("slow", FinishState.timeout),
        _rec("stopped", FinishState.cancelled, "fo"),
    ):
        s.save_response(rec, catalog_id=cid)
    yield s
    s.close()


def test_error_and_timeout_answers_are_refused_a_rating(store: Store) -> None:
    ok, broken, slow, stopped = (store.response(i) for i in (1, 2, 3, 4))
    ann = Ratings(store, rater="ann")
    with pytest.raises(RatingError, match=r"broken's answer to p1 ended in error: Authentication"):
        ann.thumb(broken, "down")  # type: ignore[arg-type]
    with pytest.raises(RatingError, match=r"slow's answer to p1 ended in timeout"):
        ann.thumb(slow.id, "down")  # type: ignore[union-attr]
    with pytest.raises(RatingError, match="ended in error"):
        ann.prefer(ok, broken, "a")  # type: ignore[arg-type]
    with pytest.raises(RatingError, match="ended in timeout"):
        ann.prefer(slow, ok, "b")  # type: ignore[arg-type]
    assert store.query("SELECT count(*) AS n FROM ratings")[0]["n"] == 0
    assert store.query("SELECT count(*) AS n FROM agg_thumb_cells")[0]["n"] == 0
    assert store.query("SELECT count(*) AS n FROM agg_pairs")[0]["n"] == 0
    # Answers are still rated as before, a cancelled (partial) one included.
    ann.thumb(ok, "up")  # type: ignore[arg-type]
    ann.prefer(ok, stopped, "a")  # type: ignore[arg-type]
    cells = store.query("SELECT model_alias, ups, n FROM agg_thumb_cells WHERE n > 0")
    assert [(c["model_alias"], c["ups"], c["n"]) for c in cells] == [("ok", 1, 1)]
