"""The columnar copy of the answers (store.columns): blocks are exact or absent, and scores read
from blocks are the scores read from the rows, after every kind of change to the rows."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from genaicompare.scoring import compute_scores
from genaicompare.store import Store, columns

STATES = ["complete", "complete", "length", "error", "timeout", "cancelled", "complete"]


def _store(tmp_path: Path, answers: int = 70) -> Store:
    """Two catalogs, three models, every end state, cached replays, NULL latencies and costs,
    three days, numeric and non-numeric metrics; latencies with 17 significant digits."""
    from genaicompare.catalog import Catalog
    from genaicompare.core.records import FinishState, ResponseRecord

    store = Store(tmp_path / "s.db")
    ids = {}
    for name in ("c", "other"):
        cat = Catalog.model_validate(
            {
                "name": name,
                "prompts": [
                    {"id": f"p{i}", "prompt": f"q{i}", "segment": f"g{i % 2}", "tags": ["t"]}
                    for i in range(5)
                ],
                "models": [{"id": "x", "model": "openai/x"}],
            }
        )
        cid = store.record_catalog(cat)
        ids[name] = (cid, store.start_run(cid, cat, "headless"))
    rng = np.random.default_rng(7)
    for i in range(answers):
        cid, run = ids["c" if i % 5 else "other"]
        alias = ["x", "y", "zé"][i % 3]
        rec = ResponseRecord(
            prompt_id=f"p{i % 6}",  # p5 is in no catalog version
            model_alias=alias,
            model=f"openai/{alias}",
            params={},
            messages=[{"role": "user", "content": f"q{i}"}],
            text="ü" * (i % 9) + f"answer {i}",
            state=FinishState(STATES[i % len(STATES)]),
            latency_ms=None if i % 11 == 0 else float(rng.random() * 1000 + 1 / 3),
            ttft_ms=float(rng.random() * 100),
            cost_usd=None if i % 4 == 0 else float(rng.random() / 1000),
            from_cache=i % 8 == 0,
        )
        store.save_response(rec, run_id=run, catalog_id=cid)
        metrics: dict[str, tuple[float | None, Any, str]] = {
            "rougeL": (float(rng.random()), None, "1"),
            "toxicity": (float(rng.random()), None, "1"),
            "assert:len": (float(i % 2), None, "1"),
        }
        if i % 3 == 0:
            metrics["judge"] = (None, {"judge_error": "no number"}, "1")
        store.save_metrics(rec.id or 0, metrics)
    with store._tx() as conn:
        conn.execute(
            "UPDATE responses SET created_at = '2026-11-0' || (id % 3 + 1) || "
            "substr(created_at, 11)"
        )
        conn.execute("DELETE FROM answer_columns")
    return store


def _raw(store: Store) -> sqlite3.Connection:
    return sqlite3.connect(str(store.path), isolation_level=None)


def _covered(store: Store) -> list[tuple[int, int]]:
    with _raw(store) as conn:
        return columns.covered(conn)


def _scores(store: Store, by: str | None = "tag") -> dict[str, Any]:
    doc = compute_scores(store, "c", by=by, rounds=20, parallel=False).to_json()
    doc.pop("timings", None)
    return doc


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    """:func:`_store`'s database with blocks of 4 answers."""
    monkeypatch.setattr(columns, "BLOCK_ROWS", 4)
    return _store(tmp_path)


@pytest.fixture
def from_rows(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Store], dict[str, Any]]]:
    """The scores read from the rows alone: no block written, every block deleted first."""

    def compute(store: Store) -> dict[str, Any]:
        with _raw(store) as conn:
            conn.execute("DELETE FROM answer_columns")
        with monkeypatch.context() as m:
            m.setattr(columns, "extend", lambda *a, **k: 0)
            doc = _scores(store)
        assert _covered(store) == []
        return doc

    yield compute


@pytest.mark.parametrize("block_rows", [1, 4, 9])
def test_scores_from_blocks_are_the_scores_from_the_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    from_rows: Callable[[Store], dict[str, Any]],
    block_rows: int,
) -> None:
    monkeypatch.setattr(columns, "BLOCK_ROWS", block_rows)
    store = _store(tmp_path)
    expected = from_rows(store)
    assert expected["models"] and expected["fairness"]["models"] and expected["groups"]
    got = _scores(store)
    ranges = _covered(store)
    # Blocks of block_rows answers cover all but the newest block_rows..2·block_rows − 1.
    assert ranges and ranges[0][0] == 1
    assert 70 - block_rows * 2 < ranges[-1][1] <= 70 - block_rows
    assert got == expected
    assert _scores(store) == expected  # read back from the stored blocks alone


