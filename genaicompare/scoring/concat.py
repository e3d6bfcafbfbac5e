"""Moving a column of many rows out of SQLite in one value: ``group_concat`` and its parsing.

A million rows read as Python tuples cost seconds; one comma-separated string per column,
parsed by numpy in C, a fraction of that. Numbers come back exactly when they are integers (or
halves, as the A/B outcomes); names travel as codes (:func:`case_codes`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def numbers(concat: str | None, dtype: type = np.float64) -> NDArray[Any]:
    """A group_concat'ed list of numbers (``nan`` for missing) as an array, parsed in C."""
    if not concat:
        return np.empty(0, dtype=dtype)
    if dtype is np.float64:
        return np.fromstring(concat, dtype=np.float64, sep=",")
    return np.fromstring(concat, dtype=np.int64, sep=",").astype(dtype, copy=False)


def case_codes(column: str, n: int) -> str:
    """``CASE column WHEN ? THEN 0 WHEN ? THEN 1 … ELSE -1 END`` — names travel as parameters;
    −1 marks a name unknown to this snapshot (dropped, never misaligned)."""
    if n == 0:
        return "-1"
    return f"CASE {column} " + " ".join(f"WHEN ? THEN {i}" for i in range(n)) + " ELSE -1 END"
