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


CONTROLS = (
    "\u009b31m 8-bit CSI, \u0080 \u009f C1; bidi \u202a\u202b\u202c\u202d\u202e "
    "\u2066\u2067\u2068\u2069; zero-width \u200b\u200c\u200d\u200e\u200f \u061c \ufeff"
)


def test_dumps_line_escapes_c1_bidi_and_zero_width_controls_as_json_does() -> None:
    line = dumps_line({"text": CONTROLS, "k\u202e": 1})
    # Not one of them is written raw: a terminal or editor showing the file obeys none of them.
    raw = [c for c in line if 0x80 <= ord(c) <= 0x9F or ord(c) in _BIDI_AND_ZERO_WIDTH]
    assert raw == []
    assert "\\u009b31m" in line and "\\u202e" in line and "\\u200b" in line
    # ...and the text is kept: any JSON parser reads back exactly what was written.
    assert json.loads(line) == {"text": CONTROLS, "k\u202e": 1}
    # Ordinary non-ASCII stays readable as itself.
    assert dumps_line({"t": "😀 ☃ é ü"}) == '{"t":"😀 ☃ é ü"}'


_BIDI_AND_ZERO_WIDTH = {
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0x200B, 0x2010),
    0x061C,
    0xFEFF,
}


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
