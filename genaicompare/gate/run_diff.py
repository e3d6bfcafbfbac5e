"""Two stored runs compared prompt × model (the ``diff`` command and the TUI's diff screen), and
the word diff they show."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from genaicompare.core.records import ResponseRecord
from genaicompare.gate.cases import build_cases, current_thumbs
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


def diff_runs(
    store: Store, run_a: int, run_b: int, similarity: Similarity | None = None
) -> list[DiffRow]:
    """Every prompt × model of two stored runs, ordered by how much it changed (assertion
    transitions first, see :meth:`DiffRow.sort_key`)."""
    from genaicompare.core.errors import UserError

    for rid in (run_a, run_b):
        if store.run(rid) is None:
            raise UserError(f"no run {rid} in {store.path}")
    a = _latest(store.run_responses(run_a))
    b = _latest(store.run_responses(run_b))
    # One query per run, not one per answer (a 333,000-answer run made 666,000 queries).
    stored = {**store.metrics_of_run(run_a), **store.metrics_of_run(run_b)}
    keys = list(a) + [k for k in b if k not in a]
    similarity = similarity or diff_similarity()
    both = [k for k in keys if k in a and k in b]
    sims = dict(zip(both, similarity.pairs([(a[k].text, b[k].text) for k in both]), strict=True))
    ups, _ = _thumbs_up_hashes(store, [r.content_hash for r in a.values()])
    specs = run_assert_specs(store, run_b)  # both sides judged by the newer catalog's rules
    outcome_a, outcome_b = (
        _assertion_outcomes(a, specs, stored),
        _assertion_outcomes(b, specs, stored),
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
    rows.sort(key=DiffRow.sort_key)
    return rows


def _assertion_outcomes(
    records: dict[tuple[str, str], ResponseRecord],
    specs: dict[str, Any],
    stored: dict[int, dict[str, Any]],
) -> dict[tuple[str, str], bool]:
    """(prompt, model) → passed, for the answers whose prompt has assertions (and that came)."""
    if not specs:
        return {}
    chosen = [r for r in records.values() if r.prompt_id in specs]
    metrics = {r.id: stored.get(r.id, {}) for r in chosen if r.id is not None}
    return {
        (c.prompt_id, c.model_alias): c.passed
        for c in build_cases(chosen, specs, metrics)
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


def diff_paired(store: Store, run_a: int, run_b: int, rows: list[DiffRow]) -> list[PairedFigure]:
    """Each model of run B against the same model in run A, paired on the prompts both answered:
    the paired tests of :mod:`genaicompare.gate.paired` (assertions of run B's catalog evaluated
    on both runs' stored metrics, thumbs in force, similarity of B's answer to A's, metrics,
    latency, cost). ``rows``: :func:`diff_runs`'s, every row (their similarities are reused)."""
    from genaicompare.gate.paired import compare_cases, majority_thumbs

    specs = run_assert_specs(store, run_b)
    records_a, records_b = store.run_responses(run_a), store.run_responses(run_b)
    stored = {**store.metrics_of_run(run_a), **store.metrics_of_run(run_b)}
    metrics = {r.id: stored.get(r.id, {}) for r in [*records_a, *records_b] if r.id is not None}
    cases_a = {(c.prompt_id, c.model_alias): c for c in build_cases(records_a, specs, metrics)}
    cases_b = build_cases(records_b, specs, metrics)
    sims = {(r.prompt_id, r.model_alias): r.similarity for r in rows}
    for c in cases_b:
        c.baseline_similarity = sims.get((c.prompt_id, c.model_alias))
    thumbs = majority_thumbs(current_thumbs(store))
    out: list[PairedFigure] = []
    for alias in dict.fromkeys(c.model_alias for c in cases_b):
        pairs = [
            (a, c)
            for c in cases_b
            if c.model_alias == alias
            and (a := cases_a.get((c.prompt_id, alias))) is not None
            and not a.errored
            and not c.errored
        ]
        if pairs:
            out += compare_cases(alias, f"run {run_a}", pairs, metrics, thumbs)
    return out


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


def _thumbs_up_hashes(store: Store, hashes: Iterable[str]) -> tuple[set[str], set[str]]:
    wanted = set(hashes)
    if not wanted:
        return set(), set()
    rows = current_thumbs(store)
    up = {r["content_hash"] for r in rows if r["value"] == "up" and r["content_hash"] in wanted}
    down = {r["content_hash"] for r in rows if r["value"] == "down" and r["content_hash"] in wanted}
    return up, down


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