def test_every_kind_of_change_deletes_the_block_that_holds_the_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, from_rows: Callable[[Store], dict[str, Any]]
) -> None:
    monkeypatch.setattr(columns, "BLOCK_ROWS", 5)
    store = _store(tmp_path)
    # Live, completed answers of catalog c: every change to one of them moves its scores.
    live = [i + 1 for i in range(70) if STATES[i % 7] in ("complete", "length") and i % 8 and i % 5]
    copy = (
        "INSERT INTO responses (id, prompt_id, model_alias, model, messages, request_hash, "
        "content_hash, state, latency_ms, created_at, catalog_id) SELECT {id}, prompt_id, "
        "model_alias, model, messages, 'r', 'c', 'complete', 1.5, created_at, catalog_id "
        "FROM responses WHERE id = {other}"
    )
    metric = "INSERT {how} INTO metrics (response_id, name, value, version, created_at) VALUES "
    changes = [
        "UPDATE responses SET latency_ms = 5000.5 WHERE id = {id}",
        "UPDATE responses SET state = 'error' WHERE id = {id}",
        "UPDATE responses SET id = 1000 + {id}, model_alias = 'x' WHERE id = {id}",
        "DELETE FROM metrics WHERE response_id = {id} AND name = 'rougeL'",
        "UPDATE metrics SET value = 0.999 WHERE response_id = {id} AND name = 'toxicity'",
        metric.format(how="OR REPLACE") + "({id}, 'rougeL', 0.0, '2', '2026-11-01')",
        metric.format(how="") + "({id}, 'bleu', 0.25, '1', '2026-11-01')",
        "DELETE FROM metrics WHERE response_id = {id}",
        "DELETE FROM responses WHERE id = {id}",
        copy,  # an answer inserted into a block's range, where the previous change left a gap
    ]
    gap = 0
    for k, template in enumerate(changes):
        _scores(store)  # writes every block that is due
        before = _covered(store)
        answer = gap if template is copy else live[2 * k + 1]
        block = next(a for a, b in before if a <= answer <= b)
        sql = template.format(id=answer, other=live[0])
        old = from_rows(store)
        _scores(store)  # the blocks again
        with _raw(store) as conn:
            conn.execute(sql)
        assert _covered(store) == [r for r in before if r[0] != block], sql
        new = _scores(store)
        assert new != old, sql  # the change shows in the scores …
        assert new == from_rows(store), sql  # … exactly as the rows give it
        gap = answer


def test_values_are_read_exactly(store: Store) -> None:
    """The 17 significant digits of a stored latency reach the quantiles (SQL's text form of a
    REAL, which ``group_concat`` gave, keeps 15)."""
    for _ in range(2):  # through SQL, then from the blocks
        got = {m["model"]: m for m in _scores(store, by=None)["models"]}
        with _raw(store) as conn:
            for alias, m in got.items():
                values = [
                    v
                    for (v,) in conn.execute(
                        "SELECT latency_ms FROM responses WHERE model_alias = ? AND "
                        "from_cache = 0 AND latency_ms IS NOT NULL AND catalog_id = 1",
                        [alias],
                    )
                ]
                p50, p95 = np.quantile(values, [0.5, 0.95])
                assert (m["latency_p50"], m["latency_p95"]) == (p50, p95)
        assert _covered(store)


