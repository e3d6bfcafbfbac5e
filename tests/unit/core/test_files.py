"""core/files: the one atomic writer, and JSON lines no line splitter breaks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from genaicompare.core.files import dumps_line, write_atomic

HOSTILE = 'line\u2028sep\u2029para \x85nel "quoted" \\back\\ \x1b[31mred\x1b[0m tab\t😀 𝄞 ☃ \u0000'


def test_dumps_line_round_trips_every_string() -> None:
    s = HOSTILE + "\ud800 lone"  # a lone surrogate too
    line = dumps_line({"k": s})
    assert "\n" not in line and len(line.splitlines()) == 1  # no splitter sees a break
    assert json.loads(line)["k"] == s


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old content\n")

    def boom():  # type: ignore[no-untyped-def]
        yield "a"
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomic(target, boom())
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left
    assert write_atomic(target, ["x", "y"]) == 2 and target.read_text() == "x\ny\n"


def test_a_failed_rename_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old content\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, ["new"])
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_the_folder_is_fsynced_after_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import genaicompare.core.files as files

    calls: list[str] = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b)))
    monkeypatch.setattr(files, "fsync_dir", lambda folder: calls.append(f"fsync {folder}"))
    write_atomic(tmp_path / "x.txt", "x")
    assert calls == ["replace", f"fsync {tmp_path}"]
