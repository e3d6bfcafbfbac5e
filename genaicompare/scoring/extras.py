"""The statistics that sit beside the main scores (issue 14 §5–§7), read in one transaction:
the style-controlled leaderboard, the judge's report card, agreement between people."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genaicompare.store import Store


def read_connection(store: Store) -> sqlite3.Connection:
    """A read connection of its own (as :func:`~.aggregate.compute_scores` uses), in a read
    transaction so every section sees one snapshot."""
    conn = sqlite3.connect(str(store.path), timeout=10.0, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("BEGIN")
    return conn


def compute_extras(
    store: Store, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """``style``, ``judge`` (one card per judge model) and ``agreement`` as JSON-able dicts."""
    from genaicompare.scoring.agreement import agreement_section
    from genaicompare.scoring.judge_card import judge_section
    from genaicompare.scoring.style import style_section

    conn = read_connection(store)
    try:
        return {
            "style": style_section(conn, catalog, rounds, seed).to_json(),
            "judge": judge_section(conn, catalog, rounds, seed),
            "agreement": agreement_section(conn, catalog, rounds, seed),
        }
    finally:
        conn.close()
