"""Two stored runs compared prompt × model (the ``diff`` command and the TUI's diff screen), and
the word diff they show."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genaicompare.core.records import ResponseRecord
from genaicompare.gate.cases import Case, build_cases, current_thumbs
from genaicompare.gate.similarity import Similarity, get_similarity

if TYPE_CHECKING:
    from genaicompare.gate.paired import PairedFigure
    from genaicompare.store import Store


@dataclass
class DiffRow:
    """One prompt × model compared across two runs (the ``diff`` table and TUI screen)."""

    prompt_id: str
    model_alias: str
    text_a: str | None
    text_b: str | None
    state_a: str | None
    state_b: str | None
    thumbs_up_before: bool
    changed: bool
    similarity: float | None
    metric_drops: dict[str, float]
    """metric → value in A − value in B, for metrics that got worse (positive = a drop)."""
    metrics_a: dict[str, float] = field(default_factory=dict)
    """metric → value in A, for metrics stored for both answers (the TUI shows every delta)."""
    metrics_b: dict[str, float] = field(default_factory=dict)
    """metric → value in B, same names as ``metrics_a``."""
    passed_a: bool | None = None
    """Whether the answer in A passed its prompt's assertions (run B's catalog); None: the
    prompt has none, or there was no answer."""
    passed_b: bool | None = None

    @property
    def largest_drop(self) -> float:
        return max(self.metric_drops.values(), default=0.0)

    @property
    def transition(self) -> str | None:
        """``PASS→FAIL`` or ``FAIL→PASS`` when the assertions' outcome flipped, else None."""
        if self.passed_a is None or self.passed_b is None or self.passed_a == self.passed_b:
            return None
        return "PASS→FAIL" if self.passed_a else "FAIL→PASS"

    def changes(self) -> list[tuple[str, float, float, str]]:
        """Every metric stored on both sides, by importance (:func:`metric_order`):
        (name, value in A, value in B, "worse" / "better" / "" for a neutral or unmoved one)."""
        out = []
        for name in metric_order(set(self.metrics_a) & set(self.metrics_b)):
            va, vb = self.metrics_a[name], self.metrics_b[name]
            if va == vb or is_neutral(name):
                verdict = ""
            else:
                verdict = "worse" if name in self.metric_drops else "better"
            out.append((name, va, vb, verdict))
        return out

    def sort_key(self) -> tuple[int, float, float, str, str]:
        # Assertions that started failing first, then those that started passing; then
        # previously approved answers that changed; then the least similar; then the largest
        # metric drop.
        first = {"PASS→FAIL": 0, "FAIL→PASS": 1}.get(self.transition or "", 3)
        if first == 3 and self.thumbs_up_before and self.changed:
            first = 2
        return (
            first,
            self.similarity if self.similarity is not None else -1.0,
            -self.largest_drop,
            self.prompt_id,
            self.model_alias,
        )


# Metrics that are neither better nor worse when they move.
NEUTRAL_METRICS = frozenset({"chars", "words", "tokens_in", "tokens_out", "fk_grade"})
# Metrics where lower is better: an increase is the regression.
LOWER_IS_BETTER = frozenset(
    {
        "latency_ms",
        "ttft_ms",
        "cost_usd",
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
        "pii_count",
        "tokens_in",
        "tokens_out",
    }
)


_FAMILY_ORDER = ("reference", "judge", "question", "context", "model", "")
"""Metrics by what they need, most telling first: a reference answer, then the judge, the
question, the context, a safety model; the rest (ops, readability) last."""


LEADING = (
    "similarity",
    "judge_score",
    "rougeL",
    "token_f1",
    "bleu",
    "meteor",
    "chrf",
    "exact_match",
    "contains",
)
"""The figures people read first, in this order; the rest follow by :data:`_FAMILY_ORDER`."""


