"""The statistics that sit beside the main scores (issue 14 §5–§7): the style-controlled
leaderboard, the judge's report card, agreement between people, each read in one transaction."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genaicompare.store import Store


def read_connection(store: Store) -> sqlite3.Connection:
    """A read connection of its own (as :func:`~.aggregate.compute_scores` uses), in a read
    transaction so every section sees one snapshot."""
    conn = sqlite3.connect(
        str(store.path), timeout=10.0, isolation_level=None, check_same_thread=False
    )
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("BEGIN")
    return conn


def compute_extras(
    store: Store, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """``style``, ``judge`` (one card per judge model) and ``agreement`` as JSON-able dicts."""
    from concurrent.futures import ThreadPoolExecutor

    from genaicompare.scoring.agreement import agreement_section
    from genaicompare.scoring.judge_card import judge_section
    from genaicompare.scoring.style import style_section

    def style(conn: sqlite3.Connection) -> dict[str, Any]:
        return style_section(conn, catalog, rounds, seed).to_json()

    # The style section on one connection and thread, the judge's and people's agreement on
    # another: most of each is SQLite reading, which releases the GIL.
    conns = [read_connection(store), read_connection(store)]
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="scores-style") as pool:
            later = pool.submit(style, conns[1])
            judge = judge_section(conns[0], catalog, rounds, seed)
            agreement = agreement_section(conns[0], catalog, rounds, seed)
            return {"style": later.result(), "judge": judge, "agreement": agreement}
    finally:
        for conn in conns:
            conn.close()
