"""Scores from the store: SQL aggregates → numpy arrays → :class:`~genaicompare.scoring.results.Scores`.

:func:`compute_scores` aggregates in SQL: the running totals kept with every rating (``agg_*``
tables: per model × prompt, per answer, per model pair, per rater pair, per A/B pair, per day — see
genaicompare.ratings), and ``group_concat`` to move value lists, so a million ratings become a few
thousand rows before numpy sees them. The answers' own fields and metrics come from their
columnar copy (:mod:`genaicompare.store.columns`). The formulas it applies are in
:mod:`~genaicompare.scoring.stats` and :mod:`~genaicompare.scoring.bradley_terry`.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from genaicompare.scoring.bradley_terry import BattleCounts, bradley_terry, votes_to_separate
from genaicompare.scoring.concat import case_codes, numbers
from genaicompare.scoring.results import ModelScore, Scores, ScoresTable, table_rows
from genaicompare.scoring.rubric import rubric_section
from genaicompare.scoring.stats import (
    FloatArray,
    auc_interval,
    group_bounds,
    group_order,
    grouped_quantiles,
    kappa_interval,
    mean_interval,
    newcombe_difference,
    wilson_interval,
)

if TYPE_CHECKING:
    from genaicompare.store import Store
    from genaicompare.store.columns import HashIndex

STRONG_WEIGHT = 3.0
"""A strong vote (A≫B) weighs as three battles in the Bradley–Terry fit, as Arena-Hard-Auto
counts its judge's ``A>>B`` (it repeats the battle three times); unlike there, the bootstrap
resamples the vote as one judgement, so the intervals do not shrink as if it were three."""

Codes = NDArray[np.int32] | NDArray[np.int64]
"""Integer codes or keys: the answers' arrays hold 32-bit codes (half the memory), keys derived
from them may be either."""

SAFETY_METRIC = re.compile(r"(toxic|pii|unsafe|safety|jailbreak|refus)", re.I)
"""Metric names counted as safety flags in trends (a flag is a value ≥ 0.5)."""


def _per_key(table: str, key: str, catalog: str | None) -> str:
    """A running-totals table's ``key``, ``ups`` and ``n`` per ``key`` with n > 0, in key
    order: for one catalog (``?``) its rows as they are — ``(catalog, key)`` is the primary
    key — and for all catalogs their sums. The GROUP BY on one catalog's rows cost a sort:
    1 M cells 0.97 → 0.41 s."""
    if catalog is not None:
        return f"SELECT {key}, ups, n FROM {table} WHERE catalog = ? AND n > 0"
    return (
        f"SELECT {key}, sum(ups) AS ups, sum(n) AS n FROM {table} GROUP BY {key} HAVING sum(n) > 0"
    )


def _sorted_codes(codes: dict[str, int]) -> tuple[list[str], NDArray[np.int32]]:
    """The names of ``codes`` (name → code) sorted, and each old code's rank among them."""
    names = sorted(codes)
    rank = np.empty(len(codes), dtype=np.int32)
    rank[[codes[n] for n in names]] = np.arange(len(names))
    return names, rank


def _opt(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) else x