def test_a_block_packs_and_unpacks_every_field() -> None:
    rows = [
        (1, 1, -1, "x", "p/ü", "2026-11-01", 0, 0, 1.0000000000000002, None, None, 3, "0f" * 16),
        (4, -1, 7, "y", "p2", "2026-11-02", 1, 3, None, 2.5, 1e-9, 0, "h1"),
    ]
    metric_rows = [(1, "rougeL", 0.5), (4, "rougeL", 1.0), (4, "b", -2.0), (9, "gone", 1.0)]
    block = columns.unpack(columns.pack(columns.block_from_rows(rows, metric_rows)))
    a = block.arrays
    assert a["id"].tolist() == [1, 4] and a["run_id"].tolist() == [-1, 7]
    assert [block.models[i] for i in a["model"]] == ["x", "y"]
    assert [block.prompts[i] for i in a["prompt"]] == ["p/ü", "p2"]
    assert [block.days[i] for i in a["day"]] == ["2026-11-01", "2026-11-02"]
    assert a["latency"][0] == 1.0000000000000002 and np.isnan(a["latency"][1])
    assert np.isnan(a["ttft"][0]) and a["cost"][1] == 1e-9
    assert a["state"].tolist() == [0, 3] and a["cached"].tolist() == [0, 1]
    # A content hash as its 16 bytes; one that is not 32 lowercase hex digits as its MD5.
    assert a["hash"].tolist() == [b"\x0f" * 16, hashlib.md5(b"h1").digest()]
    # The metric of an answer that is not in the block is no answer's.
    assert [
        (int(r), block.metrics[n], v)
        for r, n, v in zip(*(a[f] for f in columns.METRIC_FIELDS), strict=True)
    ] == [
        (0, "rougeL", 0.5),
        (1, "rougeL", 1.0),
        (1, "b", -2.0),
    ]
    empty = columns.unpack(columns.pack(columns.block_from_rows([], [])))
    assert empty.rows == 0


def test_the_store_writes_blocks_as_answers_are_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from genaicompare.store import database

    monkeypatch.setattr(columns, "BLOCK_ROWS", 4)
    monkeypatch.setattr(database, "EXTEND_EVERY", 3)
    store = _store(tmp_path, answers=30)  # its last step deleted the blocks
    assert _covered(store) == []
    _store_more(store, 3)
    ranges = _covered(store)
    assert ranges[0][0] == 1 and 33 - 8 < ranges[-1][1] <= 33 - 4


def _store_more(store: Store, n: int) -> None:
    from genaicompare.core.records import FinishState, ResponseRecord

    for i in range(n):
        store.save_response(
            ResponseRecord(
                prompt_id="p1",
                model_alias="x",
                model="openai/x",
                params={},
                messages=[],
                text=f"more {i}",
                state=FinishState.complete,
            ),
            run_id=None,
            catalog_id=1,
        )


def test_no_block_is_written_while_another_writer_holds_the_database(
    store: Store, from_rows: Callable[[Store], dict[str, Any]]
) -> None:
    expected = from_rows(store)
    holder = _raw(store)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with _raw(store) as conn:
            assert columns.extend(conn, busy_ms=50) == 0
            assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000  # as it was
        assert _scores(store) == expected  # read through SQL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _covered(store) == []
    assert _scores(store) == expected
    assert _covered(store)


def test_extend_on_a_read_only_database_writes_nothing(store: Store, tmp_path: Path) -> None:
    store.close()
    ro = sqlite3.connect(f"file:{tmp_path / 's.db'}?mode=ro", uri=True, isolation_level=None)
    try:
        assert columns.due(ro)  # there are blocks to write …
        assert columns.extend(ro) == 0  # … and none can be
        assert columns.covered(ro) == []
    finally:
        ro.close()


def test_many_answers_to_index_are_announced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(columns, "BLOCK_ROWS", 4)
    monkeypatch.setattr(columns, "NOTICE_ROWS", 50)
    store = _store(tmp_path)
    heard: list[int] = []
    compute_scores(store, "c", rounds=20, notice=heard.append)
    ranges = _covered(store)
    assert heard == [ranges[-1][1]]  # every answer up to the newest blocks, counted
    compute_scores(store, "c", rounds=20, notice=heard.append)
    assert len(heard) == 1  # nothing left to index


def test_a_forgotten_model_leaves_no_trace_in_the_blocks(
    store: Store, tmp_path: Path, from_rows: Callable[[Store], dict[str, Any]]
) -> None:
    from genaicompare.store.forget import forget

    _scores(store)
    with _raw(store) as conn:
        assert any("zé" in b.models for _a, _b, b in columns.blocks(conn))
    forget(store, model="zé")
    assert _covered(store) == []  # every block held one of its answers
    assert "zé".encode() not in (tmp_path / "s.db").read_bytes()  # zeroed, not just unlinked
    expected = from_rows(store)
    assert [m["model"] for m in expected["models"]] == ["x", "y"]
    assert _scores(store) == expected
    with _raw(store) as conn:
        assert not any("zé" in b.models for _a, _b, b in columns.blocks(conn))


