"""Make untrusted text safe to show, and secrets impossible to leak.

Two separate jobs:

* :func:`for_display` strips terminal escape sequences (ESC/CSI/OSC/DCS/APC/PM/SOS, 8-bit C1 forms)
  and replaces other control characters, so model output, catalog text and provider errors can be
  written to a terminal or a widget without acting on it. Bidirectional and invisible format
  characters (U+202A–U+202E, U+2066–U+2069, U+200B, U+200E/F, U+061C, U+2060–U+2064, U+FEFF) can
  make text read differently from what it is ("Trojan Source", CVE-2021-42574): they become
  visible placeholders such as ``⟨U+202E⟩``, never silently removed. (ZWJ/ZWNJ stay: emoji
  sequences and several scripts need them, and they reorder nothing.) Text is *stored* as received; this is for
  display, logs and reports only. Markup is a separate concern: the UI renders such text as
  ``Text``/``Content`` (never markup), so brackets stay literal.
* :func:`redact` removes API keys: every value of an environment variable that looks like a key,
  plus common key shapes (``sk-…``, ``Bearer …``, ``?key=…``). Provider errors can echo keys,
  headers or URLs; everything that reaches the database, exports, logs or crash output passes here.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

# ESC-introduced sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL|ST), DCS/SOS/PM/APC
# (ESC P|X|^|_ ... ST), and two-character escapes (ESC + one char). The 8-bit C1 equivalents
# (0x9B CSI, 0x9D OSC, 0x90 DCS, 0x98 SOS, 0x9E PM, 0x9F APC) are handled alike.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?     # CSI
  | (?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])                  # OSC, DCS, SOS, PM, APC ...
        [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?               # ... up to BEL or ST (or the end)
  | \x1b[\x20-\x2f]*[\x30-\x7e]?                             # other ESC sequences (and a lone ESC)
    """,
    re.VERBOSE,
)
# C0 controls except tab/newline, DEL, the remaining C1 range, and lone surrogates.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_REPLACEMENT = "\ufffd"
# Bidi embeddings/overrides/isolates and marks, and invisible zero-width format characters.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def _placeholder(match: re.Match[str]) -> str:
    return f"⟨U+{ord(match.group()):04X}⟩"


