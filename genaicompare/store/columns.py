"""A columnar copy of the stored answers, for the statistics that read every one of them.

``scores`` reads a dozen fields of every answer and every numeric metric: on a million answers
those reads took 14 s through SQL (``group_concat`` over rows that carry the answer's text and
messages) before any arithmetic. Here the same fields are kept in blocks of
:data:`BLOCK_ROWS` consecutive answers, each one BLOB of numpy arrays in ``answer_columns``
(≈ 135 bytes an answer with three metrics), read back in a fraction of a second.

A block is exact or absent, never stale: triggers (migration ``m012_answer_columns``) delete
the block of any answer that is inserted into, changed in or deleted from its id range, and of
any answer whose metrics change, in the same transaction as the change. Readers take the
blocks there are and read the answers no block covers (the newest, and any range whose block
was deleted) through SQL, as before, all in one read transaction.
:func:`extend` writes the blocks that are due; the store calls it as answers are saved and
``scores`` before it reads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

BLOCK_ROWS = 8192
"""Answers per block: 1 M answers with three metrics each are 123 blocks of ≈ 1.1 MB."""
FORMAT = 2
"""The layout of :func:`pack`. Readers ignore a block of another format (its answers are read
through SQL) and :func:`extend` deletes it before writing: the triggers find a block by its
first id whatever its format, so none may overlap a current one."""
MAGIC = b"GCB1"
TRANSACTION_SECONDS = 0.5
""":func:`extend` commits after the block that takes it past this: another writer waits for
about this long (one block at a time and a commit each: a million answers took 60 s, not 34)."""
NOTICE_ROWS = 50_000
"""From this many answers to write into blocks (≈ 2 s), :func:`extend` says so first."""

STATE_CLASS_SQL = (
    "CASE WHEN state IN ('complete', 'length') THEN 0 WHEN state IN ('error', 'timeout') "
    "THEN 1 WHEN state = 'cancelled' THEN 2 ELSE 3 END"
)
"""An answer's end as a code: 0 completed, 1 an error or a timeout, 2 cancelled, 3 other."""

ANSWER_FIELDS = (
    "id",
    "catalog_id",
    "run_id",
    "model",
    "prompt",
    "day",
    "cached",
    "state",
    "latency",
    "ttft",
    "cost",
    "length",
    "hash",
)
"""One value per answer, in :data:`_DTYPES`' types. ``model``, ``prompt`` and ``day`` are codes
into the block's own lists of model aliases, prompt ids and ``YYYY-MM-DD`` days; ``run_id`` and
``catalog_id`` are −1 where NULL; ``latency``, ``ttft`` and ``cost`` NaN where NULL;
``length`` is the text's length in characters; ``hash`` the 16 bytes of the answer's content
hash (``content_hash``, which ratings carry), so ratings meet their answers without a join
(format 1 had no hash: 483,000 rated outputs took 1.7 s to join by it)."""
METRIC_FIELDS = ("m_row", "m_name", "m_value")
"""One value per stored metric with a numeric value: the answer's row in the block, a code into
the block's metric names, the value."""

_DTYPES: dict[str, Any] = {
    "id": np.int64,
    "catalog_id": np.int64,
    "run_id": np.int64,
    "model": np.int32,
    "prompt": np.int32,
    "day": np.int32,
    "cached": np.int8,
    "state": np.int8,
    "latency": np.float64,
    "ttft": np.float64,
    "cost": np.float64,
    "length": np.int64,
    "hash": "S16",
    "m_row": np.int32,
    "m_name": np.int32,
    "m_value": np.float64,
}

ROWS_SQL = (
    "SELECT id, coalesce(catalog_id, -1), coalesce(run_id, -1), model_alias, prompt_id, "
    f"substr(created_at, 1, 10), from_cache, {STATE_CLASS_SQL}, latency_ms, ttft_ms, cost_usd, "
    "length(text), content_hash FROM responses WHERE id BETWEEN ? AND ? ORDER BY id"
)
METRICS_SQL = (
    "SELECT response_id, name, value FROM metrics WHERE response_id BETWEEN ? AND ? "
    "AND value IS NOT NULL ORDER BY response_id, name"
)