def metric_order(names: Iterable[str]) -> list[str]:
    """Metric names by importance: the :data:`LEADING` ones (semantic similarity to the
    reference, the judge's score, ROUGE-L, token F1, BLEU …), then the other reference metrics,
    the judge's, relevance, groundedness, safety; unknown names next; the neutral and ops
    figures (length, tokens, latency, cost) last."""
    from genaicompare.metrics.engine import METRICS

    def key(name: str) -> tuple[int, int, int, str]:
        if name in LEADING:
            return (0, 0, LEADING.index(name), name)
        info = METRICS.get(name)
        if info is None:
            return (2 if name not in NEUTRAL_METRICS | LOWER_IS_BETTER else 3, 0, 0, name)
        tier = _FAMILY_ORDER.index(info.needs) if info.needs in _FAMILY_ORDER else 5
        graded = info.family != "ops" and info.higher_is_better is not None
        return (1 if graded else 3, tier, 0, name)

    return sorted(set(names), key=key)


def lower_is_better(name: str) -> bool:
    """An increase of this metric is the regression (latency, cost, toxicity, PII …)."""
    from genaicompare.metrics.engine import METRICS

    info = METRICS.get(name)
    if info is not None and info.higher_is_better is not None:
        return not info.higher_is_better
    return name in LOWER_IS_BETTER


def is_neutral(name: str) -> bool:
    """Neither better nor worse when it moves (length, token counts, grade level)."""
    from genaicompare.metrics.engine import METRICS

    info = METRICS.get(name)
    return name in NEUTRAL_METRICS or (info is not None and info.higher_is_better is None)


def diff_similarity(semantic: bool = False) -> Similarity:
    """THE similarity of a run diff, for ``C`` in the TUI and ``genaicompare diff`` alike:
    lexical unless ``semantic`` (``diff --semantic``: the embedding model when available)."""
    return get_similarity(prefer_semantic=semantic)


_BATCH = 1000
"""Prompt × model keys :func:`scan_runs` reads at a time (their answers, metrics, thumbs)."""
_tables = itertools.count(1)


@dataclass
class DiffBatch:
    """A batch of :func:`scan_runs`: its rows, and the pairs the paired tests compare."""

    rows: list[DiffRow]
    pairs: dict[str, list[tuple[Case, Case]]]
    """model alias → (case in run A, case in run B) per prompt both answered, neither errored,
    in run B's order; every alias of run B's cases in the batch is a key."""
    metrics: dict[int, dict[str, Any]]
    """response id → stored metrics, for the batch's answers (those without any are absent)."""
    thumbs: dict[str, bool]
    """content hash → thumbs up (majority of the current thumbs), for the batch's answers."""


def scan_runs(
    store: Store,
    run_a: int,
    run_b: int,
    similarity: Similarity | None = None,
    *,
    models: Iterable[str] = (),
    batch: int | None = None,
) -> Iterator[DiffBatch]:
    """Two stored runs compared prompt × model, ``batch`` keys at a time, so that memory holds
    one batch's answers whatever the runs' size (a million answers: issue 17). The keys come in
    run B's order (then those only in A); ``models``: only these aliases (default: all);
    ``batch``: keys per batch (default :data:`_BATCH`)."""
    from genaicompare.core.errors import UserError

    for rid in (run_a, run_b):
        if store.run(rid) is None:
            raise UserError(f"no run {rid} in {store.path}")
    similarity = similarity or diff_similarity()
    specs = run_assert_specs(store, run_b)  # both sides judged by the newer catalog's rules
    batch = batch or _BATCH
    keys, ids = _key_tables(store, run_a, run_b, list(models))
    try:
        count = store.query(f"SELECT count(*) AS n FROM {keys}")[0]["n"]
        for lo in range(1, count + 1, batch):
            span = f"SELECT id FROM {ids} WHERE ord >= ? AND ord < ?"
            bounds = [lo, lo + batch]
            records = [
                ResponseRecord.from_row(r)
                for r in store.query(
                    f"SELECT * FROM responses WHERE id IN ({span}) ORDER BY id", bounds
                )
            ]
            stored = store.metrics_in(span, bounds)
            thumbs = current_thumbs(
                store,
                f"r.content_hash IN (SELECT content_hash FROM responses WHERE id IN ({span}))",
                bounds,
            )
            yield _batch(run_a, run_b, records, stored, thumbs, specs, similarity)
    finally:
        for table in (keys, ids):
            store.temp(f"DROP TABLE IF EXISTS temp.{table}")


