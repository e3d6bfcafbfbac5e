"""Console tables that fit the terminal: never a cell squeezed to ``f…`` or a grid of empty cells.

A table is printed as it is when its natural width (every cell on one line) fits; otherwise
transposed (its rows become columns) when that fits; otherwise split into several tables, each
repeating the first column, in whichever orientation needs fewer parts. A cell is never cut: a
single column wider than the terminal folds onto more lines, whole.

Used by ``scores``, ``run``'s summary and verdict, and ``diff`` (every front end that prints a
table on a console).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

Cell = Union[str, "Text"]


def _table(
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    wrap: bool,
    limit: int | None = None,
) -> Table:
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    # A title wider than its table would wrap: the table widens to hold it (up to ``limit``).
    min_width = min(cell_len(title), limit) if title and limit else None
    tab = Table(title=Text(title) if title else None, title_justify="left", min_width=min_width)
    for i, col in enumerate(header):
        tab.add_column(
            Text(col),
            justify="left" if i == 0 else "right",
            no_wrap=not wrap,
            overflow="fold",
        )
    for row in rows:
        tab.add_row(*(c if not isinstance(c, str) else Text(c) for c in row))
    return tab


def _width(out: Console, table: Table) -> int:
    """The table's natural width: every cell on one line (a console's own measure is capped at
    its width)."""
    return out.measure(table, options=out.options.update_width(100_000)).maximum


def _chunks(
    out: Console, header: Sequence[str], rows: Sequence[Sequence[Cell]], limit: int
) -> list[list[int]]:
    """Columns 1… grouped greedily so that each group, with column 0, fits ``limit``."""
    groups: list[list[int]] = []
    current: list[int] = []
    for j in range(1, len(header)):
        trial = [*current, j]
        cols = [0, *trial]
        t = _table("", [header[c] for c in cols], [[r[c] for c in cols] for r in rows], False)
        if current and _width(out, t) > limit:
            groups.append(current)
            current = [j]
        else:
            current = trial
    if current:
        groups.append(current)
    return _balanced(out, header, rows, limit, groups)


def _balanced(
    out: Console,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    limit: int,
    groups: list[list[int]],
) -> list[list[int]]:
    """The same number of parts with the columns spread evenly, when every part still fits
    (no part left holding one lonely column)."""
    k, columns = len(groups), [j for g in groups for j in g]
    if k < 2:
        return groups
    size, extra = divmod(len(columns), k)
    even, start = [], 0
    for i in range(k):
        end = start + size + (1 if i < extra else 0)
        even.append(columns[start:end])
        start = end
    for g in even:
        cols = [0, *g]
        t = _table("", [header[c] for c in cols], [[r[c] for c in cols] for r in rows], False)
        if _width(out, t) > limit:
            return groups
    return even


def transpose(
    header: Sequence[str], rows: Sequence[Sequence[Cell]], corner: str
) -> tuple[list[str], list[list[Cell]]]:
    """Rows ↔ columns: the first column's cells become the header (``corner`` heads the labels)."""
    from rich.text import Text

    new_header = [corner, *(r[0].plain if isinstance(r[0], Text) else str(r[0]) for r in rows)]
    new_rows = [[header[j], *(r[j] for r in rows)] for j in range(1, len(header))]
    return new_header, new_rows


def print_fitted(
    out: Console,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    corner: str = "figure",
    transposable: bool = True,
) -> None:
    """``rows`` under ``header`` (column 0 names the row) as one table if it fits ``out.width``,
    else transposed (``corner`` heads the former header), else split into parts."""
    limit = out.width
    whole = _table(title, header, rows, False, limit)
    if _width(out, whole) <= limit:
        out.print(whole)
        return
    layouts = [(list(header), [list(r) for r in rows])]
    if transposable and rows:
        t_header, t_rows = transpose(header, rows, corner)
        flipped = _table(title, t_header, t_rows, False, limit)
        if _width(out, flipped) <= limit:
            out.print(flipped)
            return
        layouts.append((t_header, t_rows))
    best = min(((h, r, _chunks(out, h, r, limit)) for h, r in layouts), key=lambda hr: len(hr[2]))
    h, r, groups = best
    for k, group in enumerate(groups):
        cols = [0, *group]
        part = f"{title} ({k + 1}/{len(groups)})" if title and len(groups) > 1 else title
        cells = [[row[c] for c in cols] for row in r]
        sub = _table(part, [h[c] for c in cols], cells, False, limit)
        if _width(out, sub) > limit:  # one column alone is wider than the terminal: fold it
            sub = _table(part, [h[c] for c in cols], cells, True, limit)
        out.print(sub)


def group_columns(widths: Sequence[int], limit: int, gap: int = 2) -> list[list[int]]:
    """Columns 1… in as few groups as fit ``limit`` cells each with column 0 (``widths``: each
    column's widest cell; ``gap``: cells between columns) — for tables drawn by widgets."""
    groups: list[list[int]] = []
    current: list[int] = []
    used = widths[0] if widths else 0
    for j in range(1, len(widths)):
        if current and used + gap + widths[j] > limit:
            groups.append(current)
            current, used = [], widths[0]
        current.append(j)
        used += gap + widths[j]
    if current:
        groups.append(current)
    return groups
