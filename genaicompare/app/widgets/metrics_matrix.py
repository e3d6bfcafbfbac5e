"""The metrics matrix under the panes: metrics as rows (grouped by family), models as columns.

Families top to bottom: assertions (✓/✗), judge, reference metrics, semantic, safety,
readability, operational. The best value of a row is marked ★ (direction-aware: higher ROUGE,
lower latency); a metric an answer lacks says why (``no reference``, ``error answer`` …). The
focused cell's full story (an assertion's reason, why a value is absent) shows on the line under
the table. Which rows show, and in which order, is the user's (the metric picker, ``M``).

Redrawn a few times a second while answers stream: a redraw updates only the cells that changed
(rebuilding the table re-measures it and re-lays out the screen). How a metric reads (family,
direction, label, format, absence) is :mod:`genaicompare.metrics.display` — imported on the first
draw, after the first paint (the metrics package pulls numpy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Static

from genaicompare.app.widgets.response_pane import STATE_LABELS
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from genaicompare.catalog import Prompt
    from genaicompare.metrics.assertions import AssertionResult
    from genaicompare.session.slots import Slot

FAMILY_SHORT = {
    "assertions": "test",
    "judge": "judge",
    "reference": "ref",
    "semantic": "sem",
    "safety": "safe",
    "readability": "read",
    "operational": "ops",
}
LABEL_WIDTH = 16

# (text, style, detail): what a cell shows, how, and what the line under the table says on focus.
Cell = tuple[str, str, str]


@dataclass
class Column:
    """One pane's answer as the matrix reads it (built by :func:`column`)."""

    title: str
    values: Mapping[str, float | None]
    """Metric name → value: the answer's final metrics and its record's operational figures, or
    its live (lexical) ones while it streams."""
    answer: Any
    """A :class:`genaicompare.metrics.display.Answer` (why a metric is absent)."""
    state: str = ""
    live: bool = False
    """``values`` are live: the answer is still streaming."""
    local: bool = False
    """A local model: its cost is ``free``."""
    blind: bool = False
    """Names are hidden: cost (and cache state) must not tell models apart."""
    assertions: list[AssertionResult] | None = None
    """The prompt's assertions for this answer; None until they can be evaluated."""
    asserted: Mapping[str, str] = field(default_factory=dict)
    """The prompt's ``assert`` block, key → condition as written (the assertion rows)."""