@dataclass
class Block:
    """One block's arrays (:data:`ANSWER_FIELDS`, :data:`METRIC_FIELDS`) and the lists their
    codes index."""

    arrays: dict[str, NDArray[Any]]
    models: list[str]
    prompts: list[str]
    days: list[str]
    metrics: list[str]

    @property
    def rows(self) -> int:
        return int(self.arrays["id"].size)


def _codes(values: list[str]) -> tuple[list[str], NDArray[np.int32]]:
    """The distinct values in first-seen order, and each value's index among them."""
    distinct = list(dict.fromkeys(values))
    index = {v: i for i, v in enumerate(distinct)}
    return distinct, np.array(list(map(index.__getitem__, values)), dtype=np.int32)


def _from_hex(text: str, n: int) -> bytes | None:
    """The 16 bytes each of ``n`` content hashes written one after another, when they are 32
    lowercase hex digits each (what :func:`genaicompare.core.records.content_hash` writes);
    otherwise ``None``."""
    if len(text) != 32 * n or text != text.lower():
        return None
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    return raw if len(raw) == 16 * n else None  # fromhex skips spaces


def _hash16(value: str) -> bytes:
    # Not 32 hex digits (a hash written by hand or by another tool): 16 bytes of its MD5.
    return (
        _from_hex(value, 1)
        or hashlib.md5(value.encode("utf-8", "surrogatepass"), usedforsecurity=False).digest()
    )


def hashes(hex_hashes: list[str]) -> NDArray[np.bytes_]:
    """Content hashes as 16-byte values (``S16``), in order: 32 lowercase hex digits as their
    bytes, any other text as its MD5 (the same text always gets the same value)."""
    if all(len(h) == 32 for h in hex_hashes):
        raw = _from_hex("".join(hex_hashes), len(hex_hashes))
        if raw is not None:
            return np.frombuffer(raw, dtype="S16").copy()
    return np.array([_hash16(h) for h in hex_hashes], dtype="S16")


def concat_hashes(concat: str | None, n: int) -> NDArray[np.bytes_] | None:
    """``n`` content hashes joined by ``group_concat`` (commas), coded as :func:`hashes` codes
    them but without a Python string for each (483,000 of them held ≈ 60 MB); ``None`` when
    one is not 32 lowercase hex digits (read them one by one then)."""
    if n == 0:
        return np.empty(0, "S16")
    if not concat or len(concat) != 33 * n - 1 or concat[32::33] != "," * (n - 1):
        return None
    raw = _from_hex(concat.replace(",", ""), n)
    return None if raw is None else np.frombuffer(raw, "S16")


class HashIndex:
    """Distinct content hashes (:func:`hashes`: the rated outputs), to look many answers' up in.
    Compares the first 8 bytes as integers, then the other 8 (1 M answers against 483,000
    hashes: 0.15 s; as 16-byte strings 1.1 s); if two hashes share their first 8 bytes, all 16."""

    def __init__(self, items: NDArray[np.bytes_]) -> None:
        self.size = int(items.size)
        items = np.ascontiguousarray(items, dtype="S16")
        words = items.view(np.uint64).reshape(-1, 2)
        first = np.ascontiguousarray(words[:, 0])
        self._by = np.argsort(first, kind="stable")
        self._first = first[self._by]
        self._second = np.ascontiguousarray(words[self._by, 1])
        self._sorted: NDArray[np.bytes_] | None = None
        if np.any(self._first[1:] == self._first[:-1]):
            self._by = np.argsort(items, kind="stable")
            self._sorted = items[self._by]

    def find(self, answers: NDArray[np.bytes_]) -> NDArray[np.int32]:
        """Each answer's index among the hashes, −1 where its hash is not among them."""
        out = np.full(answers.size, -1, np.int32)
        if not self.size or not answers.size:
            return out
        answers = np.ascontiguousarray(answers, dtype="S16")
        at: NDArray[np.intp]
        if self._sorted is not None:
            at = np.minimum(np.searchsorted(self._sorted, answers), self.size - 1)
            hit = self._sorted[at] == answers
        else:
            words = answers.view(np.uint64).reshape(-1, 2)
            first = np.ascontiguousarray(words[:, 0])
            queries = np.argsort(first)  # sorted queries search 4× faster than random ones
            at = np.empty(first.size, np.intp)
            at[queries] = np.searchsorted(self._first, first[queries])
            np.minimum(at, self.size - 1, out=at)
            hit = (self._first[at] == first) & (self._second[at] == words[:, 1])
        out[hit] = self._by[at[hit]]
        return out