def for_display(text: str) -> str:
    """Return ``text`` with escape sequences removed, other control characters replaced, and
    bidi/zero-width format characters shown as placeholders (``⟨U+202E⟩``)."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n")
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub(_REPLACEMENT, text)
    return _INVISIBLE.sub(_placeholder, text)


def one_line(text: str, limit: int = 500) -> str:
    """Sanitize and fold to a single line (for status lines, tables and logs)."""
    clean = for_display(text).replace("\n", " ").replace("\t", " ")
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


_KEY_ENV_HINT = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH)", re.I)
_KEY_PATTERNS = [
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),  # OpenAI/Anthropic style
    re.compile(r"\b(?:AIza)[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"\bhf_[A-Za-z0-9]{20,}"),  # Hugging Face tokens
    re.compile(r"\bxox[abpr]-[A-Za-z0-9\-]{10,}"),  # Slack tokens
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/\-]{8,}=*"),
    re.compile(
        r"(?i)((?:api[-_]?key|x-api-key|access[-_]?token|token|key)\s*[=:]\s*[\"']?)[^\s\"'&,;}]{8,}"
    ),
]
REDACTED = "[REDACTED]"


_SECRET_ENV_NAMES: set[str] = set()


def register_secret_env(name: str) -> None:
    """Treat environment variable ``name`` as a credential whatever its name looks like (a catalog's
    ``api_key_env`` can be any name; :class:`~genaicompare.providers.events.ModelRequest` calls this)."""
    _SECRET_ENV_NAMES.add(name)


@lru_cache(maxsize=8)
def _env_secrets(
    snapshot: tuple[tuple[str, str], ...], names: frozenset[str] = frozenset()
) -> tuple[str, ...]:
    values = {v for k, v in snapshot if (k in names or _KEY_ENV_HINT.search(k)) and len(v) >= 8}
    return tuple(sorted(values, key=len, reverse=True))


def secret_values() -> tuple[str, ...]:
    """Values of environment variables whose names look like credentials or were registered."""
    return _env_secrets(tuple(sorted(os.environ.items())), frozenset(_SECRET_ENV_NAMES))


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    """Remove every known secret value and every key-shaped token from ``text``."""
    if not text:
        return text
    for value in (*extra, *secret_values()):
        if value and value in text:
            text = text.replace(value, REDACTED)
    for pattern in _KEY_PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def redact_secrets(text: str, secrets: tuple[str, ...] | None = None) -> str:
    """The export rule, for every artifact and screen: each known secret value — a credential-like
    environment variable's value, or a catalog ``api_key_env``'s (:func:`secret_values`) — becomes
    ``[REDACTED]``. Key-shaped patterns are left alone here: they would alter legitimate text."""
    if not text:
        return text
    for value in secret_values() if secrets is None else secrets:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def was_redacted(text: str | None) -> bool:
    """True when :func:`redact_secrets` (or a stream's :class:`SecretFilter`) marked ``text``."""
    return bool(text) and REDACTED in (text or "")


class SecretFilter:
    """:func:`redact_secrets` for text that arrives in chunks, where a key may be split across
    them: ``feed`` returns what is safe to pass on now and holds back a tail that could be the
    start of a secret; :meth:`flush` releases it at the end. Secrets are read once, at creation
    (the stream's start). ``redacted`` says whether anything was replaced."""

    __slots__ = ("_held", "_secrets", "redacted")

    def __init__(self, secrets: tuple[str, ...] | None = None) -> None:
        self._secrets = secret_values() if secrets is None else secrets
        self._held = ""
        self.redacted = False

    def feed(self, chunk: str) -> str:
        if not self._secrets:
            return chunk
        text = self._held + chunk
        clean = redact_secrets(text, self._secrets)
        if clean is not text and clean != text:
            self.redacted = True
        keep = 0
        for value in self._secrets:
            start = max(0, len(clean) - len(value) + 1)
            i = clean.find(value[0], start)
            while i != -1 and len(clean) - i > keep:
                if value.startswith(clean[i:]):
                    keep = len(clean) - i
                    break
                i = clean.find(value[0], i + 1)
        if keep:
            clean, self._held = clean[:-keep], clean[-keep:]
        else:
            self._held = ""
        return clean

    def flush(self) -> str:
        text, self._held = self._held, ""
        return text


def safe_error(text: str, limit: int = 2000) -> str:
    """Redacted and single-line-safe (newlines kept) form of a provider error for storage/display."""
    out = for_display(redact(text))
    return out if len(out) <= limit else out[: limit - 1] + "…"


# An escape sequence that may still be going on at the end of a chunk: ESC or an 8-bit introducer,
# followed by anything that has not reached its terminator yet.
_OPEN_TAIL = re.compile(
    r"(?:\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*|[\]PX^_][^\x07\x1b\x9c]*|[\x20-\x2f]*)?"
    r"|[\x9b][\x30-\x3f]*[\x20-\x2f]*|[\x90\x98\x9d\x9e\x9f][^\x07\x1b\x9c]*|\r)\Z"
)
_MAX_HELD = 4096


class StreamSanitizer:
    """Sanitize text that arrives in chunks, where an escape sequence may be split across chunks.

    ``feed`` returns the display-safe text that can be shown now and holds back a trailing,
    possibly unfinished sequence until the next chunk (or :meth:`flush`) decides it. Feeding the
    chunks of a text gives the same result as ``for_display`` of the whole text.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, chunk: str) -> str:
        text = self._held + chunk
        match = _OPEN_TAIL.search(text)
        if match and len(text) - match.start() <= _MAX_HELD:
            self._held = text[match.start() :]
            text = text[: match.start()]
        else:
            self._held = ""
        return for_display(text)

    def flush(self) -> str:
        text, self._held = self._held, ""
        return for_display(text)
