"""Untrusted text is inert: escape sequences removed (also when split across chunks), keys redacted."""

import pytest

from genaicompare.core.sanitize import (
    REDACTED,
    StreamSanitizer,
    for_display,
    one_line,
    redact,
    safe_error,
)

PAYLOADS = {
    "osc52_clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "osc8_link": "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "osc0_title": "\x1b]0;pwned title\x07",
    "csi_clear": "\x1b[2J\x1b[H",
    "decrqss": "\x1bP$qm\x1b\\",
    "csi_8bit": "\x9b2J",
    "osc_8bit": "\x9d0;title\x9c",
    "color": "\x1b[31mred\x1b[0m",
}
MARKERS = [
    "\x1b",
    "\x9b",
    "\x9d",
    "\x90",
    "\x9c",
    "\x07",
    "]52;",
    "2J",
    "pwned title",
    "$qm",
    "]8;;",
]


@pytest.mark.parametrize("name", PAYLOADS)
def test_payloads_removed(name):
    out = for_display("before " + PAYLOADS[name] + " after")
    assert out.startswith("before ") and out.endswith(" after")
    for marker in MARKERS:
        assert marker not in out, (name, marker, out)


@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_split_at_every_offset_matches_whole(name):
    text = "A " + PAYLOADS[name] + " Z"
    whole = for_display(text)
    for cut in range(len(text) + 1):
        for cut2 in range(cut, len(text) + 1):
            s = StreamSanitizer()
            out = s.feed(text[:cut]) + s.feed(text[cut:cut2]) + s.feed(text[cut2:]) + s.flush()
            assert out == whole, (name, cut, cut2)


def test_controls_replaced_newlines_and_tabs_kept():
    assert for_display("a\x00b\x08c\td\ne\r\nf\x7f") == "a\ufffdb\ufffdc\td\ne\nf\ufffd"


def test_lone_surrogates_replaced():
    assert for_display("x\ud800y") == "x\ufffdy"


def test_markup_is_left_alone_as_data():
    # Markup is neutralised by rendering as Text, not by mangling the text.
    s = "[@click=app.simulate_key('u')]x[/] [link=file:///etc/passwd]x[/link]"
    assert for_display(s) == s


def test_one_line_folds_and_truncates():
    assert one_line("a\nb\tc", 10) == "a b c"
    assert one_line("x" * 20, 10) == "x" * 9 + "…"


def test_redact_env_values_and_patterns(monkeypatch):
    monkeypatch.setenv("MY_SERVICE_API_KEY", "sentinel-0123456789-secret")
    text = (
        "401 for key sentinel-0123456789-secret at https://h/v1?key=abcdefghijkl123 "
        "Authorization: Bearer abc.def-ghi_jkl123 and sk-proj-AAAAAAAAAAAAAAAA"
    )
    out = redact(text)
    assert "sentinel-0123456789-secret" not in out
    assert "abcdefghijkl123" not in out
    assert "abc.def-ghi_jkl123" not in out
    assert "sk-proj-AAAAAAAAAAAAAAAA" not in out
    assert out.count(REDACTED) >= 4


def test_redact_leaves_ordinary_text():
    assert redact("The capital of France is Paris.") == "The capital of France is Paris."


def test_safe_error_redacts_and_strips(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-sentinel-key-000000")
    out = safe_error("bad key sk-test-sentinel-key-000000 \x1b]52;c;eA==\x07")
    assert "sentinel" not in out and "\x1b" not in out and "]52;" not in out