def _nan(values: list[Any]) -> NDArray[np.float64]:
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


def block_from_rows(rows: list[tuple[Any, ...]], metric_rows: list[tuple[Any, ...]]) -> Block:
    """A block from :data:`ROWS_SQL`'s rows (in id order) and :data:`METRICS_SQL`'s."""
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in ANSWER_FIELDS]
    models, model = _codes(list(cols[3]))
    prompts, prompt = _codes(list(cols[4]))
    days, day = _codes(list(cols[5]))
    ids = np.array(cols[0], dtype=np.int64)
    arrays: dict[str, NDArray[Any]] = {
        "id": ids,
        "catalog_id": np.array(cols[1], dtype=np.int64),
        "run_id": np.array(cols[2], dtype=np.int64),
        "model": model,
        "prompt": prompt,
        "day": day,
        "cached": np.array(cols[6], dtype=np.int8),
        "state": np.array(cols[7], dtype=np.int8),
        "latency": _nan(list(cols[8])),
        "ttft": _nan(list(cols[9])),
        "cost": _nan(list(cols[10])),
        "length": np.array(cols[11], dtype=np.int64),
        "hash": hashes(list(cols[12])),
    }
    # Metrics of answers in the block only (a metric row whose answer is gone is no answer's).
    m_ids = np.array([r[0] for r in metric_rows], dtype=np.int64)
    pos = np.searchsorted(ids, m_ids)
    found = pos < ids.size
    found[found] &= ids[pos[found]] == m_ids[found]
    names, name = _codes([r[1] for r in metric_rows])
    arrays["m_row"] = pos[found].astype(np.int32)
    arrays["m_name"] = name[found]
    arrays["m_value"] = np.array([r[2] for r in metric_rows], dtype=np.float64)[found]
    return Block(arrays, models, prompts, days, names)


def pack(block: Block) -> bytes:
    """``MAGIC``, the header's length, a JSON header (the lists and each array's length), then
    each array's bytes, every part padded to 8 bytes so arrays are read in place."""
    header = json.dumps(
        {
            "models": block.models,
            "prompts": block.prompts,
            "days": block.days,
            "metrics": block.metrics,
            "lengths": [int(block.arrays[f].size) for f in (*ANSWER_FIELDS, *METRIC_FIELDS)],
        },
        ensure_ascii=False,
    ).encode()
    parts = [MAGIC, struct.pack("<I", len(header)), header]
    size = sum(len(p) for p in parts)
    for field in (*ANSWER_FIELDS, *METRIC_FIELDS):
        parts.append(b"\0" * (-size % 8))
        size += -size % 8
        dtype = np.dtype(_DTYPES[field]).newbyteorder("<")
        data = np.ascontiguousarray(block.arrays[field], dtype=dtype).tobytes()
        parts.append(data)
        size += len(data)
    return b"".join(parts)


def unpack(data: bytes) -> Block:
    """The block :func:`pack` wrote (arrays are read-only views of ``data``)."""
    if data[:4] != MAGIC:
        raise ValueError("not an answer_columns block")
    (hlen,) = struct.unpack_from("<I", data, 4)
    header = json.loads(data[8 : 8 + hlen])
    offset = 8 + hlen
    arrays: dict[str, NDArray[Any]] = {}
    for field, n in zip((*ANSWER_FIELDS, *METRIC_FIELDS), header["lengths"], strict=True):
        offset += -offset % 8
        dtype = np.dtype(_DTYPES[field]).newbyteorder("<")
        arrays[field] = np.frombuffer(data, dtype=dtype, count=n, offset=offset)
        offset += n * dtype.itemsize
    return Block(arrays, header["models"], header["prompts"], header["days"], header["metrics"])


