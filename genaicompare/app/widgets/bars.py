"""Terminal bar charts with confidence intervals, as Rich ``Text`` (never markup).

Each bar takes two rows: the bar itself (``█`` up to the value, then its figures) and, under it,
its interval (``├──┼──┤``: lower bound, value, upper bound) on the same scale, so overlapping
intervals — models that the data cannot yet tell apart — are visible at a glance.

A bar starts at a real zero (rates, latencies: ``"zero": 0.0`` in the series). A measure without
one (a Bradley–Terry rating) starts at the lowest lower bound, and the chart says so in a line
under its title: a bar's length is then a distance from that start, not a quantity.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text

from genaicompare.core.sanitize import one_line

MIN_BAR = 10
"""Bars are at least this many cells long, however narrow the screen."""


def _scale(bars: list[dict[str, Any]], unit: str, zero: float | None) -> tuple[float, float]:
    points = [b[k] for b in bars for k in ("value", "lower", "upper") if b.get(k) is not None]
    if unit == "%":
        return 0.0, 100.0
    if not points:
        return 0.0, 1.0
    hi = max(points)
    if zero is not None:  # a real zero: the bar's length is the quantity
        lo = min(zero, min(points))
        return lo, hi if hi > lo else lo + 1.0
    lo = min(points)
    pad = (hi - lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def _detail(bar: dict[str, Any], unit: str) -> str:
    value, lower, upper = bar.get("value"), bar.get("lower"), bar.get("upper")
    if value is None:
        return f"  no data (n={bar.get('n', 0)})"
    text = f"  {value:.1f}{unit}"
    if lower is not None and upper is not None:
        text += f"  [{lower:.1f}, {upper:.1f}]"
    return text + f"  n={bar.get('n', 0)}"


def bar_chart(series: dict[str, Any], width: int = 40, total: int | None = None) -> Text:
    """One chart (``{"title", "unit", "zero", "bars": [{"label", "value", "lower", "upper",
    "n"}]}``). ``width``: the bars' cells; with ``total`` (the cells available for a whole
    row) the bars shrink so that label, bar and figures fit on one line."""
    bars = list(series.get("bars", []))
    unit = str(series.get("unit", ""))
    zero = series.get("zero", 0.0 if unit == "%" else None)
    out = Text(one_line(str(series.get("title", "")), 120) + "\n", style="bold")
    if not bars:
        out.append("no data yet\n", style="dim")
        return out
    lo, hi = _scale(bars, unit, zero)
    label_w = min(24, max(len(one_line(str(b.get("label", "")), 24)) for b in bars))
    if total is not None:
        detail_w = max(cell_len(_detail(b, unit)) for b in bars)
        width = max(MIN_BAR, min(width, total - label_w - 1 - detail_w))
    if zero is None or lo != zero:
        out.append(
            f"bars start at {lo:,.0f}{unit} (this measure has no zero); "
            "the whisker under each bar is its 95% interval on the same scale\n",
            style="dim",
        )

    def pos(x: float) -> int:
        return max(0, min(width - 1, round((x - lo) / (hi - lo) * (width - 1))))

    for bar in bars:
        label = one_line(str(bar.get("label", "")), 24).ljust(label_w)
        value, lower, upper = bar.get("value"), bar.get("lower"), bar.get("upper")
        out.append(label + " ", style="bold")
        if value is None:
            out.append("·" * width, style="dim")
            out.append(_detail(bar, unit) + "\n", style="dim")
            out.append(" " * (label_w + 1 + width) + "\n")
            continue
        filled = pos(value) + 1
        out.append("█" * filled, style="green")
        out.append(" " * (width - filled))
        out.append(_detail(bar, unit) + "\n")
        row = [" "] * width
        if lower is not None and upper is not None:
            a, b = pos(lower), pos(upper)
            for i in range(a, b + 1):
                row[i] = "─"
            row[a], row[b] = "├", "┤"
            row[pos(value)] = "┼"
        out.append(" " * (label_w + 1) + "".join(row) + "\n", style="cyan")
    return out
