"""core.errors: crash logs never overwrite each other."""

from __future__ import annotations

import datetime as real_dt
from pathlib import Path

import pytest

from genaicompare.core.errors import write_crash_log


class _FrozenClock(real_dt.datetime):
    """Every call in the same instant: two crashes within one second (and one microsecond)."""

    @classmethod
    def now(cls, tz: real_dt.tzinfo | None = None) -> _FrozenClock:
        return cls(2026, 1, 2, 3, 4, 5, 678901, tzinfo=tz)


def _crash(message: str) -> BaseException:
    try:
        raise RuntimeError(message)
    except RuntimeError as exc:
        return exc


def test_two_crashes_in_one_second_keep_both_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(real_dt, "datetime", _FrozenClock)
    first = write_crash_log(_crash("first crash"))
    second = write_crash_log(_crash("second crash"))
    assert first is not None and second is not None
    assert first != second
    assert "first crash" in Path(first).read_text(encoding="utf-8")
    assert "second crash" in Path(second).read_text(encoding="utf-8")
    assert len(list(Path(first).parent.glob("crash-*.log"))) == 2