def read_block(conn: sqlite3.Connection, first_id: int, last_id: int) -> Block:
    """The answers with ids in ``first_id … last_id`` and their metrics, read through SQL."""
    rows = conn.execute(ROWS_SQL, [first_id, last_id]).fetchall()
    metric_rows = conn.execute(METRICS_SQL, [first_id, last_id]).fetchall() if rows else []
    return block_from_rows(rows, metric_rows)


def has_table(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'answer_columns'"
        ).fetchone()
        is not None
    )


def covered(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """The id ranges of the blocks of the current format, in order."""
    if not has_table(conn):
        return []
    return [
        (int(a), int(b))
        for a, b in conn.execute(
            "SELECT first_id, last_id FROM answer_columns WHERE format = ? ORDER BY first_id",
            [FORMAT],
        )
    ]


def id_span(conn: sqlite3.Connection) -> tuple[int, int]:
    """The stored answers' ids lie in ``bottom … top`` (``bottom`` ≤ 1: ids are 1, 2, … unless
    one was given by hand)."""
    low, top = conn.execute("SELECT min(id), max(id) FROM responses").fetchone()
    return min(1, low or 1), top or 0


def uncovered(ranges: list[tuple[int, int]], top: int, bottom: int = 1) -> list[tuple[int, int]]:
    """The id ranges in ``bottom … top`` that no range of ``ranges`` (sorted, disjoint) holds."""
    out, lo = [], bottom
    for a, b in ranges:
        if a > lo:
            out.append((lo, a - 1))
        lo = max(lo, b + 1)
    if lo <= top:
        out.append((lo, top))
    return out


def blocks(conn: sqlite3.Connection) -> Iterator[tuple[int, int, Block]]:
    """Every stored block of the current format: ``(first_id, last_id, block)``, in id order."""
    if not has_table(conn):
        return
    cur = conn.execute(
        "SELECT first_id, last_id, data FROM answer_columns WHERE format = ? ORDER BY first_id",
        [FORMAT],
    )
    for first, last, data in cur:
        yield int(first), int(last), unpack(data)


def _metric_names(conn: sqlite3.Connection, first_id: int) -> list[str]:
    """The metric names of the block at ``first_id``, from its header alone."""
    with conn.blobopen("answer_columns", "data", first_id, readonly=True) as blob:
        head = blob.read(8)
        if head[:4] != MAGIC:
            return []
        (hlen,) = struct.unpack_from("<I", head, 4)
        return list(json.loads(blob.read(hlen))["metrics"])


def ranges_with_metric(
    conn: sqlite3.Connection, wanted: Callable[[str], bool]
) -> list[tuple[int, int]]:
    """The answer id ranges that may hold a numeric metric whose name is ``wanted``: the blocks
    that have one, and every range no block covers. A query for a rare metric (a judge's
    verdicts) reads these ranges by the metrics' primary key instead of scanning them all."""
    bottom, top = id_span(conn)
    ranges = covered(conn)
    out = uncovered(ranges, top, bottom)
    out += [(a, b) for a, b in ranges if any(map(wanted, _metric_names(conn, a)))]
    return sorted(out)


def read_all(conn: sqlite3.Connection) -> Iterator[Block]:
    """Every stored answer and its numeric metrics, as blocks in id order: the stored blocks,
    and the answers no block covers read through SQL (in blocks of :data:`BLOCK_ROWS`)."""
    bottom, top = id_span(conn)
    stored = blocks(conn)
    pending = next(stored, None)
    for lo, hi in [*uncovered(covered(conn), top, bottom), (top + 1, top + 1)]:
        while pending is not None and pending[0] < lo:
            yield pending[2]
            pending = next(stored, None)
        if lo > top:
            break
        cur = conn.execute(ROWS_SQL, [lo, hi])
        while rows := cur.fetchmany(BLOCK_ROWS):
            metric_rows = conn.execute(METRICS_SQL, [rows[0][0], rows[-1][0]]).fetchall()
            yield block_from_rows(rows, metric_rows)
    while pending is not None:
        yield pending[2]
        pending = next(stored, None)


def due(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """The id ranges to write blocks for: every range a deleted block left (whole), and the
    uncovered newest answers in full blocks of :data:`BLOCK_ROWS`, all but the newest
    :data:`BLOCK_ROWS` of them (their metrics may still be being computed)."""
    if not has_table(conn):
        return []
    bottom, top = id_span(conn)
    ranges = covered(conn)
    holes = uncovered(ranges, top, bottom)
    tail_lo = (ranges[-1][1] + 1) if ranges else bottom
    out = [(a, b) for a, b in holes if b < tail_lo]
    lo = tail_lo
    while True:
        ids = conn.execute(
            "SELECT id FROM responses WHERE id >= ? ORDER BY id LIMIT 1 OFFSET ?",
            [lo, 2 * BLOCK_ROWS - 1],
        ).fetchone()
        if ids is None:
            break
        last = conn.execute(
            "SELECT id FROM responses WHERE id >= ? ORDER BY id LIMIT 1 OFFSET ?",
            [lo, BLOCK_ROWS - 1],
        ).fetchone()[0]
        out.append((lo, int(last)))
        lo = int(last) + 1
    return out


def write_block(conn: sqlite3.Connection, first_id: int, last_id: int) -> int:
    """Read, pack and store the block of ``first_id … last_id`` (at most :data:`BLOCK_ROWS`
    answers: one of :func:`_pieces`); returns its number of rows."""
    block = read_block(conn, first_id, last_id)
    conn.execute(
        "INSERT OR REPLACE INTO answer_columns (first_id, last_id, format, rows, data) "
        "VALUES (?, ?, ?, ?, ?)",
        [first_id, last_id, FORMAT, block.rows, pack(block)],
    )
    return block.rows


def indexing_message(answers: int) -> str:
    """What :func:`extend`'s ``notice`` tells a user (the CLI on stderr, the TUI as a toast)."""
    return (
        f"indexing {answers:,} stored answers for scores (once; later runs read only what is new)…"
    )


def _pieces(conn: sqlite3.Connection, ranges: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """``ranges`` cut into blocks of at most :data:`BLOCK_ROWS` stored answers, in order."""
    for first, last in ranges:
        lo = first
        while lo <= last:
            end = conn.execute(
                "SELECT id FROM responses WHERE id BETWEEN ? AND ? ORDER BY id LIMIT 1 OFFSET ?",
                [lo, last, BLOCK_ROWS - 1],
            ).fetchone()
            hi = last if end is None else int(end[0])
            yield lo, hi
            lo = hi + 1


def extend(
    conn: sqlite3.Connection,
    busy_ms: int = 200,
    notice: Callable[[int], None] | None = None,
) -> int:
    """Write the blocks that are :func:`due` on ``conn`` (not in a transaction), committing
    every :data:`TRANSACTION_SECONDS`: another writer (a run saving answers, a rating) waits
    about that long, not for all of them (≈ 30 s for a million answers). Stops when another writer
    holds the database for ``busy_ms``, or the file is read-only: what no block covers is read
    through SQL. ``notice(answers)`` is called first when the due blocks hold more than
    :data:`NOTICE_ROWS` answers. Returns the answers written into blocks."""
    (was,) = conn.execute("PRAGMA busy_timeout").fetchone()
    conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
    written, first = 0, True
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                if first:
                    conn.execute("DELETE FROM answer_columns WHERE format != ?", [FORMAT])
                todo = due(conn)
                if not todo:
                    conn.execute("COMMIT")
                    return written
                if first and notice is not None:
                    rows = sum(
                        conn.execute(
                            "SELECT count(*) FROM responses WHERE id BETWEEN ? AND ?", r
                        ).fetchone()[0]
                        for r in todo
                    )
                    if rows > NOTICE_ROWS:
                        notice(int(rows))
                first = False
                # Blocks until TRANSACTION_SECONDS have passed, then the commit lets others in.
                started = time.perf_counter()
                for n, (lo, hi) in enumerate(_pieces(conn, todo)):
                    if n and time.perf_counter() - started >= TRANSACTION_SECONDS:
                        break
                    written += write_block(conn, lo, hi)
                conn.execute("COMMIT")
            except sqlite3.OperationalError:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                return written
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(was)}")