def test_blocks_are_written_in_short_transactions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer waits for one block, not for the whole copy."""
    monkeypatch.setattr(columns, "BLOCK_ROWS", 4)
    monkeypatch.setattr(columns, "TRANSACTION_SECONDS", 0.0)  # one block, then commit
    store = _store(tmp_path)
    statements: list[str] = []
    with _raw(store) as conn:
        conn.set_trace_callback(statements.append)
        written = columns.extend(conn)
        conn.set_trace_callback(None)
        blocks = len(columns.covered(conn))
    assert written == blocks * 4 and blocks > 10
    # One BEGIN IMMEDIATE … COMMIT per block, and the last that found nothing due.
    assert statements.count("BEGIN IMMEDIATE") == blocks + 1
    assert statements.count("COMMIT") == blocks + 1


def test_an_answer_id_below_one_is_read_and_covered(
    store: Store, from_rows: Callable[[Store], dict[str, Any]]
) -> None:
    """Ids are 1, 2, … unless given by hand; one given as 0 or −5 still counts."""
    with _raw(store) as conn:
        conn.execute("UPDATE responses SET id = -5 WHERE id = 2")
        conn.execute("UPDATE responses SET id = 0 WHERE id = 3")
    expected = from_rows(store)
    with _raw(store) as conn:
        (live,) = conn.execute(
            "SELECT count(*) FROM responses WHERE catalog_id = 1 AND from_cache = 0"
        ).fetchone()
    assert sum(m["responses"] for m in expected["models"]) == live  # the two among them
    assert _scores(store) == expected
    assert _covered(store)[0][0] == -5
    assert _scores(store) == expected


def test_a_block_of_another_format_is_ignored_then_replaced(
    store: Store, from_rows: Callable[[Store], dict[str, Any]]
) -> None:
    expected = from_rows(store)
    with _raw(store) as conn:  # a future layout, its range not this one's
        conn.execute("INSERT INTO answer_columns VALUES (3, 30, 99, 28, x'00')")
        assert columns.covered(conn) == []
    assert _scores(store) == expected  # writes this format's blocks, the other one gone
    with _raw(store) as conn:
        formats = {f for (f,) in conn.execute("SELECT format FROM answer_columns")}
        assert formats == {columns.FORMAT}
        conn.execute("UPDATE responses SET latency_ms = 1.5 WHERE id = 4")
    assert _scores(store) == from_rows(store) != expected


def test_hashes_are_found_exactly_even_when_two_share_their_first_eight_bytes() -> None:
    rng = np.random.default_rng(7)
    hexes = [bytes(rng.integers(0, 256, 16, dtype=np.uint8)).hex() for _ in range(500)]
    items = columns.hashes(hexes[:300])
    answers = columns.hashes([*hexes[250:], *hexes[:10], "h1"])
    expected = [hexes.index(h) if hexes.index(h) < 300 else -1 for h in [*hexes[250:], *hexes[:10]]]
    assert columns.HashIndex(items).find(answers).tolist() == [*expected, -1]
    # Another hash with the first 8 bytes of the first: every byte is compared.
    twin = hexes[0][:16] + "0" * 16
    both = columns.hashes([*hexes[:300], twin])
    index = columns.HashIndex(both)
    found = index.find(columns.hashes([hexes[0], twin, hexes[1][:16] + "1" * 16]))
    assert found.tolist() == [0, 300, -1]
    assert columns.HashIndex(columns.hashes([])).find(answers).tolist() == [-1] * answers.size


def test_group_concat_hashes_are_coded_as_one_by_one_or_refused() -> None:
    hexes = ["0f" * 16, "a1" * 16, "00" * 16]
    joined = columns.concat_hashes(",".join(hexes), 3)
    assert joined is not None and joined.tobytes() == columns.hashes(hexes).tobytes()
    # Not 32 lowercase hex digits each: the caller reads them one by one instead.
    for bad in (["0f" * 16, "A1" * 16], ["0f" * 15 + "0", "a1" * 16 + "a"], ["0f" * 16, "h1"]):
        assert columns.concat_hashes(",".join(bad), len(bad)) is None
    assert columns.concat_hashes("0f 0f" + "0f" * 14 + "00", 1) is None
    assert columns.concat_hashes(None, 0) is not None