def compute_scores(
    store: Store,
    catalog_name: str | None,
    by: str | None = None,
    rounds: int = 1000,
    seed: int = 0,
    segment_prefix: str = "segment:",
    parallel: bool = True,
    method: str = "map",
    min_battles: int = 10,
    notice: Callable[[int], None] | None = None,
) -> Scores:
    """Every score for one catalog's ratings and responses (all catalogs when ``None``).

    ``by``: ``tag`` or ``task`` adds per-group rows. Reads through its own connections, each in a
    read transaction, while others keep writing. With ``parallel`` the answers and the ratings are
    read on two connections at once; a rating committed between their first reads can then show
    in one part and not yet in the other (ids are matched, never misaligned). ``rounds``,
    ``seed``, ``method`` and ``min_battles`` go to :func:`~.bradley_terry.bradley_terry`.

    First it writes the columnar blocks that are due (:func:`genaicompare.store.columns.extend`,
    when no other writer holds the database): ``notice(answers)`` hears of it first when there
    are many (the first run on a database of a million answers writes them all, ≈ 33 s, once).
    """
    if by not in (None, "tag", "task"):
        raise ValueError("by must be 'tag' or 'task'")
    from genaicompare.store import columns

    with closing(sqlite3.connect(str(store.path), timeout=10.0, isolation_level=None)) as conn:
        columns.extend(conn, notice=notice)
    conns = [
        sqlite3.connect(
            str(store.path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        for _ in range(2 if parallel else 1)
    ]
    try:
        for conn in conns:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("BEGIN")
        scorer = _Scorer(conns[0], catalog_name, by, rounds, seed, segment_prefix)
        scorer.method, scorer.min_battles = method, min_battles
        return scorer.run(side=conns[1] if parallel else None)
    finally:
        for conn in conns:
            conn.close()


def scores_table(
    store: Store, catalog_name: str, notice: Callable[[int], None] | None = None
) -> ScoresTable:
    """The TUI's scores screen for one catalog: :func:`compute_scores` → :func:`table_rows`."""
    return table_rows(compute_scores(store, catalog_name, notice=notice), catalog_name)


class _Column:
    """A column of the answers' arrays, built block by block into a buffer that doubles when
    full. A list of parts joined at the end left ≈ 150 MB of freed memory the process kept for
    a million answers: the parts (64 KB each) sat in the heap below the joined arrays. Here
    there is one large buffer per column at any time, and the pages of a buffer past its end
    are never written, so never resident."""

    def __init__(self, dtype: Any, capacity: int = 1 << 16) -> None:
        self._buf: NDArray[Any] = np.empty(capacity, dtype)
        self._n = 0

    def append(self, chunk: NDArray[Any]) -> None:
        end = self._n + chunk.size
        if end > self._buf.size:
            grown = np.empty(max(end, 2 * self._buf.size), self._buf.dtype)
            grown[: self._n] = self._buf[: self._n]
            self._buf = grown
        self._buf[self._n : end] = chunk
        self._n = end

    def array(self) -> NDArray[Any]:
        return self._buf[: self._n]


@dataclass
class _Arrays:
    """The catalog's responses and metrics as parallel arrays (index = position in ``rid``)."""

    size: int
    """The number of answers (the length of every per-answer array)."""
    model: NDArray[np.int32]
    prompt: NDArray[np.int32]
    """Code into the prompt table (−1: the prompt is not in the catalog)."""
    run: NDArray[np.int64]
    day: NDArray[np.int32]
    days: list[str]
    cached: NDArray[np.bool_]
    ok: NDArray[np.bool_]
    """Completed (``complete`` or ``length``)."""
    failed: NDArray[np.bool_]
    """Ended in ``error`` or ``timeout`` — an error; a cancellation is the user's own, not one."""
    cancelled: NDArray[np.bool_]
    latency: FloatArray
    ttft: FloatArray
    cost: FloatArray
    length: FloatArray
    model_names: list[str]
    """The model alias of each code in ``model``, and the prompt id of each code in ``prompt``,
    as first read: :meth:`_Scorer._recode` turns both into the scores' codes."""
    prompt_ids: list[str]
    item: NDArray[np.int32]
    """The rated output whose content hash the answer carries: its index among
    :meth:`_Scorer._answer_thumbs`' outputs (−1: none). 4 bytes an answer where the hash took 16."""
    m_resp: NDArray[np.int32]
    """Metric rows: index into the response arrays, metric name code, value."""
    m_name: NDArray[np.int32]
    m_value: FloatArray


class _Scorer:
    def __init__(
        self,
        conn: sqlite3.Connection,
        catalog: str | None,
        by: str | None,
        rounds: int,
        seed: int,
        segment_prefix: str,
    ) -> None:
        self.conn, self.catalog, self.by = conn, catalog, by
        self.rounds, self.seed, self.prefix = rounds, seed, segment_prefix
        self.method, self.min_battles = "map", 10
        self.metric_names: list[str] = []
        """Every metric name with a numeric value among the answers read, sorted."""
        self.timings: dict[str, float] = {}
        self._t, self._cpu = time.perf_counter(), time.process_time()
        if catalog is None:
            self.agg_where, self.agg_params = "1", []
        else:
            self.agg_where, self.agg_params = "catalog = ?", [catalog]

    def _lap(self, name: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.timings[name] = now - self._t
        self.timings[f"cpu:{name}"] = cpu - self._cpu
        self._t, self._cpu = now, cpu

    def q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, list(params)).fetchall()

    # -- the pipeline ---------------------------------------------------------------------------
    def run(self, side: sqlite3.Connection | None = None) -> Scores:
        started = time.thread_time()
        if side is None:
            self._prompt_meta()
            self._codes()
            answer_thumbs = self._answer_thumbs()
            a = self._arrays(answer_thumbs[0])
            t_model, t_prompt, t_up, t_n = self._thumb_cells()
        else:
            # The rated outputs, then the answers' arrays come from a second connection on a
            # thread while this one reads the prompts and the ratings' totals: sqlite3 releases
            # the GIL while a query runs, so two cores work at once. The arrays code models and
            # prompts as they first see them; _recode maps them once both sides are read.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=1) as pool:
                future = pool.submit(self._side_arrays, side)
                self._prompt_meta()
                self._codes()
                t_model, t_prompt, t_up, t_n = self._thumb_cells()
                a, answer_thumbs = future.result()
        t_model = self._recode(a, t_model)
        models = self._model_rows(
            a,
            t_model,
            t_prompt,
            t_up,
            t_n,
            key_resp=a.model,
            key_thumb=t_model,
            n_keys=len(self.models),
        )
        rows = [s for s in models if s.responses or s.rated]
        self._lap("model_rows")
        pair_counts, thumb_counts = self._battles()
        strong, picks = self._graded_battles()
        bt_groups = [*strong, *picks]
        # Plain battles (strong votes and picks go in as groups: weighted, resampled whole).
        plain = pair_counts + thumb_counts
        for n, battles, _w in strong:
            plain = plain + BattleCounts(
                plain.models, -n * battles.wins, -n * battles.ties, -n * battles.both_bad
            )
        counts = pair_counts + thumb_counts
        best_counts = BattleCounts.empty(self.models)
        for n, battles, _w in picks:
            best_counts = best_counts + BattleCounts(
                battles.models, n * battles.wins, n * battles.ties, n * battles.both_bad
            )
        counts = counts + best_counts
        bt = bradley_terry(
            plain,
            rounds=self.rounds,
            seed=self.seed,
            method=self.method,
            min_battles=self.min_battles,
            groups=bt_groups,
        )
        votes = pair_counts.per_model()
        for s in rows:
            s.votes = int(votes[self.models.index(s.model)])
        self._lap("bradley_terry")
        kappa = self._kappa()
        self._lap("kappa")
        agreement, per_run = self._agreement_and_runs(a, answer_thumbs)
        self._lap("agreement_runs")
        fairness = self._fairness(a, t_model, t_prompt, t_up, t_n)
        trends = {"per_day": self._per_day(a), "per_run": per_run}
        self._lap("fairness_trends")
        groups = self._groups(a, t_model, t_prompt, t_up, t_n) if self.by else []
        self._lap("groups")
        # CPU of this thread alone: with the side thread on another core, the wall time an
        # unloaded machine needs is about this (the side thread's is in thread_cpu:side).
        self.timings["thread_cpu:main"] = time.thread_time() - started
        return Scores(
            catalog=self.catalog,
            by=self.by,
            models=rows,
            groups=groups,
            pairwise={
                "models": counts.models,
                "wins": counts.wins.astype(int).tolist(),
                "ties": counts.ties.astype(int).tolist(),
                "both_bad": counts.both_bad.astype(int).tolist(),
            },
            bt=bt,
            battle_sources={
                "preferences": pair_counts.n_battles,
                "strong_preferences": int(sum(n for n, _b, _w in strong)),
                "strong_weight": STRONG_WEIGHT,
                "best_of_n": best_counts.n_battles,
                "best_of_n_picks": int(sum(n for n, _b, _w in picks)),
                "thumbs": thumb_counts.n_battles,
            },
            kappa=kappa,
            metric_agreement=agreement,
            separation=votes_to_separate(bt) if bt else None,
            fairness=fairness,
            trends=trends,
            timings=self.timings,
            rubric=rubric_section(self.conn, self.catalog, self.rounds, self.seed),
        )

    def _side_arrays(self, conn: sqlite3.Connection) -> tuple[_Arrays, tuple[Any, ...]]:
        """The rated outputs and the answers' arrays, read on the side connection."""
        started = time.thread_time()
        other = _Scorer(conn, self.catalog, self.by, self.rounds, self.seed, self.prefix)
        answer_thumbs = other._answer_thumbs()
        arrays = other._arrays(answer_thumbs[0])
        self.metric_names = other.metric_names
        for name, seconds in other.timings.items():
            self.timings[f"parallel:{name}"] = seconds
        self.timings["thread_cpu:side"] = time.thread_time() - started
        return arrays, answer_thumbs

    # -- gathering ------------------------------------------------------------------------------
    def _prompt_meta(self) -> None:
        # The newest catalog version wins for a prompt id (SQLite takes the bare columns of a
        # max() aggregate from the row that has the max). The segment is the prompt's own
        # label, or the rest of its first tag that starts with the segment prefix. JSON arrays
        # carry NULLs and any text, and parse in C: 125,000 prompts 1.05 → 0.5 s (a temporary
        # table with an index on the prompt id, read back as rows, took the rest).
        tags_column = "p.tags" if self.by == "tag" else "NULL"
        where = (
            ""
            if self.catalog is None
            else ("WHERE p.catalog_id IN (SELECT id FROM catalogs WHERE name = ?)")
        )
        row = self.q(
            "SELECT json_group_array(prompt_id), json_group_array(position), "
            "json_group_array(segment), json_group_array(task), json_group_array(tags) FROM ("
            "SELECT p.prompt_id, max(p.catalog_id), p.position, coalesce(p.segment, "
            "(SELECT substr(j.value, ?) FROM json_each(p.tags) j WHERE substr(j.value, 1, ?) = ? "
            f"LIMIT 1)) AS segment, p.task, {tags_column} AS tags FROM prompts p {where} "
            "GROUP BY p.prompt_id)",
            [
                len(self.prefix) + 1,
                len(self.prefix),
                self.prefix,
                *([] if self.catalog is None else [self.catalog]),
            ],
        )[0]
        pids, positions, segments, tasks, tag_lists = (json.loads(v) for v in row)
        # Codes in catalog order (position; the prompt id breaks ties between versions).
        order = np.argsort(np.array(positions, dtype=np.int64), kind="stable").tolist()
        self.n_prompts = len(order)
        self.prompt_code = {pids[i]: code for code, i in enumerate(order)}
        self.p_segment: list[str | None] = [segments[i] for i in order]
        self.p_task: list[str | None] = [tasks[i] for i in order]
        self.p_tags: list[list[str]] = [[] for _ in range(self.n_prompts)]
        for code, i in enumerate(order):
            tags = tag_lists[i]
            if not tags:
                continue
            try:
                parsed = json.loads(tags)
            except ValueError:
                parsed = []
            self.p_tags[code] = [str(t) for t in parsed] if isinstance(parsed, list) else []
        self._lap("prompt_meta")

    def _codes(self) -> None:
        thumbs = self.q(
            "SELECT model_alias, sum(n) FROM agg_thumb_cells "
            f"WHERE {self.agg_where} GROUP BY model_alias",
            self.agg_params,
        )
        pairs = self.q(
            "SELECT model_a, model_b FROM agg_pairs "
            f"WHERE {self.agg_where} GROUP BY model_a, model_b HAVING sum(n) > 0",
            self.agg_params,
        )
        # The rated models; the answers' own join them in _recode (a DISTINCT over a million
        # answers took 0.24 s here, before the arrays could start).
        names = {m for m, _n in thumbs} | {m for p in pairs for m in p}
        self.models = sorted(n for n in names if n is not None)
        self.thumb_n = {m: n for m, n in thumbs}
        self._lap("codes")

    def _arrays(self, rated: HashIndex) -> _Arrays:
        """The catalog's answers and their numeric metrics, from the columnar blocks of
        :mod:`genaicompare.store.columns` (the answers no block covers through SQL); each
        answer's rated output among ``rated``, found by its content hash."""
        from genaicompare.store import columns

        # Models and prompts coded as first read (_recode maps them to the scores' codes).
        model_code: dict[str, int] = {}
        prompt_code: dict[str, int] = {}
        metric_code: dict[str, int] = {}  # in the order first read; sorted below
        catalog_ids: NDArray[np.int64] | None = None
        if self.catalog is not None:
            catalog_ids = np.array(
                [i for (i,) in self.q("SELECT id FROM catalogs WHERE name = ?", [self.catalog])],
                dtype=np.int64,
            )
        day_code: dict[str, int] = {}
        dtypes = {
            "model": np.int32,
            "prompt": np.int32,
            "run_id": np.int64,
            "day": np.int32,
            "cached": np.bool_,
            "state": np.int8,
            "latency": np.float64,
            "ttft": np.float64,
            "cost": np.float64,
            "length": np.float64,
            "item": np.int32,
            "m_row": np.int32,
            "m_name": np.int32,
            "m_value": np.float64,
        }
        col = {f: _Column(dtype) for f, dtype in dtypes.items()}
        rows = 0
        for block in columns.read_all(self.conn):
            b = block.arrays
            keep = (
                np.ones(block.rows, bool)
                if catalog_ids is None
                else np.isin(b["catalog_id"], catalog_ids)
            )
            n = int(np.count_nonzero(keep))
            if not n:
                continue
            for f in ("run_id", "cached", "state", "latency", "ttft", "cost", "length"):
                col[f].append(b[f][keep])
            # Only the kept answers' models are coded: the catalog's models are those answering.
            kept_models = b["model"][keep]
            models = np.full(len(block.models), -1, np.int32)
            for i in np.unique(kept_models).tolist():
                models[i] = model_code.setdefault(block.models[i], len(model_code))
            col["model"].append(models[kept_models])
            prompts = np.array(
                [prompt_code.setdefault(p, len(prompt_code)) for p in block.prompts], np.int32
            )
            col["prompt"].append(prompts[b["prompt"][keep]])
            days = np.array([day_code.setdefault(d, len(day_code)) for d in block.days], np.int32)
            col["day"].append(days[b["day"][keep]])
            col["item"].append(rated.find(b["hash"][keep]))
            # Metrics of the kept answers, their rows renumbered into the catalog's arrays.
            names = np.array(
                [metric_code.setdefault(m, len(metric_code)) for m in block.metrics], np.int32
            )
            m_keep = keep[b["m_row"]]
            renumber = np.cumsum(keep) - 1 + rows
            col["m_row"].append(renumber[b["m_row"][m_keep]])
            col["m_name"].append(names[b["m_name"][m_keep]])
            col["m_value"].append(b["m_value"][m_keep])
            rows += n

        # Days in calendar order, metric names in alphabetical (codes were given as first read).
        day_names, day_rank = _sorted_codes(day_code)
        self.metric_names, name_rank = _sorted_codes(metric_code)
        state = col.pop("state").array()
        arr = _Arrays(
            size=rows,
            model=col["model"].array(),
            prompt=col["prompt"].array(),
            run=col["run_id"].array(),
            day=day_rank[col.pop("day").array()],
            days=day_names,
            cached=col["cached"].array(),
            ok=state == 0,
            failed=state == 1,
            cancelled=state == 2,
            latency=col["latency"].array(),
            ttft=col["ttft"].array(),
            cost=col["cost"].array(),
            length=col["length"].array(),
            item=col["item"].array(),
            model_names=list(model_code),
            prompt_ids=list(prompt_code),
            m_resp=col["m_row"].array(),
            m_name=name_rank[col.pop("m_name").array()],
            m_value=col["m_value"].array(),
        )
        del state
        self._lap("responses")
        return arr

    def _recode(self, a: _Arrays, t_model: NDArray[np.int64]) -> NDArray[np.int64]:
        """The models: the rated ones and those with answers, sorted. Recodes the arrays' models
        and prompts (codes as first read) and the thumb cells' models (codes among the rated
        models) in place of theirs; returns the thumb cells' model codes."""
        models = sorted(set(self.models) | set(a.model_names))
        rank = {m: i for i, m in enumerate(models)}
        if a.size:
            a.model = np.array([rank[m] for m in a.model_names], np.int32)[a.model]
            prompt = [self.prompt_code.get(p, -1) for p in a.prompt_ids]
            a.prompt = np.array(prompt, np.int32)[a.prompt]
        # −1 (a model that was not among the rated ones when the cells were read) stays −1.
        t_map = np.array([*(rank[m] for m in self.models), -1], np.int64)
        self.models = models
        a.model_names, a.prompt_ids = models, []
        return t_map[t_model]

    def _thumb_cells(self) -> tuple[NDArray[np.int64], ...]:
        """Thumbs in force per (model, prompt): model code, prompt code (−1: the prompt is not
        in the catalog), ups, n."""
        models, prompts, ups, n = self.q(
            "SELECT group_concat(" + case_codes("model_alias", len(self.models)) + "), "
            "json_group_array(prompt_id), group_concat(ups), group_concat(n) FROM ("
            + _per_key("agg_thumb_cells", "model_alias, prompt_id", self.catalog)
            + ")",
            [*self.models, *self.agg_params],
        )[0]
        code = self.prompt_code.get
        pids = json.loads(prompts)
        prompt = np.array([code(p, -1) for p in pids], np.int64)
        self._lap("thumbs")
        return numbers(models, np.int64), prompt, numbers(ups, np.int64), numbers(n, np.int64)

    # -- rows -----------------------------------------------------------------------------------
    def _model_rows(
        self,
        a: _Arrays,
        t_model: NDArray[np.int64],
        t_prompt: NDArray[np.int64],
        t_up: NDArray[np.int64],
        t_n: NDArray[np.int64],
        key_resp: Codes,
        key_thumb: NDArray[np.int64],
        n_keys: int,
        resp_index: NDArray[np.int64] | None = None,
        label: list[tuple[str, str | None]] | None = None,
    ) -> list[ModelScore]:
        """One :class:`ModelScore` per key. ``key_resp`` is aligned with ``resp_index`` (rows of
        the response arrays; all of them by default), ``key_thumb`` with the thumb cells."""
        idx = np.arange(a.size) if resp_index is None else resp_index
        ups = np.bincount(key_thumb, t_up, n_keys) if t_up.size else np.zeros(n_keys)
        ns = np.bincount(key_thumb, t_n, n_keys) if t_n.size else np.zeros(n_keys)
        lo, hi = wilson_interval(ups, ns)
        live = ~a.cached[idx]  # a cached replay's latency and cost are not the model's
        k_live = key_resp[live]
        i_live = idx[live]
        n_resp = np.bincount(k_live, minlength=n_keys)
        errors = np.bincount(k_live, a.failed[i_live], n_keys)
        cancelled = np.bincount(k_live, a.cancelled[i_live], n_keys)
        lat = grouped_quantiles(a.latency[i_live], k_live, n_keys, (0.5, 0.95))
        ttft = grouped_quantiles(a.ttft[i_live], k_live, n_keys, (0.5, 0.95))
        cost = a.cost[i_live]
        known = ~np.isnan(cost)
        cost_sum = np.bincount(k_live[known], cost[known], n_keys)
        cost_n = np.bincount(k_live[known], minlength=n_keys)
        cost_ci = _grouped_mean_intervals(k_live[known], cost[known], n_keys)
        # Metrics: rows whose response is among ``idx`` (live, completed), keyed like it.
        per_resp_key: Codes = (
            np.full(a.size, -1, np.int32) if n_keys < 2**31 else np.full(a.size, -1, np.int64)
        )
        ok_live = live & a.ok[idx]
        per_resp_key[idx[ok_live]] = key_resp[ok_live]
        mk: Codes
        mn: Codes
        if resp_index is not None and np.unique(resp_index).size != resp_index.size:
            mk, mv, mn = self._exploded_metrics(a, idx, key_resp, ok_live)
        else:
            # −1 (not among idx, not live and completed) leaves a row out.
            mk = per_resp_key[a.m_resp] if a.m_resp.size else np.empty(0, np.int32)
            mv, mn = a.m_value, a.m_name
        stats = _metric_stats(mk, mn, mv)
        out = []
        for k in range(n_keys):
            model, group = label[k] if label else (self.models[k], None)
            s = ModelScore(model=model, group=group)
            s.up, s.rated = int(ups[k]), int(ns[k])
            if s.rated:
                s.up_rate = s.up / s.rated
                s.up_lower, s.up_upper = float(lo[k]), float(hi[k])
            s.responses, s.errors = int(n_resp[k]), int(errors[k])
            s.cancelled = int(cancelled[k])
            s.latency_p50, s.latency_p95 = _opt(lat[k, 0]), _opt(lat[k, 1])
            s.ttft_p50, s.ttft_p95 = _opt(ttft[k, 0]), _opt(ttft[k, 1])
            s.cost_unknown = int(n_resp[k] - cost_n[k])
            if cost_n[k]:
                s.cost_total = float(cost_sum[k])
                s.cost_per_answer = float(cost_sum[k] / cost_n[k])
                s.cost_per_answer_lower = _opt(cost_ci[k, 0])
                s.cost_per_answer_upper = _opt(cost_ci[k, 1])
            s.metrics = {self.metric_names[n]: v for (kk, n), v in stats.items() if kk == k}
            out.append(s)
        return out

    def _exploded_metrics(
        self,
        a: _Arrays,
        idx: NDArray[np.int64],
        key: Codes,
        ok_live: NDArray[np.bool_],
    ) -> tuple[NDArray[np.int64], FloatArray, NDArray[np.int64]]:
        """Metric rows repeated once per (response, key) pair when a response has several keys
        (a prompt with several tags)."""
        order = np.argsort(a.m_resp, kind="stable")
        m_resp, m_val, m_name = a.m_resp[order], a.m_value[order], a.m_name[order]
        sel_idx, sel_key = idx[ok_live], key[ok_live]
        starts = np.searchsorted(m_resp, sel_idx, "left")
        ends = np.searchsorted(m_resp, sel_idx, "right")
        counts = ends - starts
        rows = np.repeat(starts, counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        return np.repeat(sel_key, counts), m_val[rows], m_name[rows]

    def _groups(
        self,
        a: _Arrays,
        t_model: NDArray[np.int64],
        t_prompt: NDArray[np.int64],
        t_up: NDArray[np.int64],
        t_n: NDArray[np.int64],
    ) -> list[ModelScore]:
        # prompt code → group codes (a prompt has one task, any number of tags).
        groups: list[str] = []
        gindex: dict[str, int] = {}
        pairs_p: list[int] = []
        pairs_g: list[int] = []
        for p in range(self.n_prompts):
            task = self.p_task[p]
            labels = self.p_tags[p] if self.by == "tag" else ([task] if task else [])
            for lab in labels:
                if lab not in gindex:
                    gindex[lab] = len(groups)
                    groups.append(lab)
                pairs_p.append(p)
                pairs_g.append(gindex[lab])
        if not groups:
            return []
        pp, pg = np.array(pairs_p, np.int64), np.array(pairs_g, np.int64)
        n_models, n_groups = len(self.models), len(groups)

        def explode(prompt: Codes) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
            starts = np.searchsorted(pp, prompt, "left")
            ends = np.searchsorted(pp, prompt, "right")
            counts = np.where(prompt >= 0, ends - starts, 0)
            rows = np.repeat(np.arange(prompt.size), counts)
            pos = np.repeat(starts, counts) + (
                np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            )
            return rows, pg[pos]

        r_rows, r_group = explode(a.prompt)
        t_rows, t_group = explode(t_prompt)
        key_resp = a.model[r_rows] * n_groups + r_group
        key_thumb = t_model[t_rows] * n_groups + t_group
        label: list[tuple[str, str | None]] = [(m, g) for m in self.models for g in groups]
        rows = self._model_rows(
            a,
            t_model[t_rows],
            t_prompt[t_rows],
            t_up[t_rows],
            t_n[t_rows],
            key_resp=key_resp,
            key_thumb=key_thumb,
            n_keys=n_models * n_groups,
            resp_index=r_rows,
            label=label,
        )
        rows = [s for s in rows if s.responses or s.rated]
        rows.sort(key=lambda s: (s.group or "", s.model))
        return rows

    # -- battles --------------------------------------------------------------------------------
    def _battles(self) -> tuple[BattleCounts, BattleCounts]:
        names = self.models
        index = {m: i for i, m in enumerate(names)}
        pairs = BattleCounts.empty(names)
        # One row per ordered model pair, in index order (no sort of the votes).
        for a, b, wa, wb, tie, bad in self.q(
            "SELECT model_a, model_b, sum(n * (value = 'a')), sum(n * (value = 'b')), "
            "sum(n * (value = 'tie')), sum(n * (value = 'both_bad')) FROM agg_pairs "
            f"WHERE {self.agg_where} GROUP BY model_a, model_b",
            self.agg_params,
        ):
            if a not in index or b not in index or a == b:
                continue
            pairs.add(index[a], index[b], wa, wb, tie, bad)
        self._lap("pairs")
        # Same-prompt thumbs by one rater, as battles: kept as running totals per model pair.
        thumbs = BattleCounts.empty(names)
        for a, b, a_wins, b_wins, ties, bad in self.q(
            "SELECT model_a, model_b, sum(a_wins), sum(b_wins), sum(ties), sum(both_bad) "
            f"FROM agg_thumb_battles WHERE {self.agg_where} GROUP BY model_a, model_b",
            self.agg_params,
        ):
            if a not in index or b not in index:
                continue
            thumbs.add(index[a], index[b], a_wins, b_wins, ties, bad)
        self._lap("thumb_battles")
        return pairs, thumbs

    def _graded_battles(
        self,
    ) -> tuple[list[tuple[float, BattleCounts, float]], list[tuple[float, BattleCounts, float]]]:
        """Strong pair votes (A≫B: one battle weighing :data:`STRONG_WEIGHT`) and best-of-N
        picks (N−1 battles of weight 1), as :func:`~.bradley_terry.bradley_terry` groups: each
        judgement is resampled whole."""
        index = {m: i for i, m in enumerate(self.models)}
        strong: list[tuple[float, BattleCounts, float]] = []
        for a, b, value, n in self.q(
            "SELECT model_a, model_b, value, sum(n) FROM agg_strong_pairs "
            f"WHERE {self.agg_where} GROUP BY model_a, model_b, value HAVING sum(n) > 0",
            self.agg_params,
        ):
            if a not in index or b not in index or a == b or value not in ("a", "b"):
                continue
            one = BattleCounts.empty(self.models)
            one.add(index[a], index[b], value == "a", value == "b", 0, 0)
            strong.append((float(n), one, STRONG_WEIGHT))
        picks: list[tuple[float, BattleCounts, float]] = []
        for winner, losers, n in self.q(
            "SELECT winner, losers, sum(n) FROM agg_best_picks "
            f"WHERE {self.agg_where} GROUP BY winner, losers HAVING sum(n) > 0",
            self.agg_params,
        ):
            beaten = [m for m in json.loads(losers) if m in index and m != winner]
            if winner not in index or not beaten:
                continue
            one = BattleCounts.empty(self.models)
            for m in beaten:
                one.add(index[winner], index[m], 1, 0, 0, 0)
            picks.append((float(n), one, 1.0))
        self._lap("graded_battles")
        return strong, picks

    # -- agreement ------------------------------------------------------------------------------
    def _kappa(self) -> list[dict[str, Any]]:
        """Cohen's κ per pair of raters over the items both rated (thumbs and A/B in one table:
        the two kinds never share an item, so the table is block-diagonal)."""
        cats = ["up", "down", "a", "b", "tie", "both_bad"]
        index = {c: i for i, c in enumerate(cats)}
        tables: dict[tuple[str, str], NDArray[np.float64]] = {}
        for ra, rb, ca, cb, n in self.q(
            "SELECT rater_a, rater_b, cat_a, cat_b, sum(n) FROM agg_rater_pairs "
            f"WHERE {self.agg_where} GROUP BY rater_a, rater_b, cat_a, cat_b",
            self.agg_params,
        ):
            if n and ca in index and cb in index:
                t = tables.setdefault((ra, rb), np.zeros((6, 6)))
                t[index[ca], index[cb]] += n
        out = []
        for (ra, rb), t in sorted(tables.items()):
            n = int(t.sum())
            agree = float(np.trace(t))
            (a_lo,), (a_hi,) = wilson_interval([agree], [n])
            entry: dict[str, Any] = {
                "rater_a": ra,
                "rater_b": rb,
                "shared": n,
                "agreement": agree / n,
                "agreement_lower": _opt(a_lo),
                "agreement_upper": _opt(a_hi),
                "enough": n >= MIN_AGREEMENT_N,
            }
            for key, sub in (
                ("kappa", t),
                ("kappa_thumbs", t[:2, :2]),
                ("kappa_preferences", t[2:, 2:]),
            ):
                if not sub.sum():
                    entry[key] = entry[f"{key}_lower"] = entry[f"{key}_upper"] = None
                    entry[f"{key}_n"] = 0
                    continue
                k, lo, hi = kappa_interval(sub)
                entry[key], entry[f"{key}_lower"], entry[f"{key}_upper"] = k, _opt(lo), _opt(hi)
                entry[f"{key}_n"] = int(sub.sum())
            out.append(entry)
        return out

    def _answer_thumbs(self) -> tuple[Any, ...]:
        """Thumbs in force per rated output: the outputs' content hashes (a
        :class:`~genaicompare.store.columns.HashIndex`), ups, n."""
        from genaicompare.store.columns import HashIndex, concat_hashes, hashes

        per_item = _per_key("agg_thumb_items", "content_hash", self.catalog)
        concat, ups, n, count = self.q(
            "SELECT group_concat(content_hash), group_concat(ups), group_concat(n), count(*) "
            f"FROM ({per_item})",
            self.agg_params,
        )[0]
        coded = concat_hashes(concat, int(count))
        del concat
        if coded is None:  # a hash not written by this program: one string each
            (listed,) = self.q(
                f"SELECT json_group_array(content_hash) FROM ({per_item})", self.agg_params
            )[0]
            coded = hashes(json.loads(listed))
        self._lap("answer_thumbs")
        return HashIndex(coded), numbers(ups), numbers(n)

    def _agreement_and_runs(
        self, a: _Arrays, answer_thumbs: tuple[NDArray[Any], ...]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Each metric against the human majority thumb per answer; per-run trends (a rating
        counts in every run whose answers carry its content hash)."""
        _rated, item_ups, item_n = answer_thumbs
        # Every answer carrying a rated output's hash: its row (pos) and the output (k).
        pos = np.flatnonzero(a.item >= 0)
        k = a.item[pos]
        ups, n = item_ups[k], item_n[k]
        # Metric agreement: one response per rated output (the first stored: rows are in id
        # order, and unique's index is each output's first), majority thumb.
        _u, one = np.unique(k, return_index=True)
        resp_label = np.full(a.size, -1, dtype=np.int8)  # 1 up, 0 down, −1 no majority
        decided = ups[one] * 2 != n[one]
        resp_label[pos[one][decided]] = ups[one][decided] * 2 > n[one][decided]
        agreement = []
        if a.m_resp.size:
            lab = resp_label[a.m_resp]
            for code, name in enumerate(self.metric_names):
                sel = a.m_name == code
                pos_v = a.m_value[sel & (lab == 1)]
                neg_v = a.m_value[sel & (lab == 0)]
                if pos_v.size + neg_v.size == 0:
                    continue
                agreement.append(_agreement(name, pos_v, neg_v))
        # Per run.
        runs = np.unique(a.run[a.run >= 0])
        run_of = a.run[pos]
        flagged = self._flagged(a)
        per_run = []
        for run in runs.tolist():
            sel = a.run == run
            live = sel & ~a.cached
            u = float(ups[run_of == run].sum())
            kk = float(n[run_of == run].sum())
            (lo,), (hi,) = wilson_interval([u], [kk])
            entry = {"run_id": int(run), "responses": int(sel.sum())}
            entry.update(_mean_fields("mean_length", a.length[sel]))
            entry.update(_mean_fields("mean_latency_ms", a.latency[live]))
            per_run.append(
                {
                    **entry,
                    "rated": int(kk),
                    "up_rate": (u / kk) if kk else None,
                    "up_lower": _opt(lo),
                    "up_upper": _opt(hi),
                    "safety_flags": int(flagged[sel].sum()),
                }
            )
        return agreement, per_run

    def _flagged(self, a: _Arrays) -> NDArray[np.bool_]:
        codes = [i for i, n in enumerate(self.metric_names) if SAFETY_METRIC.search(n)]
        flagged = np.zeros(a.size, dtype=bool)
        if codes and a.m_resp.size:
            hit = np.isin(a.m_name, codes) & (a.m_value >= 0.5)
            flagged[a.m_resp[hit]] = True
        return flagged

    def _per_day(self, a: _Arrays) -> list[dict[str, Any]]:
        days: dict[str, dict[str, Any]] = {}
        for day, u, n in self.q(
            "SELECT day, sum(ups), sum(n) FROM agg_thumb_days "
            f"WHERE {self.agg_where} GROUP BY day HAVING sum(n) > 0",
            self.agg_params,
        ):
            (lo,), (hi,) = wilson_interval([u], [n])
            days[day] = {
                "day": day,
                "rated": n,
                "up_rate": u / n,
                "up_lower": _opt(lo),
                "up_upper": _opt(hi),
            }
        flagged = self._flagged(a)
        live = ~a.cached
        nd = len(a.days)
        count = np.bincount(a.day[live], minlength=nd)
        order = np.argsort(a.day[live], kind="stable")
        bounds = np.searchsorted(a.day[live][order], np.arange(nd + 1))
        day_length, day_latency = a.length[live][order], a.latency[live][order]
        flags = np.bincount(a.day[live], flagged[live], nd)
        for i, day in enumerate(a.days):
            if not count[i]:
                continue
            entry = days.setdefault(
                day, {"day": day, "rated": 0, "up_rate": None, "up_lower": None, "up_upper": None}
            )
            chunk = slice(bounds[i], bounds[i + 1])
            entry.update(responses=int(count[i]))
            entry.update(_mean_fields("mean_length", day_length[chunk]))
            entry.update(_mean_fields("mean_latency_ms", day_latency[chunk]))
            entry.update(safety_flags=int(flags[i]))
        return [days[d] for d in sorted(days)]

    def _fairness(
        self,
        a: _Arrays,
        t_model: NDArray[np.int64],
        t_prompt: NDArray[np.int64],
        t_up: NDArray[np.int64],
        t_n: NDArray[np.int64],
    ) -> dict[str, Any]:
        seg_names = sorted({s for s in self.p_segment if s is not None})
        if not seg_names:
            return {"segments": [], "models": []}
        sindex = {s: i for i, s in enumerate(seg_names)}
        seg_of_prompt = np.array(
            [sindex[s] if s is not None else -1 for s in self.p_segment] or [-1], np.int32
        )
        n_s, n_m = len(seg_names), len(self.models)
        t_seg = np.where(t_prompt >= 0, seg_of_prompt[np.maximum(t_prompt, 0)], -1)
        keep = t_seg >= 0
        key = t_model[keep] * n_s + t_seg[keep]
        ups = np.bincount(key, t_up[keep], n_m * n_s).reshape(n_m, n_s)
        ns = np.bincount(key, t_n[keep], n_m * n_s).reshape(n_m, n_s)
        r_seg = np.where(a.prompt >= 0, seg_of_prompt[np.maximum(a.prompt, 0)], np.int32(-1))
        # Metric rows of live, completed answers to prompts with a segment.
        m_seg = r_seg[a.m_resp]
        m_key = a.model[a.m_resp] * n_s + m_seg
        m_key[(m_seg < 0) | a.cached[a.m_resp] | ~a.ok[a.m_resp]] = -1
        del m_seg
        stats = _metric_stats(m_key, a.m_name, a.m_value)
        out = []
        for mi, model in enumerate(self.models):
            entries = []
            for si, seg in enumerate(seg_names):
                u, n = int(ups[mi, si]), int(ns[mi, si])
                (lo,), (hi,) = wilson_interval([u], [n])
                mets = {
                    self.metric_names[name]: v
                    for (k, name), v in stats.items()
                    if k == mi * n_s + si
                }
                entries.append(
                    {
                        "segment": seg,
                        "rated": n,
                        "up_rate": (u / n) if n else None,
                        "up_lower": _opt(lo),
                        "up_upper": _opt(hi),
                        "metrics": mets,
                    }
                )
            if not any(e["rated"] or e["metrics"] for e in entries):
                continue
            rated = [
                (int(ups[mi, si]) / int(ns[mi, si]), seg)
                for si, seg in enumerate(seg_names)
                if ns[mi, si]
            ]
            gap = None
            if len(rated) >= 2:
                _hi_rate, best = max(rated)
                _lo_rate, worst = min(rated)
                bi, wi = sindex[best], sindex[worst]
                d, lo_d, hi_d = newcombe_difference(
                    ups[mi, bi], ns[mi, bi], ups[mi, wi], ns[mi, wi]
                )
                gap = {
                    "high": best,
                    "low": worst,
                    "gap": d,
                    "lower": lo_d,
                    "upper": hi_d,
                    "significant": bool(lo_d > 0),
                }
            out.append({"model": model, "segments": entries, "largest_gap": gap})
        return {"segments": seg_names, "models": out}


def _metric_stats(
    keys: Codes, names: Codes, values: FloatArray
) -> dict[tuple[int, int], dict[str, float | int | None]]:
    """(key, metric code) → mean, median and n. A key below 0 leaves its value out (callers
    mark rows instead of copying the 3 M values they keep)."""
    if keys.size == 0 or int(keys.max()) < 0:
        return {}
    n_names = int(names.max()) + 1
    n_cells = (int(keys.max()) + 1) * n_names
    # 32-bit cells where they fit: 3 M metric values hold 12 MB less at the peak.
    cell: Codes = keys.astype(np.int32) if n_cells < 2**31 - 1 else keys.astype(np.int64)
    cell *= n_names
    cell += names
    cell[keys < 0] = n_cells  # one cell past the others, never read
    order = group_order(cell, n_cells + 1)
    bounds = group_bounds(cell, n_cells + 1)
    del cell
    out: dict[tuple[int, int], dict[str, float | int | None]] = {}
    for c in np.flatnonzero(np.diff(bounds[: n_cells + 1])).tolist():
        # Each cell's values in ascending order, so its mean sums them in the same order
        # wherever they were stored.
        chunk = np.sort(values[order[bounds[c] : bounds[c + 1]]])
        mean, lo, hi = mean_interval(chunk)
        out[divmod(c, n_names)] = {
            "mean": mean,
            "lower": _opt(lo),
            "upper": _opt(hi),
            "median": float(np.median(chunk)),
            "n": int(chunk.size),
        }
    return out


def _mean_fields(name: str, values: FloatArray) -> dict[str, Any]:
    """``name`` (the mean), its 95% interval and its n (NaN values dropped)."""
    mean, lo, hi = mean_interval(values)
    n = int(np.count_nonzero(~np.isnan(values)))
    return {name: _opt(mean), f"{name}_lower": _opt(lo), f"{name}_upper": _opt(hi), f"{name}_n": n}


def _grouped_mean_intervals(keys: Codes, values: FloatArray, n_keys: int) -> FloatArray:
    """(n_keys × 2) 95% intervals of each key's mean (:func:`mean_interval`); NaN if < 2 values."""
    out = np.full((n_keys, 2), np.nan)
    if keys.size == 0:
        return out
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    bounds = np.searchsorted(k, np.arange(n_keys + 1))
    for key in range(n_keys):
        if bounds[key + 1] - bounds[key] >= 2:
            _m, lo, hi = mean_interval(v[bounds[key] : bounds[key + 1]])
            out[key] = (lo, hi)
    return out


MIN_AGREEMENT_N = 10
"""Fewer shared items (rater κ) or answers (metric agreement) than this: "n too small"."""
MIN_AGREEMENT_CLASS = 3
"""Metric agreement also needs this many thumbs-up and thumbs-down answers."""


def _agreement(name: str, pos: FloatArray, neg: FloatArray) -> dict[str, Any]:
    """One metric against the human majority thumb: pass/fail agreement and κ, or the AUC, each
    with n and a 95% interval; ``enough`` is False (shown "n too small") below
    :data:`MIN_AGREEMENT_N` answers or :data:`MIN_AGREEMENT_CLASS` of either thumb."""
    both = np.concatenate([pos, neg])
    entry: dict[str, Any] = {
        "metric": name,
        "n": int(both.size),
        "n_up": int(pos.size),
        "n_down": int(neg.size),
        "enough": bool(
            both.size >= MIN_AGREEMENT_N and min(pos.size, neg.size) >= MIN_AGREEMENT_CLASS
        ),
    }
    if np.isin(both, (0.0, 1.0)).all():
        # An assertion or a pass/fail judge: how often it agrees with the thumb, and κ.
        t = np.array(
            [[np.sum(pos == 1), np.sum(pos == 0)], [np.sum(neg == 1), np.sum(neg == 0)]],
            dtype=np.float64,
        )
        entry["kind"] = "pass/fail"
        agree = float(t[0, 0] + t[1, 1])
        (lo,), (hi,) = wilson_interval([agree], [t.sum()])
        entry["agreement"] = agree / float(t.sum())
        entry["agreement_lower"], entry["agreement_upper"] = _opt(lo), _opt(hi)
        k, k_lo, k_hi = kappa_interval(t)
        entry["kappa"], entry["kappa_lower"], entry["kappa_upper"] = k, _opt(k_lo), _opt(k_hi)
    else:
        entry["kind"] = "score"
        a, lo, hi = auc_interval(pos, neg)
        entry["auc"] = _opt(a)
        entry["auc_lower"], entry["auc_upper"] = _opt(lo), _opt(hi)
    return entry
