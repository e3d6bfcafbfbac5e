"""Agreement between people: Krippendorff's α, Fleiss' κ, Gwet's AC1, human position bias.

Every coefficient is computed from one (items × categories) count table — how many raters put
each item in each category — so a rater who skipped an item is simply missing there:

* Krippendorff's α (nominal): 1 − D_o / D_e over the pairable values (items with ≥ 2 ratings),
  equal to the ``krippendorff`` package;
* Fleiss' κ, generalised to a varying number of raters per item (Gwet 2014, §2: the observed
  agreement over items with ≥ 2 ratings, chance from the category shares averaged over items),
  equal to statsmodels' ``fleiss_kappa`` when every item has the same raters, and to irrCAC;
* Gwet's AC1 (Gwet 2008), same observed agreement, chance Σ π_k(1 − π_k)/(q − 1) over the q
  categories of the scale (thumbs: 2; A/B: a, b, tie, both bad), equal to irrCAC.

Each comes with a 95% percentile bootstrap interval over items (``rounds`` resamples, fixed
seed; widened to hold the estimate) and n = items with at least two ratings; below
:data:`MIN_ITEMS` it is "n too small". Human position bias is the share of decisive A/B votes
that went to the left pane (from the pane order recorded with each vote), with its Wilson
interval.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from genaicompare.scoring.stats import FloatArray, wilson_interval

MIN_ITEMS = 10
"""Fewer items rated by two or more people than this: "n too small"."""
SCALES: dict[str, tuple[str, ...]] = {
    "thumbs": ("up", "down"),
    "preferences": ("a", "b", "tie", "both_bad"),
}
"""Each kind of rating and its categories (A/B values as stored canonically)."""


def _batched(counts: FloatArray, w: FloatArray) -> dict[str, FloatArray]:
    """α, Fleiss' κ and AC1 for each row of item weights ``w`` (rounds × items)."""
    r = counts.sum(axis=1)
    multi = r >= 2
    with np.errstate(invalid="ignore", divide="ignore"):
        # Observed agreement: the share of agreeing ordered rater pairs, per item.
        pa_item = np.where(
            multi, (counts * (counts - 1)).sum(axis=1) / np.maximum(r * (r - 1), 1), 0.0
        )
        n2 = w @ multi
        pa = (w @ pa_item) / n2
        # Category shares, each item's ratings weighted equally (items with ≥ 1 rating).
        share = np.where(r[:, None] > 0, counts / np.maximum(r, 1)[:, None], 0.0)
        rated = w @ (r > 0)
        pi = (w @ share) / rated[:, None]
        q = counts.shape[1]
        pe_fleiss = (pi * pi).sum(axis=1)
        pe_gwet = (pi * (1 - pi)).sum(axis=1) / (q - 1)
        fleiss = (pa - pe_fleiss) / (1 - pe_fleiss)
        gwet = (pa - pe_gwet) / (1 - pe_gwet)
        # Krippendorff: disagreeing pairable values within items, against all pairable values.
        pair_c = counts * multi[:, None]
        d_item = np.where(multi, (r * r - (counts * counts).sum(axis=1)) / np.maximum(r - 1, 1), 0)
        n_c = w @ pair_c
        n_all = n_c.sum(axis=1)
        d_o = w @ d_item
        d_e = n_all * n_all - (n_c * n_c).sum(axis=1)
        alpha = 1 - (n_all - 1) * d_o / d_e
    return {"krippendorff_alpha": alpha, "fleiss_kappa": fleiss, "gwet_ac1": gwet}


def coefficients(counts: Any) -> dict[str, float]:
    """α, Fleiss' κ and Gwet's AC1 of an (items × categories) count table (NaN if undefined)."""
    c = np.asarray(counts, dtype=np.float64)
    out = _batched(c, np.ones((1, c.shape[0])))
    return {k: float(v[0]) for k, v in out.items()}


def agreement_table(
    counts: Any,
    rounds: int = 1000,
    seed: int = 0,
    min_items: int = MIN_ITEMS,
    sizes: Any = None,
) -> dict[str, Any]:
    """Each coefficient with its 95% bootstrap interval over items, n (items with ≥ 2 ratings)
    and whether n is enough to say anything.

    ``counts`` holds one row per item, or with ``sizes`` one row per distinct row (an item
    class) and how many items have it. Items of one class weigh the same in every figure, so a
    resample of items is drawn as how many of each class it holds — one multinomial over the
    classes, the same distribution as resampling the items themselves, in O(rounds × classes)."""
    c = np.asarray(counts, dtype=np.float64)
    if sizes is None:
        c, size = _classes(c)
    else:
        size = np.asarray(sizes, dtype=np.float64)
    n_items = int(size.sum())
    pairable = int(size[c.sum(axis=1) >= 2].sum())
    entry: dict[str, Any] = {
        "n": pairable,
        "ratings": int(size @ c.sum(axis=1)),
        "items": n_items,
        "enough": pairable >= min_items,
    }
    point = (
        {k: float(v[0]) for k, v in _batched(c, size[None, :]).items()}
        if n_items
        else {k: math.nan for k in _NAMES}
    )
    if n_items:
        rng = np.random.default_rng(seed)
        w = rng.multinomial(n_items, size / n_items, size=rounds).astype(np.float64)
        boot = _batched(c, w)
    for name in _NAMES:
        est = point[name]
        if math.isnan(est):
            entry[name] = {"value": None, "lower": None, "upper": None}
            continue
        b = boot[name]
        b = b[~np.isnan(b)]
        lo, hi = np.quantile(b, [0.025, 0.975]) if b.size else (math.nan, math.nan)
        entry[name] = {
            "value": est,
            "lower": None if math.isnan(lo) else float(min(lo, est)),
            "upper": None if math.isnan(hi) else float(max(hi, est)),
        }
    return entry