def _key_tables(store: Store, run_a: int, run_b: int, models: list[str]) -> tuple[str, str]:
    """Two temporary tables: the runs' prompt × model keys numbered in run B's order of first
    answer, then those only in run A; and every answer id of both runs with its key's number."""
    n = next(_tables)
    keys, ids = f"diff_key_{n}", f"diff_id_{n}"
    only = f" AND model_alias IN ({', '.join('?' for _ in models)})" if models else ""
    store.temp(
        f"CREATE TEMP TABLE {keys} (ord INTEGER PRIMARY KEY, prompt_id TEXT NOT NULL, "
        "model_alias TEXT NOT NULL, UNIQUE (prompt_id, model_alias))"
    )
    for rid in (run_b, run_a):
        store.temp(
            f"INSERT OR IGNORE INTO {keys} (prompt_id, model_alias) SELECT prompt_id, model_alias "
            f"FROM responses WHERE run_id = ?{only} GROUP BY prompt_id, model_alias "
            "ORDER BY MIN(id)",
            [rid, *models],
        )
    store.temp(f"CREATE TEMP TABLE {ids} (id INTEGER PRIMARY KEY, ord INTEGER NOT NULL)")
    store.temp(
        f"INSERT INTO {ids} SELECT r.id, k.ord FROM responses r JOIN {keys} k "
        "ON k.prompt_id = r.prompt_id AND k.model_alias = r.model_alias "
        "WHERE r.run_id IN (?, ?)",
        [run_a, run_b],
    )
    store.temp(f"CREATE INDEX {ids}_ord ON {ids}(ord, id)")
    return keys, ids


def _batch(
    run_a: int,
    run_b: int,
    records: list[ResponseRecord],
    stored: dict[int, dict[str, Any]],
    thumb_rows: list[dict[str, Any]],
    specs: dict[str, Any],
    similarity: Similarity,
) -> DiffBatch:
    """One batch's rows and pairs from its answers (both runs, id order), their stored metrics
    and the thumbs in force on their outputs."""
    from genaicompare.gate.paired import majority_thumbs

    records_a = [r for r in records if r.run_id == run_a]
    records_b = [r for r in records if r.run_id == run_b]
    a, b = _latest(records_a), _latest(records_b)
    keys = list(a) + [k for k in b if k not in a]
    both = [k for k in keys if k in a and k in b]
    sims = dict(zip(both, similarity.pairs([(a[k].text, b[k].text) for k in both]), strict=True))
    ups = {t["content_hash"] for t in thumb_rows if t["value"] == "up"}
    evaluated: dict[int, list[Any]] = {}  # each answer's assertions evaluated once
    outcome_a, outcome_b = (
        _assertion_outcomes(a, specs, stored, evaluated),
        _assertion_outcomes(b, specs, stored, evaluated),
    )
    rows = []
    for key in keys:
        ra, rb = a.get(key), b.get(key)
        drops: dict[str, float] = {}
        values_a: dict[str, float] = {}
        values_b: dict[str, float] = {}
        if ra is not None and rb is not None and ra.id and rb.id:
            ma, mb = stored.get(ra.id, {}), stored.get(rb.id, {})
            for name in set(ma) & set(mb):
                va, vb = ma[name]["value"], mb[name]["value"]
                if va is None or vb is None:
                    continue
                values_a[name], values_b[name] = va, vb
                if is_neutral(name):
                    continue
                drop = (vb - va) if lower_is_better(name) else (va - vb)
                if drop > 0:
                    drops[name] = drop
        rows.append(
            DiffRow(
                prompt_id=key[0],
                model_alias=key[1],
                text_a=ra.text if ra else None,
                text_b=rb.text if rb else None,
                state_a=ra.state.value if ra else None,
                state_b=rb.state.value if rb else None,
                thumbs_up_before=ra is not None and ra.content_hash in ups,
                changed=(ra is None or rb is None or ra.text != rb.text),
                similarity=sims.get(key),
                metric_drops=drops,
                metrics_a=values_a,
                metrics_b=values_b,
                passed_a=outcome_a.get(key),
                passed_b=outcome_b.get(key),
            )
        )
    cases_a = {
        (c.prompt_id, c.model_alias): c for c in build_cases(records_a, specs, stored, evaluated)
    }
    pairs: dict[str, list[tuple[Case, Case]]] = {}
    for c in build_cases(records_b, specs, stored, evaluated):
        c.baseline_similarity = sims.get((c.prompt_id, c.model_alias))
        mine = pairs.setdefault(c.model_alias, [])
        base = cases_a.get((c.prompt_id, c.model_alias))
        if base is not None and not base.errored and not c.errored:
            mine.append((base, c))
    return DiffBatch(rows, pairs, stored, majority_thumbs(thumb_rows))