def column(
    title: str,
    slot: Slot | None,
    chunks: int,
    prompt: Prompt,
    *,
    blind: Mapping[str, str] | None = None,
    local: bool = False,
    selected: Sequence[str] | None = None,
    judge_mode: str | None = None,
    models: int = 2,
) -> Column:
    """The matrix column of one pane: ``slot`` its answer (None before it is asked), ``chunks``
    its token count while streaming, ``blind`` alias → pane letter while names are hidden."""
    from genaicompare.metrics.display import Answer

    r = slot.record if slot is not None else None
    values: dict[str, float | None] = {}
    live = r is None
    # A finished answer's live values are stale: until its own metrics arrive, it is
    # "computing…", never the last live figure.
    if slot is not None and (r is None or slot.metrics_arrived):
        values.update(slot.metrics)
    elif slot is not None:  # finished, computing: what needs no model is there already
        values.update(slot.first_metrics)
    if r is not None:
        values.update(
            ttft_ms=r.ttft_ms,
            latency_ms=r.latency_ms,
            tokens_out=float(r.tokens_out) if r.tokens_out is not None else None,
            tokens_in=float(r.tokens_in) if r.tokens_in is not None else None,
            tokens_per_s=r.tokens_per_s,
            cost_usd=r.cost_usd,
        )
    elif slot is not None and slot.state == "streaming":
        values["tokens_out"] = float(chunks)
    if blind is not None:
        values = {_unnamed(k, blind): v for k, v in values.items()}
    state = _state(slot, blind is not None)
    finished = r is not None
    answer = Answer(
        state=r.state.value
        if r is not None
        else None
        if slot and slot.state != "queued"
        else "queued",
        metrics=values,
        has_reference=prompt.reference is not None,
        has_context=bool(prompt.context_passages),
        pending=slot is not None
        and finished
        and not slot.metrics_arrived
        and r is not None
        and r.ok,
        selected=selected,
        judge_mode=judge_mode,
        models=models,
        alias=(blind.get(slot.alias) if blind else slot.alias) if slot is not None else None,
    )
    if slot is not None and state:
        values["state"] = 0.0  # the row shows the text; 0.0 only marks it present
    assertions = None
    if prompt.assert_ and r is not None:
        evaluable = (slot is not None and slot.metrics_arrived) or not r.ok
        if evaluable or (slot is not None and slot.first_metrics):
            # Lazy, and only for a finished answer: the metrics engine (numpy, rapidfuzz) these
            # import is then loaded already by the thread that computed the answer's metrics;
            # imported while the first tokens stream, it held the UI thread for ≈0.1–0.2 s.
            from genaicompare.gate.cases import evaluate_assertions
            from genaicompare.metrics.assertions import TEXT_CHECKS

            assertions = evaluate_assertions(prompt.assert_, values, r)
            if not evaluable:
                # Computing: the checks of the text and of the metrics already here are final;
                # the others wait (their cells say "computing…").
                assertions = [
                    a for a in assertions if a.name in TEXT_CHECKS or values.get(a.name) is not None
                ]
    return Column(
        title=one_line(title, 24),
        values=values,
        answer=answer,
        state=state,
        live=live and slot is not None and slot.state == "streaming",
        local=local,
        blind=blind is not None,
        assertions=assertions,
        asserted={k: _condition(v) for k, v in (prompt.assert_ or {}).items()},
    )