def _classes(counts: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The distinct rows of an (items × categories) table (sorted) and how many items have each."""
    if not counts.shape[0]:
        return counts, np.zeros(0)
    rows, size = np.unique(counts, axis=0, return_counts=True)
    return rows, size.astype(np.float64)


_NAMES = ("krippendorff_alpha", "fleiss_kappa", "gwet_ac1")


def count_table(
    ratings: Sequence[tuple[str, str, str]], categories: Sequence[str]
) -> tuple[list[str], FloatArray]:
    """(item, rater, category) triples → items and their (items × categories) counts; one rating
    per rater and item (the caller passes the ratings in force)."""
    index = {c: i for i, c in enumerate(categories)}
    items: dict[str, int] = {}
    rows: list[tuple[int, int]] = []
    for item, _rater, cat in ratings:
        if cat not in index:
            continue
        rows.append((items.setdefault(item, len(items)), index[cat]))
    counts = np.zeros((len(items), len(categories)))
    for i, k in rows:
        counts[i, k] += 1
    return list(items), counts


def position_bias(left: int, n: int) -> dict[str, Any]:
    """The share of decisive A/B votes for the left pane, with its 95% Wilson interval."""
    (lo,), (hi,) = wilson_interval([left], [n])
    return {
        "left": left,
        "n": n,
        "rate": left / n if n else None,
        "lower": float(lo) if n else None,
        "upper": float(hi) if n else None,
        "enough": n >= MIN_ITEMS,
    }


def agreement_section(
    conn: sqlite3.Connection, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Agreement among the catalog's raters per kind of rating, and the position bias of its
    A/B votes."""
    where, params = ("1", []) if catalog is None else ("catalog = ?", [catalog])
    out: dict[str, Any] = {}
    for kind, key in (("thumb", "thumbs"), ("pair", "preferences")):
        cats = SCALES[key]
        # The item classes (distinct vectors of per-category counts) and their sizes, kept with
        # every rating (agg_item_classes): the bootstrap needs nothing finer (agreement_table).
        classes = sorted(
            (*(int(x) for x in counts.split(",")), n)
            for counts, n in conn.execute(
                f"SELECT counts, sum(n) FROM agg_item_classes WHERE kind = ? AND {where} "
                "GROUP BY counts HAVING sum(n) > 0",
                [kind, *params],
            )
        )
        table = np.array(classes, np.float64).reshape(-1, len(cats) + 1)
        entry = agreement_table(table[:, :-1], rounds=rounds, seed=seed, sizes=table[:, -1])
        (entry["raters"],) = conn.execute(
            f"SELECT count(DISTINCT rater) FROM ratings_current WHERE kind = ? AND {where}",
            [kind, *params],
        ).fetchone()
        entry["categories"] = list(cats)
        out[key] = entry
    left = n = 0
    # One JSON parse per distinct (models, value, pane order), not per vote.
    # One JSON parse per distinct (models, value, pane order), not per vote; the ratings rows are
    # read in id order (the IN list is sorted), votes without a recorded order not at all.
    for a, b, value, order, k in conn.execute(
        "SELECT r.model_alias, r.other_model_alias, r.value, r.pane_order, count(*) "
        "FROM ratings r WHERE r.id IN (SELECT rating_id FROM ratings_current "
        f"WHERE kind = 'pair' AND {where}) AND r.value IN ('a', 'b') "
        "AND r.pane_order IS NOT NULL AND r.pane_order <> '' GROUP BY 1, 2, 3, 4",
        params,
    ):
        try:
            shown = json.loads(order) if order else None
        except ValueError:
            shown = None
        if not isinstance(shown, list) or a not in shown or b not in shown or a == b:
            continue  # no recorded pane order: the side shown left is unknown
        a_left = shown.index(a) < shown.index(b)
        n += k
        left += k * int(a_left == (value == "a"))
    out["position_bias"] = position_bias(left, n)
    return out
