"""Read back the tables a command printed (rich's heavy-head box: ┏ ┃ ┡ │ └), as a person reads
them: title, header, rows of cells. And the checks every console table must pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Table:
    title: str
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    """The table's own lines (borders included), as printed."""

    def column(self, name: str) -> list[str]:
        i = self.header.index(name)
        return [r[i] for r in self.rows]

    def row(self, key: str) -> dict[str, str]:
        """The row whose first cell is ``key``, by column name."""
        for r in self.rows:
            if r[0] == key:
                return dict(zip(self.header, r, strict=True))
        raise KeyError(f"no row {key!r} in {self.title!r}: {[r[0] for r in self.rows]}")


def _cells(line: str, bar: str) -> list[str]:
    return [c.strip() for c in line.strip().strip(bar).split(bar)]


def parse_tables(text: str) -> list[Table]:
    """Every table in ``text``; a table's title is the line just above its top border."""
    tables: list[Table] = []
    lines = text.splitlines()
    current: Table | None = None
    in_head = False
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("┏"):
            title = lines[i - 1].strip() if i else ""
            current = Table(title, lines=[line])
            tables.append(current)
            in_head = True
        elif current is None:
            continue
        elif s.startswith("┃") and in_head:
            current.lines.append(line)
            cells = _cells(s, "┃")
            if not current.header:
                current.header = cells
            else:  # a wrapped header: join the pieces
                current.header = [
                    f"{a} {b}".strip() for a, b in zip(current.header, cells, strict=False)
                ]
        elif s.startswith("┡"):
            current.lines.append(line)
            in_head = False
        elif s.startswith("│"):
            current.lines.append(line)
            current.rows.append(_cells(s, "│"))
        elif s.startswith("└"):
            current.lines.append(line)
            current = None
    return tables


def table(text: str, title_starts: str) -> list[Table]:
    """The tables whose title starts with ``title_starts`` (a split table gives several)."""
    found = [t for t in parse_tables(text) if t.title.startswith(title_starts)]
    assert found, f"no table titled {title_starts!r} in:\n{text}"
    return found


def merged(text: str, title_starts: str, keys: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """A table printed in parts (split to fit), joined back: first cell → column → cell. With
    ``keys`` (the row names, e.g. the models), a transposed table (``keys`` in its header) is
    turned back, so the result reads the same whichever way the table was printed."""
    out: dict[str, dict[str, str]] = {}
    for t in table(text, title_starts):
        flipped = bool(keys) and set(t.header[1:]) <= set(keys)
        for r in t.rows:
            if flipped:
                for key, cell in zip(t.header[1:], r[1:], strict=True):
                    out.setdefault(key, {})[r[0]] = cell
            else:
                out.setdefault(r[0], {}).update(zip(t.header[1:], r[1:], strict=True))
    return out


def assert_readable(text: str, columns: int) -> None:
    """What every console table must be: no line wider than the terminal; a header printed on
    one line (no header cell left empty); no cell empty, none cut to ``…``, none squeezed to one
    character (a one-character cell is a digit or a dash)."""
    lines = text.splitlines()
    assert max((len(line) for line in lines), default=0) <= columns, "a line is too wide"
    tables = parse_tables(text)
    assert tables, "no table"
    for t in tables:
        head = [line for line in t.lines if line.strip().startswith("┃")]
        assert len(head) == 1, f"{t.title!r}: header wrapped over {len(head)} lines"
        for cell in t.header:
            assert cell, f"{t.title!r}: an empty header cell: {t.header}"
        for r in t.rows:
            assert len(r) == len(t.header), f"{t.title!r}: {r}"
            for cell in r:
                assert cell, f"{t.title!r}: an empty cell in {r}"
                assert not cell.endswith("…"), f"{t.title!r}: a cut cell {cell!r}"
                assert len(cell) > 1 or cell.isdigit() or cell == "–", f"{t.title!r}: {cell!r}"
