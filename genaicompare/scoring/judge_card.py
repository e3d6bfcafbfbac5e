"""A report card for the LLM judge, from its stored pairwise verdicts (asked in both orders).

Per judge model (``judge_pairwise:<alias>`` rows, version ``1:<judge model>``; the latest verdict
per pair of answers):

* order-flip rate — the share of comparisons whose two orders disagreed (Wilson interval);
* first-position win rate — of the decisive single-order verdicts, the share won by the answer
  shown first (0.5 = no position bias; Wilson interval, n = verdicts, two per comparison);
* length — how often the longer answer won the decisive verdicts (Wilson), and the length slope:
  the style-control coefficient of length (:mod:`~genaicompare.scoring.style`, the models'
  strengths held fixed) with its interval;
* same provider — per candidate model, whether it comes from the judge's own provider
  (self-preference is a known bias);
* agreement with human A/B votes — Cohen's κ (a / b / tie, both bad counted as a tie) with its
  95% interval over the answer pairs that both judged, overall and per tag.

Below :data:`MIN_OVERLAP` shared judgements κ is "n too small", and a catalog's
``judge: {min_agreement: …}`` is not checked (:func:`check_min_agreement`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from genaicompare.core.markdown_style import STYLE_COLUMNS
from genaicompare.scoring.stats import kappa_interval, wilson_interval
from genaicompare.scoring.style import MIN_SHARE_N, longer_share, style_control

MIN_OVERLAP = 10
"""Fewer answer pairs judged by both the judge and a person than this: κ is "n too small"."""
MIN_VERDICTS = 10
"""Fewer comparisons than this: the judge's rates say "n too small"."""

_KNOWN_PROVIDERS = (
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("claude", "anthropic"),
    ("gemini", "gemini"),
)


def provider_of(model: str) -> str:
    """The litellm provider of a model string: its prefix (``openai/gpt-4o`` → openai), or the
    family's provider for a bare name (``gpt-4o`` → openai)."""
    name = model.strip().lower()
    if "/" in name:
        return name.split("/", 1)[0]
    for prefix, provider in _KNOWN_PROVIDERS:
        if name.startswith(prefix):
            return provider
    return name


def _rate(k: int, n: int, enough_at: int) -> dict[str, Any]:
    (lo,), (hi,) = wilson_interval([k], [n])
    return {
        "k": k,
        "n": n,
        "rate": k / n if n else None,
        "lower": float(lo) if n else None,
        "upper": float(hi) if n else None,
        "enough": n >= enough_at,
    }


@dataclass
class _Verdict:
    prompt_id: str
    alias_a: str
    alias_b: str
    hash_a: str
    hash_b: str
    len_a: int
    len_b: int
    counts_a: tuple[int, int, int, int]
    counts_b: tuple[int, int, int, int]
    ab: str
    ba: str
    winner: str  # a | b | tie (the side's letter)
    model_a: str
    model_b: str


_CATS = ("a", "b", "tie")
JUDGE_PREFIX = "judge_pairwise:"
"""The names of a judge's pairwise verdicts: ``judge_pairwise:<opponent alias>``."""


