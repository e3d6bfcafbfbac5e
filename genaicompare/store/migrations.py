"""Append-only, named schema migrations (the simonw/llm pattern).

Never edit a migration that has shipped: add a new ``mNNN_name`` function below the others.
Each runs once, in order, inside a transaction; applied names are kept in ``_migrations``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only the type: the TUI checks a database before sqlite-utils is imported
    from genaicompare.store._sqlite_utils import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def migrate(db: sqlite_utils.Database) -> None:
    conn = db.conn
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", [fn.__name__]).fetchone():
                conn.execute("COMMIT")
                continue
            fn(db)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))",
                [fn.__name__],
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


@migration
def m001_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """
        CREATE TABLE catalogs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            path TEXT,
            loaded_at TEXT NOT NULL,
            UNIQUE (name, version, content_hash)
        )"""
    )
    db.execute(
        """
        CREATE TABLE prompts (
            id INTEGER PRIMARY KEY,
            catalog_id INTEGER NOT NULL REFERENCES catalogs(id),
            prompt_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            body TEXT NOT NULL,            -- the prompt as JSON (reference, tags, assert, ...)
            reference TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            task TEXT,
            segment TEXT,
            UNIQUE (catalog_id, prompt_id)
        )"""
    )
    db.execute(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            catalog_id INTEGER REFERENCES catalogs(id),
            catalog_name TEXT,
            catalog_version TEXT,
            mode TEXT NOT NULL,            -- headless | tui
            started_at TEXT NOT NULL,
            ended_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',  -- running | finished | interrupted | failed
            genaicompare_version TEXT,
            litellm_version TEXT,
            concurrency INTEGER,
            options TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute(
        """
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            catalog_id INTEGER REFERENCES catalogs(id),
            prompt_id TEXT NOT NULL,
            model_alias TEXT NOT NULL,
            model TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',   -- no secrets: keys never enter params
            api_base TEXT,
            messages TEXT NOT NULL,              -- the full rendered messages (JSON)
            template_hash TEXT,
            request_hash TEXT NOT NULL,          -- model + params + messages: the cache key
            content_hash TEXT NOT NULL,          -- request + output text: ratings carry over on it
            text TEXT NOT NULL DEFAULT '',       -- as received; sanitizing is for display
            state TEXT NOT NULL,
            finish_reason TEXT,
            error_type TEXT,
            error TEXT,                          -- redacted before it gets here
            ttft_ms REAL,
            latency_ms REAL,
            tokens_in INTEGER,
            tokens_out INTEGER,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            tokens_per_s REAL,
            cost_usd REAL,                       -- NULL = unknown, never 0 for "no price"
            reported_model TEXT,
            retries INTEGER NOT NULL DEFAULT 0,
            sample_index INTEGER NOT NULL DEFAULT 0,
            from_cache INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX responses_request ON responses(request_hash, state)")
    db.execute("CREATE INDEX responses_content ON responses(content_hash)")
    db.execute("CREATE INDEX responses_run ON responses(run_id)")
    db.execute("CREATE INDEX responses_prompt ON responses(catalog_id, prompt_id, model_alias)")
    db.execute(
        """
        CREATE TABLE metrics (
            response_id INTEGER NOT NULL REFERENCES responses(id),
            name TEXT NOT NULL,
            value REAL,                          -- NULL when not numeric (see detail)
            detail TEXT,                         -- JSON: spans, labels, reason, judge_error, ...
            version TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (response_id, name)
        )"""
    )
    db.execute(
        """
        CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,            -- stable across databases: imports are idempotent
            kind TEXT NOT NULL,                  -- thumb | pair | retract
            rater TEXT NOT NULL,
            prompt_id TEXT NOT NULL,
            catalog_name TEXT,
            response_id INTEGER REFERENCES responses(id),
            content_hash TEXT,                   -- the rated response's content hash
            other_response_id INTEGER REFERENCES responses(id),
            other_content_hash TEXT,             -- pair: the B side
            model_alias TEXT,
            other_model_alias TEXT,
            value TEXT NOT NULL,                 -- up | down | a | b | tie | both_bad | (retract: uid)
            comment TEXT,
            blind INTEGER NOT NULL DEFAULT 0,
            pane_order TEXT,                     -- JSON list of aliases as shown
            shuffle_seed INTEGER,
            time_to_rate_ms REAL,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX ratings_content ON ratings(content_hash)")
    db.execute("CREATE INDEX ratings_prompt ON ratings(prompt_id, rater)")
    db.execute(
        """
        CREATE TABLE exports (
            id INTEGER PRIMARY KEY,
            format TEXT NOT NULL,
            path TEXT,
            filters TEXT NOT NULL DEFAULT '{}',
            response_ids TEXT NOT NULL DEFAULT '[]',
            run_ids TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        )"""
    )


@migration
def m002_ratings_current_and_export_contents(db: sqlite_utils.Database) -> None:
    # A rating's "item" (what a later rating by the same rater supersedes): the content hash for a
    # thumb, the unordered pair of content hashes for a preference; a retraction carries its
    # target's item.
    db.execute("ALTER TABLE ratings ADD COLUMN item TEXT")
    db.execute(
        """UPDATE ratings SET item = CASE
             WHEN kind = 'pair' THEN 'pair:' || min(content_hash, other_content_hash) || '|'
                                     || max(content_hash, other_content_hash)
             ELSE 'thumb:' || content_hash
           END"""
    )
    db.execute("CREATE INDEX ratings_rater_item ON ratings(rater, item, kind, id)")
    # The rating in force per (rater, item), kept in step with the log in the same transaction as
    # every rating write (genaicompare.ratings). Derived data: rebuildable from ``ratings`` at any
    # time; it exists so scores over a million ratings aggregate with index scans, not sorts.
    db.execute(
        """
        CREATE TABLE ratings_current (
            rater TEXT NOT NULL,
            item TEXT NOT NULL,
            rating_id INTEGER NOT NULL,
            kind TEXT NOT NULL,               -- thumb | pair
            catalog_name TEXT,
            prompt_id TEXT NOT NULL,
            model_alias TEXT,
            other_model_alias TEXT,
            value TEXT NOT NULL,
            canon_value TEXT NOT NULL,        -- pair value with a = the smaller content hash
            content_hash TEXT,
            day TEXT NOT NULL,                -- YYYY-MM-DD of the rating
            PRIMARY KEY (rater, item)
        ) WITHOUT ROWID"""
    )
    db.execute(
        "CREATE INDEX rc_model ON ratings_current"
        "(catalog_name, kind, model_alias, other_model_alias, prompt_id, value)"
    )
    db.execute(
        "CREATE INDEX rc_item ON ratings_current(catalog_name, kind, item, rater, canon_value)"
    )
    db.execute(
        "CREATE INDEX rc_rater_prompt ON ratings_current"
        "(catalog_name, kind, rater, prompt_id, model_alias, value)"
    )
    db.execute("CREATE INDEX rc_day ON ratings_current(catalog_name, kind, day, value)")
    db.execute("CREATE INDEX rc_rating ON ratings_current(rating_id)")
    db.execute(
        f"INSERT INTO ratings_current {_M002_RATINGS_CURRENT_SELECT} WHERE r.id IN ("
        "SELECT max(id) FROM ratings WHERE kind != 'retract' AND id NOT IN ("
        "SELECT t.id FROM ratings x JOIN ratings t ON t.uid = x.value "
        "WHERE x.kind = 'retract') GROUP BY rater, item)"
    )
    # What each export contained, so `forget` can name the files that still hold deleted text.
    db.execute("ALTER TABLE exports ADD COLUMN database TEXT")
    db.execute("ALTER TABLE exports ADD COLUMN catalog_name TEXT")
    db.execute("ALTER TABLE exports ADD COLUMN prompt_ids TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE exports ADD COLUMN model_aliases TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE exports ADD COLUMN raters TEXT NOT NULL DEFAULT '[]'")
    db.execute("ALTER TABLE exports ADD COLUMN lines INTEGER")


# m002's projection of a ``ratings r`` row onto its ``ratings_current`` (frozen with m002).
_M002_RATINGS_CURRENT_SELECT = """
    SELECT r.rater, r.item, r.id, r.kind, r.catalog_name, r.prompt_id, r.model_alias,
           r.other_model_alias, r.value,
           CASE WHEN r.kind = 'pair' AND r.content_hash > r.other_content_hash
                THEN CASE r.value WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE r.value END
                ELSE r.value END,
           r.content_hash, substr(r.created_at, 1, 10)
    FROM ratings r"""

# Projects a ``ratings r`` row onto ``ratings_current`` as m006 shaped it (shared by m006,
# rebuild_current and genaicompare.ratings): the key (rater, catalog — the catalog name, '' outside
# any catalog —, prompt, item) first, then what the totals need.
RATINGS_CURRENT_SELECT = """
    SELECT r.rater, coalesce(r.catalog_name, ''), r.prompt_id, r.item, r.id, r.kind,
           r.catalog_name, r.model_alias, r.other_model_alias, r.value,
           CASE WHEN r.kind = 'pair' AND r.content_hash > r.other_content_hash
                THEN CASE r.value WHEN 'a' THEN 'b' WHEN 'b' THEN 'a' ELSE r.value END
                ELSE r.value END,
           r.content_hash, substr(r.created_at, 1, 10)
    FROM ratings r"""

# The ratings in force: per (rater, catalog, prompt, item), the newest rating not retracted.
_IN_FORCE = (
    "SELECT max(id) FROM ratings WHERE kind != 'retract' AND id NOT IN ("
    "SELECT t.id FROM ratings x JOIN ratings t ON t.uid = x.value WHERE x.kind = 'retract') "
    "GROUP BY rater, coalesce(catalog_name, ''), prompt_id, item"
)


@migration
def m003_rating_aggregates(db: sqlite_utils.Database) -> None:
    # Running totals over ratings_current, kept in step by genaicompare.ratings in the same
    # transaction as each rating. Scores read these few thousand rows instead of grouping and
    # self-joining a million ratings. Derived data: rebuild_rating_aggregates() recomputes them.
    # catalog is '' for ratings of answers outside any catalog.
    db.execute(
        """CREATE TABLE agg_thumb_cells (
            catalog TEXT NOT NULL, model_alias TEXT NOT NULL, prompt_id TEXT NOT NULL,
            ups INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, model_alias, prompt_id)) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE agg_thumb_items (
            catalog TEXT NOT NULL, content_hash TEXT NOT NULL,
            ups INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, content_hash)) WITHOUT ROWID"""
    )
    # Same-prompt thumbs by one rater as battles, model_a < model_b.
    db.execute(
        """CREATE TABLE agg_thumb_battles (
            catalog TEXT NOT NULL, model_a TEXT NOT NULL, model_b TEXT NOT NULL,
            a_wins INTEGER NOT NULL, b_wins INTEGER NOT NULL, ties INTEGER NOT NULL,
            both_bad INTEGER NOT NULL,
            PRIMARY KEY (catalog, model_a, model_b)) WITHOUT ROWID"""
    )
    # Two raters' judgements of one item (canonical categories), rater_a < rater_b.
    db.execute(
        """CREATE TABLE agg_rater_pairs (
            catalog TEXT NOT NULL, rater_a TEXT NOT NULL, rater_b TEXT NOT NULL,
            cat_a TEXT NOT NULL, cat_b TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, rater_a, rater_b, cat_a, cat_b)) WITHOUT ROWID"""
    )
    rebuild_rating_aggregates(db.conn)


ITEM_CATEGORIES: dict[str, tuple[str, ...]] = {
    "thumb": ("up", "down"),
    "pair": ("a", "b", "tie", "both_bad"),
}
"""The categories agreement between people counts per kind of rating (canonical A/B values), in
the order of ``agg_item_classes.counts``."""


def item_class(counts: dict[str, int], kind: str) -> str:
    """An item's per-category counts as ``agg_item_classes`` keys them: ``"2,0"``."""
    return ",".join(str(counts.get(c, 0)) for c in ITEM_CATEGORIES[kind])


