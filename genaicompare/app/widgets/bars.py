"""Terminal bar charts with confidence intervals, as Rich ``Text`` (never markup).

Each bar takes two rows: the bar itself (``█`` up to the value) and, under it, its interval
(``├──┼──┤``: lower bound, value, upper bound) on the same scale, so overlapping intervals — models
that the data cannot yet tell apart — are visible at a glance.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from genaicompare.core.sanitize import one_line


def _scale(bars: list[dict[str, Any]], unit: str) -> tuple[float, float]:
    points = [b[k] for b in bars for k in ("value", "lower", "upper") if b.get(k) is not None]
    if unit == "%":
        return 0.0, 100.0
    if not points:
        return 0.0, 1.0
    lo, hi = min(points), max(points)
    if lo >= 0 and hi <= 1:  # rates and similarities
        return 0.0, 1.0
    pad = (hi - lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def bar_chart(series: dict[str, Any], width: int = 40) -> Text:
    """One chart (``{"title", "unit", "bars": [{"label", "value", "lower", "upper", "n"}]}``)."""
    bars = list(series.get("bars", []))
    unit = str(series.get("unit", ""))
    out = Text(one_line(str(series.get("title", "")), 120) + "\n", style="bold")
    if not bars:
        out.append("no data yet\n", style="dim")
        return out
    lo, hi = _scale(bars, unit)
    label_w = min(24, max(len(one_line(str(b.get("label", "")), 24)) for b in bars))

    def pos(x: float) -> int:
        return max(0, min(width - 1, round((x - lo) / (hi - lo) * (width - 1))))

    for bar in bars:
        label = one_line(str(bar.get("label", "")), 24).ljust(label_w)
        value, lower, upper = bar.get("value"), bar.get("lower"), bar.get("upper")
        out.append(label + " ", style="bold")
        if value is None:
            out.append("·" * width, style="dim")
            out.append(f"  no data (n={bar.get('n', 0)})\n", style="dim")
            out.append(" " * (label_w + 1 + width) + "\n")
            continue
        filled = pos(value) + 1
        out.append("█" * filled, style="green")
        out.append(" " * (width - filled))
        detail = f"  {value:.1f}{unit}"
        if lower is not None and upper is not None:
            detail += f"  [{lower:.1f}, {upper:.1f}]"
        detail += f"  n={bar.get('n', 0)}"
        out.append(detail + "\n")
        row = [" "] * width
        if lower is not None and upper is not None:
            a, b = pos(lower), pos(upper)
            for i in range(a, b + 1):
                row[i] = "─"
            row[a], row[b] = "├", "┤"
            row[pos(value)] = "┼"
        out.append(" " * (label_w + 1) + "".join(row) + "\n", style="cyan")
    return out
