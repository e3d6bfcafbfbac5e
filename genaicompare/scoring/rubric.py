"""Rubric scores per criterion and model: a scale's mean with a percentile-bootstrap interval, a
pass-fail criterion's pass rate with a Wilson interval, each with its n (issue 16).

A criterion's kind is read from its scores: ``pass``/``fail`` values make it pass-fail, numbers a
scale — scores need no catalog file to be read back. Every rubric score in force counts once (one
per rater, answer and criterion)."""

from __future__ import annotations

import math
import sqlite3
from typing import Any

from genaicompare.core.figures import MIN_N
from genaicompare.scoring.stats import mean_interval, wilson_interval


def _f(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def rubric_section(
    conn: sqlite3.Connection, catalog: str | None, rounds: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """``{"criteria": [{"criterion", "kind": "scale"|"pass-fail", "models": [{model, n, mean |
    pass_rate, lower, upper, enough}]}]}``; ``enough`` is False below :data:`MIN_N` scores."""
    where, params = ("1", []) if catalog is None else ("c.catalog = ?", [catalog])
    rows = conn.execute(
        "SELECT r.item, c.model_alias, c.value FROM ratings_current c "
        "JOIN ratings r ON r.id = c.rating_id "
        f"WHERE c.kind = 'rubric' AND c.model_alias IS NOT NULL AND {where} ORDER BY r.id",
        params,
    ).fetchall()
    values: dict[str, dict[str, list[str]]] = {}
    for item, model, value in rows:
        criterion = str(item).split(":", 2)[-1]
        values.setdefault(criterion, {}).setdefault(str(model), []).append(str(value))
    criteria: list[dict[str, Any]] = []
    for criterion in sorted(values):
        per_model = values[criterion]
        every = {v for vs in per_model.values() for v in vs}
        pass_fail = every <= {"pass", "fail"}
        models: list[dict[str, Any]] = []
        for model in sorted(per_model):
            vs = per_model[model]
            n = len(vs)
            if pass_fail:
                k = sum(v == "pass" for v in vs)
                (lo,), (hi,) = wilson_interval([k], [n])
                entry: dict[str, Any] = {
                    "model": model,
                    "n": n,
                    "passes": k,
                    "pass_rate": k / n,
                    "lower": _f(float(lo)),
                    "upper": _f(float(hi)),
                }
            else:
                nums = [float(v) for v in vs if _number(v)]
                mean, lo_m, hi_m = mean_interval(nums, rounds=rounds, seed=seed)
                n = len(nums)
                entry = {
                    "model": model,
                    "n": n,
                    "mean": _f(mean),
                    "lower": _f(lo_m),
                    "upper": _f(hi_m),
                }
            entry["enough"] = n >= MIN_N
            models.append(entry)
        criteria.append(
            {
                "criterion": criterion,
                "kind": "pass-fail" if pass_fail else "scale",
                "models": models,
            }
        )
    return {"criteria": criteria, "rounds": rounds, "seed": seed, "min_n": MIN_N}


def _number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True
