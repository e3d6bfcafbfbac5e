"""How a figure is written for people: a rate or a mean with its 95% interval and n, or
"n too small" when there are too few cases to say anything (``scores``, ``run``, ``diff``, the
Markdown report and the TUI use these; the numbers come from scoring.stats and gate.paired)."""

from __future__ import annotations

import math

MIN_N = 5
"""Below this many cases a rate or a mean is shown as "n too small", never as a finding."""
TOO_SMALL = "n too small"


def missing(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def pct(x: float | None) -> str:
    return "–" if missing(x) else f"{100 * x:.1f}%"  # type: ignore[operator]


def rate_text(
    p: float | None, lower: float | None, upper: float | None, n: int, *, show_n: bool = True
) -> str:
    """``75.0% [46.8–91.1] n=12``; ``n too small (n=3)`` below :data:`MIN_N`; ``– n=0``."""
    tail = f" n={n}" if show_n else ""
    if missing(p):
        return f"–{tail}" if show_n else "–"
    if n < MIN_N:
        return f"{TOO_SMALL} (n={n})"
    ci = "" if missing(lower) or missing(upper) else f" [{100 * lower:.1f}–{100 * upper:.1f}]"  # type: ignore[operator]
    return f"{pct(p)}{ci}{tail}"


def number(x: float | None, digits: int) -> str:
    return "–" if missing(x) else f"{x:,.{digits}f}"


def digits_for(x: float | None) -> int:
    """Decimals for a figure of this size: 2 below 10, 1 below 100, none above."""
    if missing(x):
        return 2
    a = abs(x)  # type: ignore[arg-type]
    return 2 if a < 10 else (1 if a < 100 else 0)


def estimate_text(
    x: float | None,
    lower: float | None,
    upper: float | None,
    n: int | None,
    *,
    digits: int | None = None,
    unit: str = "",
    show_n: bool = True,
) -> str:
    """A mean (or κ, AUC, Δ) with its 95% interval and n: ``0.65 [0.52–0.78] n=4``;
    ``n too small (n=3)`` below :data:`MIN_N` cases."""
    tail = "" if n is None or not show_n else f" n={n}"
    if missing(x):
        return f"–{tail}"
    if n is not None and n < MIN_N:
        return f"{TOO_SMALL} (n={n})"
    d = digits_for(x) if digits is None else digits
    ci = "" if missing(lower) or missing(upper) else f" [{number(lower, d)}–{number(upper, d)}]"
    return f"{number(x, d)}{unit}{ci}{tail}"