def diff_runs(
    store: Store,
    run_a: int,
    run_b: int,
    similarity: Similarity | None = None,
    *,
    models: Iterable[str] = (),
) -> list[DiffRow]:
    """Every prompt × model of two stored runs, ordered by how much it changed (assertion
    transitions first, see :meth:`DiffRow.sort_key`). All the rows, with both texts (the TUI's
    diff screen browses them); ``genaicompare diff`` keeps only those it shows (:func:`diff_report`)."""
    scan = scan_runs(store, run_a, run_b, similarity, models=models)
    rows = [row for part in scan for row in part.rows]
    rows.sort(key=DiffRow.sort_key)
    return rows


@dataclass
class DiffReport:
    """What ``genaicompare diff`` prints: the rows it shows, counts over every row, and the
    paired figures of each model of run B against the same model in run A."""

    rows: list[DiffRow]
    total: int
    """Every prompt × model compared."""
    changed: int
    """Of them, answers that differ (or are in one run only)."""
    transitions: dict[str, int]
    """``PASS→FAIL`` / ``FAIL→PASS`` → how many rows flipped that way."""
    listed: int
    """Rows that qualify to be shown (changed or flipped; every row with ``show_unchanged``),
    before ``limit``."""
    paired: list[PairedFigure]


def diff_report(
    store: Store,
    run_a: int,
    run_b: int,
    similarity: Similarity | None = None,
    *,
    models: Iterable[str] = (),
    limit: int = 50,
    show_unchanged: bool = False,
) -> DiffReport:
    """One pass over two runs (:func:`scan_runs`): the ``limit`` most changed rows (0: all;
    ``show_unchanged``: unchanged ones too), counts over every row, and the paired tests of
    :mod:`genaicompare.gate.paired` — assertions of run B's catalog evaluated on both runs'
    stored metrics, thumbs in force, similarity of B's answer to A's, metrics, latency, cost.
    Memory: a batch, the rows kept, and the paired tests' numbers (a few arrays of floats)."""
    import heapq

    from genaicompare.gate.paired import PairedInputs

    kept: list[DiffRow] = []
    total = changed = listed = 0
    transitions: dict[str, int] = {}
    gathered: dict[str, PairedInputs] = {}
    for part in scan_runs(store, run_a, run_b, similarity, models=models):
        for row in part.rows:
            total += 1
            changed += row.changed
            if row.transition:
                transitions[row.transition] = transitions.get(row.transition, 0) + 1
            if show_unchanged or row.changed or row.transition:
                listed += 1
                kept.append(row)
        if limit and len(kept) > 2 * limit:
            kept = heapq.nsmallest(limit, kept, key=DiffRow.sort_key)
        for alias, pairs in part.pairs.items():
            gathered.setdefault(alias, PairedInputs()).add(pairs, part.metrics, part.thumbs)
    kept.sort(key=DiffRow.sort_key)
    paired = [f for alias, g in gathered.items() for f in g.figures(alias, f"run {run_a}")]
    return DiffReport(kept[:limit] if limit else kept, total, changed, transitions, listed, paired)