def fill_item_classes(conn: sqlite3.Connection) -> None:
    """``agg_item_classes`` from ratings_current (the table empty, in the caller's transaction):
    per catalog and kind, how many items have each vector of per-category counts."""
    for kind, cats in ITEM_CATEGORIES.items():
        counts = " || ',' || ".join(f"sum(canon_value = '{c}')" for c in cats)
        marks = ", ".join("?" for _ in cats)
        conn.execute(
            "INSERT INTO agg_item_classes SELECT catalog, ?, counts, count(*) FROM ("
            f"SELECT catalog, {counts} AS counts FROM ratings_current WHERE kind = ? "
            f"AND canon_value IN ({marks}) GROUP BY catalog, prompt_id, item) "
            "GROUP BY catalog, counts",
            [kind, kind, *cats],
        )


def rebuild_rating_aggregates(conn: sqlite3.Connection) -> None:
    """Recompute the agg_* tables from ratings_current (caller holds the write transaction)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for table in (
        "agg_thumb_cells",
        "agg_thumb_items",
        "agg_thumb_battles",
        "agg_rater_pairs",
        "agg_pairs",
        "agg_thumb_days",
        "agg_strong_pairs",
        "agg_best_picks",
        "agg_item_classes",
    ):
        if table in tables:
            conn.execute(f"DELETE FROM {table}")
    if "agg_item_classes" in tables:  # m013 onwards
        fill_item_classes(conn)
    graded = "agg_best_picks" in tables  # m008 onwards: strengths and best-of-N picks
    conn.execute(
        "INSERT INTO agg_thumb_cells SELECT coalesce(catalog_name, ''), model_alias, prompt_id, "
        "sum(value = 'up'), count(*) FROM ratings_current WHERE kind = 'thumb' "
        "AND model_alias IS NOT NULL GROUP BY 1, 2, 3"
    )
    conn.execute(
        "INSERT INTO agg_thumb_items SELECT coalesce(catalog_name, ''), content_hash, "
        "sum(value = 'up'), count(*) FROM ratings_current WHERE kind = 'thumb' GROUP BY 1, 2"
    )
    conn.execute(
        "INSERT INTO agg_thumb_battles SELECT coalesce(a.catalog_name, ''), a.model_alias, "
        "b.model_alias, sum(a.value = 'up' AND b.value = 'down'), "
        "sum(a.value = 'down' AND b.value = 'up'), sum(a.value = 'up' AND b.value = 'up'), "
        "sum(a.value = 'down' AND b.value = 'down') FROM ratings_current a "
        "JOIN ratings_current b ON b.catalog_name IS a.catalog_name AND b.kind = 'thumb' "
        "AND b.rater = a.rater AND b.prompt_id = a.prompt_id AND b.model_alias > a.model_alias "
        # Issue 12 §5: a pair vote supersedes the thumb battle. Two NOT EXISTS, one per order,
        # not one with an OR: with the OR SQLite searched rc_model on (catalog, kind) only and
        # scanned every pair vote per thumb (20,000 ratings: 8 s; 40,000: 40 s), with equality on
        # both aliases and the prompt it seeks.
        "WHERE a.kind = 'thumb' AND NOT EXISTS (SELECT 1 FROM ratings_current p "
        "WHERE p.catalog_name IS a.catalog_name AND p.kind = 'pair' AND p.model_alias = "
        "a.model_alias AND p.other_model_alias = b.model_alias AND p.prompt_id = a.prompt_id "
        "AND p.rater = a.rater) AND NOT EXISTS (SELECT 1 FROM ratings_current p "
        "WHERE p.catalog_name IS a.catalog_name AND p.kind = 'pair' AND p.model_alias = "
        "b.model_alias AND p.other_model_alias = a.model_alias AND p.prompt_id = a.prompt_id "
        "AND p.rater = a.rater)"
        # Issue 13: so does a best-of-N pick of that rater on that prompt with one of the two
        # models the winner and the other among the answers it beat.
        + (
            " AND NOT EXISTS (SELECT 1 FROM ratings_current p JOIN ratings r ON r.id = "
            "p.rating_id, json_each(r.others) j WHERE p.rater = a.rater AND p.catalog = "
            "a.catalog AND p.prompt_id = a.prompt_id AND p.kind = 'best' AND ((p.model_alias = "
            "a.model_alias AND json_extract(j.value, '$.model_alias') = b.model_alias) OR "
            "(p.model_alias = b.model_alias AND json_extract(j.value, '$.model_alias') = "
            "a.model_alias)))"
            if graded
            else ""
        )
        + " GROUP BY 1, 2, 3"
    )
    conn.execute(
        "INSERT INTO agg_rater_pairs SELECT coalesce(a.catalog_name, ''), a.rater, b.rater, "
        "a.canon_value, b.canon_value, count(*) FROM ratings_current a "
        "JOIN ratings_current b ON b.catalog_name IS a.catalog_name AND b.kind = a.kind "
        "AND b.prompt_id = a.prompt_id AND b.item = a.item AND b.rater > a.rater "
        "AND a.kind NOT IN ('best', 'rubric', 'correction') GROUP BY 1, 2, 3, 4, 5"
    )
    if "agg_pairs" in tables:  # m004 onwards (m003 runs this function before they exist)
        conn.execute(
            "INSERT INTO agg_pairs SELECT coalesce(catalog_name, ''), model_alias, "
            "other_model_alias, value, count(*) FROM ratings_current WHERE kind = 'pair' "
            "AND model_alias IS NOT NULL AND other_model_alias IS NOT NULL GROUP BY 1, 2, 3, 4"
        )
        conn.execute(
            "INSERT INTO agg_thumb_days SELECT coalesce(catalog_name, ''), day, "
            "sum(value = 'up'), count(*) FROM ratings_current WHERE kind = 'thumb' GROUP BY 1, 2"
        )
    if graded:
        conn.execute(
            "INSERT INTO agg_strong_pairs SELECT coalesce(c.catalog_name, ''), c.model_alias, "
            "c.other_model_alias, c.value, count(*) FROM ratings_current c JOIN ratings r "
            "ON r.id = c.rating_id WHERE c.kind = 'pair' AND r.strength = 2 "
            "AND c.model_alias IS NOT NULL AND c.other_model_alias IS NOT NULL GROUP BY 1, 2, 3, 4"
        )
        # The losers list as genaicompare.ratings.aggregates.losers_key writes it: distinct,
        # sorted, compact JSON.
        conn.execute(
            "INSERT INTO agg_best_picks SELECT catalog, winner, losers, count(*) FROM ("
            "SELECT c.catalog AS catalog, c.model_alias AS winner, (SELECT json_group_array(m) "
            "FROM (SELECT DISTINCT json_extract(j.value, '$.model_alias') AS m "
            "FROM json_each(r.others) j WHERE m IS NOT NULL AND m != c.model_alias "
            "AND NOT EXISTS (SELECT 1 FROM ratings_current p WHERE p.rater = c.rater "
            "AND p.catalog = c.catalog AND p.prompt_id = c.prompt_id AND p.kind = 'pair' "
            "AND ((p.model_alias = c.model_alias AND p.other_model_alias = m) "
            "OR (p.model_alias = m AND p.other_model_alias = c.model_alias))) ORDER BY m)) "
            "AS losers FROM ratings_current c JOIN ratings r ON r.id = c.rating_id "
            "WHERE c.kind = 'best' AND c.model_alias IS NOT NULL) "
            "WHERE losers != '[]' GROUP BY 1, 2, 3"
        )


@migration
def m004_rating_aggregates_pairs_days(db: sqlite_utils.Database) -> None:
    # Two more running totals (see m003): A/B votes per ordered model pair and value, and thumbs
    # per day — the last scores that still scanned every rating in force.
    db.execute(
        """CREATE TABLE agg_pairs (
            catalog TEXT NOT NULL, model_a TEXT NOT NULL, model_b TEXT NOT NULL,
            value TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, model_a, model_b, value)) WITHOUT ROWID"""
    )
    db.execute(
        """CREATE TABLE agg_thumb_days (
            catalog TEXT NOT NULL, day TEXT NOT NULL, ups INTEGER NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, day)) WITHOUT ROWID"""
    )
    rebuild_rating_aggregates(db.conn)


@migration
def m005_ratings_current_by_rater(db: sqlite_utils.Database) -> None:
    # undo() asks for a rater's newest rating in force: an index seek, not a sort of their ratings.
    db.execute("CREATE INDEX rc_rater_rating ON ratings_current(rater, rating_id)")


@migration
def m006_ratings_current_per_catalog_and_prompt(db: sqlite_utils.Database) -> None:
    # A rating belongs to the catalog, prompt, answer and rater it was given in. Keyed on (rater,
    # item) alone, a thumb on the same cached answer in another catalog superseded the first
    # catalog's thumb and moved it there (issue #12 §4). The rating in force is now kept per
    # (rater, catalog, prompt, item); the log itself is unchanged, so every thumb that an older
    # version filed under the other catalog only comes back where it was given.
    db.execute("DROP TABLE ratings_current")  # derived data; its indexes go with it
    db.execute(
        """
        CREATE TABLE ratings_current (
            -- The key first: SQLite 3.40's integrity_check misreads a WITHOUT ROWID table
            -- whose key columns are not declared first and in order.
            rater TEXT NOT NULL,
            catalog TEXT NOT NULL,            -- catalog_name, '' outside any catalog
            prompt_id TEXT NOT NULL,
            item TEXT NOT NULL,
            rating_id INTEGER NOT NULL,
            kind TEXT NOT NULL,               -- thumb | pair
            catalog_name TEXT,
            model_alias TEXT,
            other_model_alias TEXT,
            value TEXT NOT NULL,
            canon_value TEXT NOT NULL,        -- pair value with a = the smaller content hash
            content_hash TEXT,
            day TEXT NOT NULL,                -- YYYY-MM-DD of the rating
            PRIMARY KEY (rater, catalog, prompt_id, item)
        ) WITHOUT ROWID"""
    )
    db.execute(
        "CREATE INDEX rc_model ON ratings_current"
        "(catalog_name, kind, model_alias, other_model_alias, prompt_id, value)"
    )
    db.execute(
        "CREATE INDEX rc_item ON ratings_current(catalog_name, kind, item, rater, canon_value)"
    )
    db.execute(
        "CREATE INDEX rc_rater_prompt ON ratings_current"
        "(catalog_name, kind, rater, prompt_id, model_alias, value)"
    )
    db.execute("CREATE INDEX rc_day ON ratings_current(catalog_name, kind, day, value)")
    db.execute("CREATE INDEX rc_rating ON ratings_current(rating_id)")
    db.execute("CREATE INDEX rc_rater_rating ON ratings_current(rater, rating_id)")
    rebuild_current(db.conn)


@migration
def m007_one_battle_per_judgement(db: sqlite_utils.Database) -> None:
    # A pair vote supersedes the same rater's thumb battles on that prompt between the same two
    # models (issue 12 §5): recount the thumb battles under that rule.
    rebuild_rating_aggregates(db.conn)


@migration
def m008_graded_votes_and_best_of_n(db: sqlite_utils.Database) -> None:
    # Issue 16: a pair vote's strength (1: A>B, 2: A≫B; NULL on older rows, read as 1).
    db.execute("ALTER TABLE ratings ADD COLUMN strength INTEGER")
    # Issue 13: a best-of-N pick (kind 'best') is one judgement: the winner is the rated answer,
    # the answers it beat are listed here (JSON: response_id, content_hash, model_alias).
    db.execute("ALTER TABLE ratings ADD COLUMN others TEXT")
    # Strong pair votes in force (a subset of agg_pairs), so scores can weight them.
    db.execute(
        """CREATE TABLE agg_strong_pairs (
            catalog TEXT NOT NULL, model_a TEXT NOT NULL, model_b TEXT NOT NULL,
            value TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, model_a, model_b, value)) WITHOUT ROWID"""
    )
    # Best-of-N picks in force, one row per (winner, the losers it still counts against): the
    # losers are a JSON list (sorted, compact) without those a pair vote of the same rater on the
    # same prompt between the same two models supersedes. A pick is one judgement of N−1 battles;
    # scores resample it as one unit.
    db.execute(
        """CREATE TABLE agg_best_picks (
            catalog TEXT NOT NULL, winner TEXT NOT NULL, losers TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (catalog, winner, losers)) WITHOUT ROWID"""
    )
    rebuild_rating_aggregates(db.conn)


@migration
def m009_ratings_current_by_kind(db: sqlite_utils.Database) -> None:
    # The scores' agreement and style sections read one kind of rating of one catalog, grouped
    # by item (issue 14 §5–§7): a covering index in that order reads only those rows, already
    # grouped (1 M ratings: the A/B votes' rating ids went from a 5 s scan to a range read).
    db.execute(
        "CREATE INDEX rc_kind_item ON ratings_current"
        "(kind, catalog, prompt_id, item, canon_value, rating_id)"
    )


def rebuild_current(conn: sqlite3.Connection) -> None:
    """Recompute ``ratings_current`` and the totals from the whole log (after deletions), in the
    caller's transaction."""
    conn.execute("DELETE FROM ratings_current")
    conn.execute(
        f"INSERT INTO ratings_current {RATINGS_CURRENT_SELECT} WHERE r.id IN ({_IN_FORCE})"
    )
    rebuild_rating_aggregates(conn)


