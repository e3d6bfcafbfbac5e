"""Issue 18 §2 and §13 at the unit level: known secrets redacted even when a stream splits them,
and bidi / zero-width controls made visible (never raw, never silently removed)."""

from __future__ import annotations

import pytest

from genaicompare.core.sanitize import (
    REDACTED,
    SecretFilter,
    StreamSanitizer,
    for_display,
    one_line,
    redact_secrets,
    register_secret_env,
    secret_values,
    was_redacted,
)

SECRET = "zq-unit-secret-value-77aa88bb"
TROJAN = "access = 'user\u202e \u2066// admin\u2069 \u2066'\u200b\ufeff"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_a_secret_split_across_chunks_never_leaves_the_filter(size: int) -> None:
    text = f"header: Bearer {SECRET} and again {SECRET}; sk-{SECRET[:5]} stays"
    f = SecretFilter((SECRET,))
    pieces = [f.feed(text[i : i + size]) for i in range(0, len(text), size)] + [f.flush()]
    for i in range(len(pieces)):
        assert SECRET[:10] not in "".join(pieces[: i + 1])
    assert "".join(pieces) == text.replace(SECRET, REDACTED)
    assert f.redacted


def test_a_prefix_that_turns_out_harmless_is_released() -> None:
    f = SecretFilter((SECRET,))
    assert f.feed("say zq-unit") == "say "
    assert f.feed("ed!") == "zq-united!"
    assert f.flush() == "" and not f.redacted


def test_redact_secrets_is_the_export_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GC_ODD_NAME_FOR_UNIT", SECRET)
    register_secret_env("GC_ODD_NAME_FOR_UNIT")
    assert SECRET in secret_values()
    out = redact_secrets(f"x {SECRET} y")
    assert out == f"x {REDACTED} y" and was_redacted(out)
    assert not was_redacted("plain")


@pytest.mark.parametrize(
    "char",
    [
        "\u202a",
        "\u202b",
        "\u202c",
        "\u202d",
        "\u202e",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200b",
        "\u200e",
        "\u200f",
        "\u061c",
        "\u2060",
        "\ufeff",
    ],
)
def test_bidi_and_zero_width_become_visible_placeholders(char: str) -> None:
    out = for_display(f"a{char}b")
    assert char not in out
    assert out == f"a⟨U+{ord(char):04X}⟩b"
    assert char not in one_line(f"a{char}b")


def test_trojan_source_reads_as_what_it_is() -> None:
    out = for_display(TROJAN)
    assert "⟨U+202E⟩" in out and "⟨U+2066⟩" in out and "⟨U+2069⟩" in out
    assert "⟨U+200B⟩" in out and "⟨U+FEFF⟩" in out
    assert not any(c in out for c in "\u202e\u2066\u2069\u200b\ufeff")
    # Streamed in pieces, the same.
    s = StreamSanitizer()
    assert "".join(s.feed(c) for c in TROJAN) + s.flush() == out


def test_joiners_that_scripts_and_emoji_need_stay() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert for_display(family) == family
    assert for_display("می\u200cخواهم") == "می\u200cخواهم"
