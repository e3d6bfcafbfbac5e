"""What an import mapped, and what it did not, with positions (``file:line:col: field: why``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class NotMapped:
    """One item of the source that is not in the catalog, and why."""

    path: str
    line: int | None
    col: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}" + (f":{self.col}" if self.col is not None else "")
        return f"{where}: {self.field}: not imported: {self.message}"


@dataclass
class ImportReport:
    """Counts of what was mapped (``prompts``, ``models``, ``assertions``, …) and every item that
    was not, in the order met."""

    mapped: Counter[str] = field(default_factory=Counter)
    not_mapped: list[NotMapped] = field(default_factory=list)

    def skip(
        self, path: str | Path, position: tuple[int, int] | None, fld: str, message: str
    ) -> None:
        line, col = position if position else (None, None)
        self.not_mapped.append(NotMapped(str(path), line, col, fld, message))

    def count(self, what: str, n: int = 1) -> None:
        self.mapped[what] += n

    def summary(self) -> str:
        parts = [f"{n} {what}" for what, n in self.mapped.items() if n]
        text = "imported " + (", ".join(parts) if parts else "nothing")
        if self.not_mapped:
            text += f"; {len(self.not_mapped)} item(s) not imported (listed above)"
        return text