@migration
def m010_ratings_by_other_answer(db: sqlite_utils.Database) -> None:
    # An export reads the ratings in force on a batch of answers by content hash, on either
    # side of an A/B vote (issue 17): without this, every batch scanned all ratings.
    db.execute("CREATE INDEX ratings_other_content ON ratings(other_content_hash)")


@migration
def m011_answer_style(db: sqlite_utils.Database) -> None:
    # The Markdown style counts of each stored answer (core.markdown_style), one narrow row per
    # content hash, written with the answer from now on (store.style): style control reads them
    # for the two answers of each A/B vote instead of reading and re-scanning the texts (issue
    # 17: 6.5 s of the style section's 11 s on a million answers). The row is the first stored
    # answer's, as ``min(id)`` on the content hash picks it. Counted here once for the answers
    # stored before (≈ 15 s for a million, a few ms for a thousand).
    from genaicompare.store.style import record_styles, style_row

    conn = db.conn
    conn.execute(
        "CREATE TABLE answer_style (content_hash TEXT PRIMARY KEY, model_alias TEXT NOT NULL, "
        "length INTEGER NOT NULL, headers INTEGER NOT NULL, lists INTEGER NOT NULL, "
        "bold INTEGER NOT NULL) WITHOUT ROWID"
    )
    rows = conn.execute("SELECT content_hash, model_alias, text FROM responses ORDER BY id")
    while batch := rows.fetchmany(10_000):
        record_styles(conn, [style_row(h, alias, text) for h, alias, text in batch])