def _assertion_outcomes(
    records: dict[tuple[str, str], ResponseRecord],
    specs: dict[str, Any],
    stored: dict[int, dict[str, Any]],
    evaluated: dict[int, list[Any]] | None = None,
) -> dict[tuple[str, str], bool]:
    """(prompt, model) → passed, for the answers whose prompt has assertions (and that came)."""
    if not specs:
        return {}
    chosen = [r for r in records.values() if r.prompt_id in specs]
    return {
        (c.prompt_id, c.model_alias): c.passed
        for c in build_cases(chosen, specs, stored, evaluated)
        if c.has_assertions and not c.errored
    }


def run_assert_specs(store: Store, run_id: int) -> dict[str, Any]:
    """prompt id → its ``assert`` block, from the catalog version the run was made with."""
    import json

    run = store.run(run_id)
    if not run or run.get("catalog_id") is None:
        return {}
    rows = store.query(
        "SELECT prompt_id, body FROM prompts WHERE catalog_id = ?", [run["catalog_id"]]
    )
    specs: dict[str, Any] = {}
    for r in rows:
        try:
            body = json.loads(r["body"])
        except (TypeError, ValueError):
            continue
        if isinstance(body, dict) and body.get("assert"):
            specs[r["prompt_id"]] = body["assert"]
    return specs


def latest_runs(
    store: Store, catalog_name: str, mode: str | None = "headless", limit: int = 2
) -> list[int]:
    """Ids of the newest runs of ``catalog_name`` that stored at least one answer, newest first.

    ``mode`` "headless" by default: a TUI session's run holds only the prompts that were browsed.
    """
    sql = (
        "SELECT id FROM runs WHERE catalog_name = ?"
        + (" AND mode = ?" if mode is not None else "")
        + " AND EXISTS (SELECT 1 FROM responses WHERE responses.run_id = runs.id)"
        + " ORDER BY id DESC LIMIT ?"
    )
    params: list[Any] = [catalog_name, *([mode] if mode is not None else []), limit]
    return [int(r["id"]) for r in store.query(sql, params)]


def latest_run_diff(store: Store, catalog_name: str) -> tuple[int, int, str, list[DiffRow]] | None:
    """(run A, run B, similarity method, rows) for the two latest headless runs of this
    catalog, or None when there are fewer than two. :func:`diff_similarity`, as ``diff``'s:
    loading an embedding model inside the TUI would cost seconds and memory for a quick look."""
    runs = latest_runs(store, catalog_name)
    if len(runs) < 2:
        return None
    run_b, run_a = runs
    similarity = diff_similarity()
    return run_a, run_b, similarity.method, diff_runs(store, run_a, run_b, similarity)


def _latest(records: Iterable[ResponseRecord]) -> dict[tuple[str, str], ResponseRecord]:
    out: dict[tuple[str, str], ResponseRecord] = {}
    for r in records:
        if r.sample_index != 0:
            continue
        key = (r.prompt_id, r.model_alias)
        if key not in out or (r.id or 0) > (out[key].id or 0):
            out[key] = r
    return out


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """Word-level diff as ``(op, text)`` segments, op ∈ {"=", "-", "+"}; whitespace kept."""
    ta = re.findall(r"\s+|[^\s]+", a)
    tb = re.findall(r"\s+|[^\s]+", b)
    out: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=ta, b=tb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(("=", "".join(ta[i1:i2])))
            continue
        if tag in ("replace", "delete"):
            out.append(("-", "".join(ta[i1:i2])))
        if tag in ("replace", "insert"):
            out.append(("+", "".join(tb[j1:j2])))
    return out