class MetricsMatrix(Vertical):
    """The matrix (a :class:`DataTable`) and, while it has focus, the focused cell's detail."""

    DEFAULT_CSS = """
    MetricsMatrix { height: auto; }
    MetricsMatrix > DataTable { height: auto; max-height: 8; }
    MetricsMatrix > #matrix-why { height: 1; color: $text-muted; display: none; }
    /* Focused, the table gives its last row to the detail line, so the line is never clipped. */
    MetricsMatrix.-focused > DataTable { max-height: 7; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: Sequence[str] | None = None
        """Row keys shown, in order (None: :data:`genaicompare.metrics.display.DEFAULT_ROWS`)."""
        self._shape: tuple[tuple[str, ...], tuple[str, ...], bool] | None = None
        self._first = 2
        """The table's first value column (after "family" and "metric"; 1 without "family")."""
        self._columns: Sequence[Column] = ()
        self._widths: list[int] = []
        self._cells: list[list[Cell]] = []
        self._names: list[str] = []
        self.available: set[str] = set()
        """Every row key an answer of the current prompt has (the picker lists these first)."""

    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable(
            id="matrix-table", cursor_type="cell", zebra_stripes=True, show_cursor=False
        )
        yield table
        yield Static(id="matrix-why", markup=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#matrix-table", DataTable)

    # -- reading (tests, and the detail line) ----------------------------------------------------
    def rows(self) -> dict[str, list[str]]:
        """Row name → each column's text as shown (merged family rows by their label)."""
        return {
            name: [c[0] for c in cells]
            for name, cells in zip(self._names, self._cells, strict=True)
        }

    def headers(self) -> list[str]:
        return list(self._shape[0]) if self._shape else []

    # -- drawing ---------------------------------------------------------------------------------
    def draw(self, columns: Sequence[Column]) -> None:
        from genaicompare.metrics import display  # lazy: the metrics package pulls numpy

        self._columns = columns = _symmetric(columns)
        names, labels, cells = _layout(display, columns, self.keys or display.DEFAULT_ROWS)
        # Too wide for its box (many models, a narrow terminal): the family column goes first,
        # so more models fit before the table scrolls sideways.
        widths = _widths(columns, cells, names)
        family = _width(labels, widths) <= (self.size.width or 10_000)
        self.available = {display.key(n) for c in columns for n in c.values}
        self.available |= {"assertions"} if any(c.asserted for c in columns) else set()
        headers = tuple(c.title for c in columns)
        shape = (headers, tuple(labels), family)
        table = self.table
        theme = self.app.theme_variables
        styles = {
            "pass": f"bold {theme.get('success', 'green')}",
            "fail": f"bold {theme.get('error', 'red')}",
            "best": f"bold {theme.get('accent', '')}".strip(),
        }
        if shape != self._shape or table.row_count != len(labels):
            self._shape, self._cells, self._names = shape, cells, names
            at = table.cursor_coordinate  # a row that appears must not send the reader to the top
            table.clear(columns=True)
            self._first = 2 if family else 1
            if family:
                table.add_column(Text("family"), key="family")
            table.add_column(Text("metric"), key="metric")
            self._widths = widths
            for i, title in enumerate(headers):
                table.add_column(Text(title, style="bold"), key=f"c{i}", width=widths[i])
            previous = ""
            for name, row_label, row in zip(names, labels, cells, strict=True):
                fam = display.family(name) if not name.startswith("family:") else name[7:]
                shown = FAMILY_SHORT.get(fam, fam) if fam != previous else ""
                previous = fam
                table.add_row(
                    *([Text(shown, style="dim")] if family else []),
                    Text(row_label),
                    *(_text(text, styles.get(style, style)) for text, style, _ in row),
                )
            if labels:
                table.move_cursor(row=min(at.row, len(labels) - 1), column=at.column, animate=False)
            self._show_detail()
            return
        if any(w > was for w, was in zip(widths, self._widths, strict=True)):
            self._shape = None  # a value needs a wider column: lay the table out again
            self.draw(columns)
            return
        # Only the cells that changed: rebuilding the table re-measures and re-lays it out.
        old, self._cells, self._names = self._cells, cells, names
        for y, (row, before) in enumerate(zip(cells, old, strict=True)):
            for x, (cell, was) in enumerate(zip(row, before, strict=True)):
                if cell[:2] != was[:2]:
                    table.update_cell_at(
                        Coordinate(y, x + self._first), _text(cell[0], styles.get(cell[1], cell[1]))
                    )
        self._show_detail()

    def on_resize(self) -> None:
        if self._columns:  # the family column may fit again, or no longer
            self.draw(self._columns)

    @on(DataTable.CellHighlighted)
    def _highlighted(self, event: DataTable.CellHighlighted) -> None:
        event.stop()
        self._show_detail()

    def on_descendant_focus(self) -> None:
        self.table.show_cursor = True
        self.add_class("-focused")
        self.query_one("#matrix-why").display = True
        self._show_detail()

    def on_descendant_blur(self) -> None:
        self.table.show_cursor = False
        self.remove_class("-focused")
        self.query_one("#matrix-why").display = False

    def _show_detail(self) -> None:
        at = self.table.cursor_coordinate
        text = ""
        if 0 <= at.row < len(self._cells):
            row = self._cells[at.row]
            first = self._first
            if at.column >= first and at.column - first < len(row):
                text = row[at.column - first][2]
            elif row:
                text = " · ".join(f"{h}: {c[2]}" for h, c in zip(self.headers(), row, strict=False))
        self.query_one("#matrix-why", Static).update(Text(one_line(text, 400)))


def _symmetric(columns: Sequence[Column]) -> list[Column]:
    """``similarity_to:B`` of answer A is ``similarity_to:A`` of answer B (a cosine): an answer
    scored before B finished has it from B's side, so the matrix never says "not computed" for a
    pair it shows from the other side."""
    out = list(columns)
    for i, c in enumerate(columns):
        if c.live or c.answer.alias is None:
            continue
        filled = dict(c.values)
        for o in columns:
            if o is c or o.live or o.answer.alias is None:
                continue
            mine, theirs = f"similarity_to:{o.answer.alias}", f"similarity_to:{c.answer.alias}"
            if filled.get(mine) is None and o.values.get(theirs) is not None:
                filled[mine] = o.values[theirs]
        if len(filled) != len(c.values) or filled != c.values:
            out[i] = replace(c, values=filled, answer=replace(c.answer, metrics=filled))
    return out


REASON_WIDTH = 10
"""A cell that says why there is no value (``computing…``, ``no checkpoint``) is cut to this
width (with an ellipsis; the detail line under the focused cell says it whole), so reasons do not
push models off the screen. Values are never cut."""


def _text(text: str, style: str) -> Text:
    return Text(text, style=style, no_wrap=True, overflow="ellipsis")


def _is_reason(cell: Cell) -> bool:
    _, style, detail = cell  # a live value is dim italic too, and says so
    return style == "dim italic" and not detail.endswith("(live, while streaming)")


def _widths(
    columns: Sequence[Column], cells: Sequence[Sequence[Cell]], names: Sequence[str]
) -> list[int]:
    """Each value column's width: its title, its values whole, its reasons and states cut."""
    from rich.cells import cell_len

    out = []
    for i, c in enumerate(columns):
        sizes = [cell_len(c.title), 4]
        for name, row in zip(names, cells, strict=True):
            if i < len(row):
                size = cell_len(row[i][0])
                cut = _is_reason(row[i]) or name == "state"
                sizes.append(min(size, REASON_WIDTH) if cut else size)
        out.append(max(sizes))
    return out


def _width(labels: Sequence[str], widths: Sequence[int]) -> int:
    """The table's width with its family column (1 cell of padding on each side of each column,
    as :class:`DataTable` lays it out, and a vertical scrollbar)."""
    from rich.cells import cell_len

    label = max((cell_len(label) for label in labels), default=6)
    return sum(w + 2 for w in (6, label, *widths)) + 2


def _layout(
    display: Any, columns: Sequence[Column], keys: Sequence[str]
) -> tuple[list[str], list[str], list[list[Cell]]]:
    """(row names, row labels, cells): the rows ``keys`` ask for that say something, in order,
    with the rows of a family that every answer lacks for one reason merged into one."""
    from genaicompare.metrics.assertions import TEXT_CHECKS  # lazy: numpy (metrics)

    present: set[str] = set()
    for c in columns:
        present |= set(c.values)
        present |= {f"{display.ASSERT_PREFIX}{k}" for k in c.asserted}
    present |= {k for k in keys if not k.endswith(":*") and k != "assertions"}
    if any(c.blind for c in columns):
        present.discard("cost_usd")  # a price (or "free") tells models apart: no row while blind
    names = display.ordered(present, keys)
    rows: list[tuple[str, list[Cell], set[str] | None]] = []
    for name in names:
        cells, reasons = _row(display, name, columns)
        # Nobody was asked for it (an answer that failed or streams says nothing of the metric).
        told = {r for r in reasons or () if r not in ("streaming", "waiting")}
        told = {r for r in told if not r.endswith(" answer")}
        if told and told <= display.HIDDEN_REASONS:
            continue
        rows.append((name, cells, reasons))
    out_names: list[str] = []
    labels: list[str] = []
    out_cells: list[list[Cell]] = []
    i = 0
    while i < len(rows):
        name, cells, reasons = rows[i]
        j = i + 1
        fam = display.family(name)
        if reasons is not None and fam != "operational":
            same = [c[0] for c in cells]
            while (
                j < len(rows)
                and display.family(rows[j][0]) == fam
                and rows[j][2] is not None
                and [c[0] for c in rows[j][1]] == same
            ):
                j += 1
        if j - i >= 2:
            merged = [display.label(n) for n, _, _ in rows[i:j]]
            out_names.append(f"family:{fam}")
            labels.append(f"{display.FAMILY_LABELS[fam]} ({j - i})")
            detail = ", ".join(merged)
            out_cells.append([(t, s, f"{d}: {detail}") for t, s, d in cells])
        else:
            out_names.append(name)
            out_cells.append(cells)
            spec = name[len(display.ASSERT_PREFIX) :]
            if name.startswith(display.ASSERT_PREFIX):
                cond = next((c.asserted[spec] for c in columns if spec in c.asserted), "")
                text_check = spec in TEXT_CHECKS and cond[:1] not in "<>=!"
                labels.append(f"{spec if text_check else display.label(spec)} {cond}")
            else:
                labels.append(display.label(name))
        i = j
    return out_names, [one_line(label, LABEL_WIDTH) for label in labels], out_cells


def _row(display: Any, name: str, columns: Sequence[Column]) -> tuple[list[Cell], set[str] | None]:
    """One row's cells, and the set of absence reasons when no column has a value (else None)."""
    if name.startswith(display.ASSERT_PREFIX):
        return _assertion_row(display, name[len(display.ASSERT_PREFIX) :], columns), None
    reasons: set[str] = set()
    cells: list[Cell] = []
    numbers: list[float | None] = []
    any_value = False
    for c in columns:
        value = c.values.get(name)
        why = display.absent_reason(name, c.answer)
        if name == "state" and c.state:
            why = None
        if why is not None:
            reasons.add(why)
            # "error answer" reads "error" in a cell (the column is the answer); whole below.
            shown = why.removesuffix(" answer")
            cells.append((shown, "dim italic", f"{display.label(name)}: {why}"))
            numbers.append(None)
            continue
        any_value = True
        if name == "state":
            cells.append((c.state, "", f"state: {c.state}"))
            numbers.append(None)
            continue
        text = display.format_value(name, value, local=c.local)
        style = "dim italic" if c.live else "fail" if name == "judge_error" else ""
        detail = f"{display.label(name)} = {text}" + (" (live, while streaming)" if c.live else "")
        cells.append((text, style, detail))
        failed = c.answer.state not in (None, "queued", "complete", "length", "content_filter")
        numbers.append(None if c.live or failed else value)
    winners = display.best(name, numbers)
    # What reads the same is as good: 62.1 ms and 62.4 ms both show "62 ms".
    shown = {cells[i][0] for i in winners}
    winners = {i for i, v in enumerate(numbers) if v is not None and cells[i][0] in shown}
    if len(winners) == sum(v is not None for v in numbers):
        winners = set()
    way = display.direction(name)
    for i in winners:
        text, _, detail = cells[i]
        cells[i] = (f"★ {text}", "best", f"{detail} — best ({way} is better)")
    return cells, (None if any_value else reasons)


def _assertion_row(display: Any, spec_key: str, columns: Sequence[Column]) -> list[Cell]:
    cells: list[Cell] = []
    for c in columns:
        result = next((a for a in c.assertions or () if a.name == spec_key), None)
        if result is None:
            why = display.absent_reason(f"{display.ASSERT_PREFIX}{spec_key}", c.answer)
            why = why if why not in (None, "not computed") else "computing…"
            cells.append((why, "dim italic", f"{spec_key}: {why}"))
            continue
        mark = "✓" if result.passed else "✗"
        shown = mark
        if result.value is not None:
            shown = f"{mark} {display.format_value(spec_key, result.value, local=c.local)}"
        style = "pass" if result.passed else "fail"
        cells.append((shown, style, f"{'pass' if result.passed else 'FAIL'}: {result.reason}"))
    return cells


def _condition(spec: Any) -> str:
    if isinstance(spec, bool):
        return "true" if spec else "false"
    return one_line(str(spec), 30)


def _state(slot: Slot | None, blind: bool) -> str:
    if slot is None:
        return ""
    if slot.record is None:
        return "waiting" if slot.state == "queued" else slot.state
    label = STATE_LABELS.get(slot.record.state.value, slot.record.state.value)
    if not slot.cached or blind:
        return label
    return "stored" if label == "complete" else f"{label} · stored"  # from the database


def _unnamed(name: str, letters: Mapping[str, str]) -> str:
    base, sep, alias = name.partition(":")
    return f"{base}:{letters[alias]}" if sep and alias in letters else name