@migration
def m012_answer_columns(db: sqlite_utils.Database) -> None:
    # A columnar copy of the fields of every answer that scores read, in blocks of 8,192
    # answers (store.columns; issue 17: scores read a million answers through SQL in 14 s).
    # A block is exact or absent: these triggers delete the block holding an answer when the
    # answer is inserted into its range, changed or deleted, or its metrics change, in the
    # change's own transaction (INSERT OR REPLACE fires the insert trigger). No block is written
    # here: store.columns.extend writes them when answers are saved and before scores read.
    conn = db.conn
    conn.execute(
        "CREATE TABLE answer_columns (first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL, "
        "format INTEGER NOT NULL, rows INTEGER NOT NULL, data BLOB NOT NULL)"
    )

    def drop(answer_id: str) -> str:
        # The block with the largest first_id ≤ the id (a primary-key lookup), if it reaches it.
        return (
            "DELETE FROM answer_columns WHERE first_id = (SELECT max(first_id) FROM "
            f"answer_columns WHERE first_id <= {answer_id}) AND last_id >= {answer_id};"
        )

    for name, event, ids in (
        ("insert", "INSERT ON responses", ["NEW.id"]),
        ("update", "UPDATE ON responses", ["OLD.id", "NEW.id"]),
        ("delete", "DELETE ON responses", ["OLD.id"]),
        ("metric_insert", "INSERT ON metrics", ["NEW.response_id"]),
        ("metric_update", "UPDATE ON metrics", ["OLD.response_id", "NEW.response_id"]),
        ("metric_delete", "DELETE ON metrics", ["OLD.response_id"]),
    ):
        body = " ".join(drop(i) for i in ids)
        conn.execute(f"CREATE TRIGGER answer_columns_{name} AFTER {event} BEGIN {body} END")


@migration
def m013_agreement_item_classes(db: sqlite_utils.Database) -> None:
    # Agreement between people (scoring.agreement) needs, per catalog and kind of rating, how
    # many items have each vector of per-category counts ("2,0": two ups, no down): a few dozen
    # rows, kept in step with every rating by genaicompare.ratings.aggregates. Read from
    # ratings_current instead, a million ratings took 2.1 s to group (issue 17). Filled here
    # from the ratings in force.
    conn = db.conn
    conn.execute(
        "CREATE TABLE agg_item_classes (catalog TEXT NOT NULL, kind TEXT NOT NULL, "
        "counts TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (catalog, kind, counts)) "
        "WITHOUT ROWID"
    )
    fill_item_classes(conn)