def kappa_entry(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Cohen's κ of (human, judge) labels in {a, b, tie} with its interval, n and ``enough``."""
    table = np.zeros((3, 3))
    for h, j in pairs:
        table[_CATS.index(h), _CATS.index(j)] += 1
    n = int(table.sum())
    entry: dict[str, Any] = {"n": n, "enough": n >= MIN_OVERLAP}
    if n:
        k, lo, hi = kappa_interval(table)
        agree = int(np.trace(table))
        (alo,), (ahi,) = wilson_interval([agree], [n])
        entry.update(
            kappa=None if k != k else k,
            lower=None if lo != lo else lo,
            upper=None if hi != hi else hi,
            agreement=agree / n,
            agreement_lower=float(alo),
            agreement_upper=float(ahi),
        )
    else:
        entry.update(kappa=None, lower=None, upper=None, agreement=None)
    return entry


def _read(conn: sqlite3.Connection, catalog: str | None) -> dict[str, list[_Verdict]]:
    from genaicompare.store import columns

    where = "1" if catalog is None else "ra.catalog_id IN (SELECT id FROM catalogs WHERE name = ?)"
    # Only where a judge's verdicts may be (3 M metrics scanned for none took 1.8 s).
    ranges = columns.ranges_with_metric(conn, lambda name: name.startswith(JUDGE_PREFIX))
    if not ranges:
        return {}
    where += " AND (" + " OR ".join("m.response_id BETWEEN ? AND ?" for _ in ranges) + ")"
    # Each side's style counts from ``answer_style`` (every stored answer has its row), not its
    # text.
    style = ", ".join(f"{{s}}.{c}" for c in STYLE_COLUMNS)
    rows = conn.execute(
        "SELECT m.version, m.detail, ra.prompt_id, ra.model_alias, rb.model_alias, "
        "ra.content_hash, rb.content_hash, ra.model, rb.model, "
        f"{style.format(s='sa')}, {style.format(s='sb')} "
        "FROM metrics m JOIN responses ra ON ra.id = m.response_id "
        "JOIN responses rb ON rb.id = json_extract(m.detail, '$.opponent_id') "
        "JOIN answer_style sa ON sa.content_hash = ra.content_hash "
        "JOIN answer_style sb ON sb.content_hash = rb.content_hash "
        "WHERE substr(m.name, 1, ?) = ? AND m.value IS NOT NULL "
        f"AND json_extract(m.detail, '$.a') = ra.model_alias AND {where} "
        "ORDER BY m.created_at, m.response_id",
        [
            len(JUDGE_PREFIX),
            JUDGE_PREFIX,
            *([] if catalog is None else [catalog]),
            *(x for r in ranges for x in r),
        ],
    ).fetchall()
    latest: dict[tuple[str, str], _Verdict] = {}
    for row in rows:
        version, detail, prompt, a, b, ha, hb, ma, mb = row[:9]
        ca: tuple[int, int, int, int] = row[9:13]
        cb: tuple[int, int, int, int] = row[13:17]
        try:
            d = json.loads(detail)
            ab, ba = d["orders"]["AB"], d["orders"]["BA"]
        except (ValueError, KeyError, TypeError):
            continue
        if ab not in _CATS or ba not in _CATS or ha == hb:
            continue
        judge = str(version).split(":", 1)[1] if ":" in str(version) else str(version)
        winner = ab if ab == ba else "tie"
        item = "|".join(sorted((ha, hb)))
        latest[(judge, item)] = _Verdict(
            prompt, a, b, ha, hb, ca[0], cb[0], ca, cb, ab, ba, winner, ma, mb
        )  # fmt: skip
    out: dict[str, list[_Verdict]] = {}
    for (judge, _item), v in latest.items():
        out.setdefault(judge, []).append(v)
    return out


def _human_votes(conn: sqlite3.Connection, catalog: str | None) -> dict[str, list[str]]:
    """Human A/B votes in force per pair of answers ('lo|hi' hashes): canonical values (a = the
    smaller content hash), both bad as a tie."""
    where, params = ("1", []) if catalog is None else ("catalog = ?", [catalog])
    votes: dict[str, list[str]] = {}
    for item, value in conn.execute(
        f"SELECT item, canon_value FROM ratings_current WHERE kind = 'pair' AND {where}", params
    ):
        votes.setdefault(str(item)[5:], []).append("tie" if value == "both_bad" else value)
    return votes


def _tags(conn: sqlite3.Connection, catalog: str | None) -> dict[str, list[str]]:
    where, params = ("1", []) if catalog is None else ("c.name = ?", [catalog])
    tags: dict[str, list[str]] = {}
    for prompt, raw in conn.execute(
        "SELECT p.prompt_id, p.tags FROM prompts p JOIN catalogs c ON c.id = p.catalog_id "
        f"WHERE {where} ORDER BY p.catalog_id",
        params,
    ):
        try:
            parsed = json.loads(raw or "[]")
        except ValueError:
            parsed = []
        tags[prompt] = [str(t) for t in parsed] if isinstance(parsed, list) else []
    return tags


def _side(v: _Verdict, canon: str) -> str:
    """A human vote stored canonically (a = the smaller content hash) from the judge's side a:
    every pair of models is then labelled one way (the judge's order), not by hash order."""
    if canon == "tie" or v.hash_a < v.hash_b:
        return canon
    return "b" if canon == "a" else "a"


def human_agreement(
    verdicts: list[_Verdict], votes: dict[str, list[str]], tags: dict[str, list[str]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """κ between people and the judge over the answer pairs both judged: overall and per tag
    (one (human, judge) pair per human vote)."""
    overall: list[tuple[str, str]] = []
    per_tag: dict[str, list[tuple[str, str]]] = {}
    for v in verdicts:
        item = "|".join(sorted((v.hash_a, v.hash_b)))
        for vote in votes.get(item, []):
            pair = (_side(v, vote), v.winner)
            overall.append(pair)
            for tag in tags.get(v.prompt_id, []):
                per_tag.setdefault(tag, []).append(pair)
    return kappa_entry(overall), [
        {"tag": tag, **kappa_entry(pairs)} for tag, pairs in sorted(per_tag.items())
    ]


def card(
    judge: str,
    verdicts: list[_Verdict],
    votes: dict[str, list[str]],
    tags: dict[str, list[str]],
    rounds: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """One judge's report card (see the module docstring)."""
    n = len(verdicts)
    flips = sum(v.ab != v.ba for v in verdicts)
    first = decisive = 0
    for v in verdicts:
        for verdict, first_side in ((v.ab, "a"), (v.ba, "b")):
            if verdict != "tie":
                decisive += 1
                first += verdict == first_side
    outcome = np.array([{"a": 1.0, "b": 0.0}.get(v.winner, 0.5) for v in verdicts])
    share = longer_share([v.len_a for v in verdicts], [v.len_b for v in verdicts], outcome)
    models = sorted({v.alias_a for v in verdicts} | {v.alias_b for v in verdicts})
    index = {m: i for i, m in enumerate(models)}
    matchups = np.array([(index[v.alias_a], index[v.alias_b]) for v in verdicts], np.int64)
    slope: dict[str, Any] = {"coef": None, "lower": None, "upper": None, "n": n, "enough": False}
    if n:
        ca = np.array([v.counts_a for v in verdicts], np.float64)[:, :1]
        cb = np.array([v.counts_b for v in verdicts], np.float64)[:, :1]
        fit = style_control(
            models,
            matchups.reshape(-1, 2),
            outcome,
            ca,
            cb,
            rounds=rounds,
            seed=seed,
            min_battles=MIN_VERDICTS,
            feature_names=("length",),
        )
        if fit.enough and fit.coefficients and fit.coefficients[0].get("coef") is not None:
            c = fit.coefficients[0]
            slope = {"coef": c["coef"], "lower": c["lower"], "upper": c["upper"], "n": n}
            slope["enough"] = True
    provider = provider_of(judge)
    candidates: dict[str, str] = {}
    for v in verdicts:
        candidates[v.alias_a], candidates[v.alias_b] = v.model_a, v.model_b
    overall, by_tag = human_agreement(verdicts, votes, tags)
    return {
        "judge": judge,
        "provider": provider,
        "comparisons": n,
        "order_flip": _rate(flips, n, MIN_VERDICTS),
        "first_position_win": _rate(first, decisive, MIN_VERDICTS),
        "longer_won": {**share, "enough": share["n"] >= MIN_SHARE_N},
        "length_slope": slope,
        "same_provider": [
            {"model": alias, "provider": provider_of(m), "same": provider_of(m) == provider}
            for alias, m in sorted(candidates.items())
        ],
        "human_agreement": overall,
        "human_agreement_by_tag": by_tag,
    }


def judge_section(
    conn: sqlite3.Connection, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> list[dict[str, Any]]:
    """A report card per judge model that left pairwise verdicts in this catalog."""
    verdicts = _read(conn, catalog)
    if not verdicts:
        return []
    votes, tags = _human_votes(conn, catalog), _tags(conn, catalog)
    return [card(j, v, votes, tags, rounds, seed) for j, v in sorted(verdicts.items())]


def judge_human_agreement(
    conn: sqlite3.Connection, catalog: str | None, judge: str
) -> dict[str, Any]:
    """κ between one judge model's stored verdicts and the human A/B votes on the same answers."""
    verdicts = _read(conn, catalog).get(judge, [])
    overall, _by_tag = human_agreement(verdicts, _human_votes(conn, catalog), _tags(conn, catalog))
    return overall


def check_min_agreement(agreement: dict[str, Any], min_agreement: float) -> tuple[bool, str]:
    """Whether a judge may gate CI: (allowed, why). Refused when its κ with people is below
    ``min_agreement`` on at least :data:`MIN_OVERLAP` shared judgements; with less overlap it is
    not checked (and says so)."""
    n = agreement["n"]
    k = agreement.get("kappa")
    if not agreement.get("enough"):
        return True, (
            f"judge agreement with human A/B votes not checked: n too small "
            f"({n} shared judgements, {MIN_OVERLAP} needed)"
        )
    ci = ""
    if agreement.get("lower") is not None and agreement.get("upper") is not None:
        ci = f" [{agreement['lower']:.2f}–{agreement['upper']:.2f}]"
    if k is None:
        return True, (
            f"judge agreement with human A/B votes not checked: κ is undefined (n={n}: every "
            "judgement in one category)"
        )
    shown = f"{k:.2f}"
    if k < min_agreement:
        return False, (
            f"the judge agrees with human A/B votes at κ = {shown}{ci} (n={n}), below the "
            f"catalog's judge.min_agreement {min_agreement:g}: it may not gate this run"
        )
    return True, f"judge agreement with human A/B votes: κ = {shown}{ci} (n={n})"
