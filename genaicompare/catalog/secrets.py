"""Literal credentials in a catalog: what they look like, and the cheap tests that skip most text.

Keys come only from environment variables (``api_key_env``). A value under a credential-like name
(``api_key``, ``password``, …), a key-shaped value under ``key``/``token``, or a known key shape
anywhere (``sk-…``, ``AIza…``, ``ghp_…``, …) is an error — never echoed back in the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from genaicompare.catalog.positions import Loc, _Problem

# Key shapes that are never legitimate catalog text. Deliberately specific: prompts may talk
# about "keys" and "tokens" in prose.
_SECRET_VALUE = re.compile(
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"
    r"|\bAIza[0-9A-Za-z_\-]{30,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bhf_[A-Za-z0-9]{30,}"
    r"|\bxox[abpr]-[A-Za-z0-9\-]{10,}"
    r"|\bAKIA[0-9A-Z]{16}\b"
    r"|(?i:\bbearer\s+[A-Za-z0-9._~+/\-]{16,})"
)

# Names under which any non-empty value is a credential.
_SECRET_NAME = re.compile(
    r"(?:^|[_\-])(?:api[_\-]?key|apikey|secret|client[_\-]?secret|password|passwd|"
    r"authorization|private[_\-]?key|access[_\-]?token|auth[_\-]?token|bearer)$",
    re.I,
)

# Names under which a value is a credential when it also looks like one.
_KEYISH_NAME = re.compile(r"(?:^|[_\-])(?:key|token)$", re.I)
_KEYISH_VALUE = re.compile(r"^(?=[^\s]*[A-Za-z])(?=[^\s]*[0-9])[A-Za-z0-9_\-.+/=:]{20,}$")

# Cheap pre-filters (plain substring tests: a regex over 10 MB costs more than the parse).
_VALUE_MARKERS = (
    "sk-",
    "AIza",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "hf_",
    "xoxa-",
    "xoxb-",
    "xoxp-",
    "xoxr-",
    "AKIA",
)
_NAME_MARKERS = ("key", "token", "secret", "passw", "authoriz", "bearer")


def _may_hold_secret_value(text: str) -> bool:
    return any(m in text for m in _VALUE_MARKERS) or "bearer" in text.lower()


def _secret_markers(text: str) -> tuple[bool, Callable[[str], bool] | None]:
    """One pass over ``text`` for the secret pre-filters: :func:`_may_hold_secret_value`, and
    whether a line may hold a credential (a value marker such as ``sk-``, or a name marker such
    as ``key`` in any case) testing only the markers present anywhere in ``text`` — None when
    none is (most catalogs): each marker once on the whole text is far cheaper than every marker
    on each of 50,000 lines."""
    values = tuple(m for m in _VALUE_MARKERS if m in text)
    low = text.lower()
    names = tuple(m for m in _NAME_MARKERS if m in low)
    scan = bool(values) or "bearer" in names
    if not values and not names:
        return scan, None

    def may_hold_secret(line: str) -> bool:
        if any(m in line for m in values):
            return True
        if not names:
            return False
        low = line.lower()
        return any(m in low for m in names)

    return scan, may_hold_secret


_SECRET_MESSAGE = (
    "looks like a literal API key; keys come only from environment variables "
    "(name the variable with api_key_env)"
)


def _secret_level(name: Any) -> int:
    if not isinstance(name, str) or name.lower().endswith("_env"):
        return 0
    if _SECRET_NAME.search(name):
        return 1
    if _KEYISH_NAME.search(name):
        return 2
    return 0


def _check_secrets(obj: Any, loc: Loc, scan: bool) -> None:
    stack: list[tuple[Any, Loc, Any]] = [(obj, loc, None)]
    while stack:
        value, where, name = stack.pop()
        if isinstance(value, dict):
            for k in value:
                if scan and isinstance(k, str) and _SECRET_VALUE.search(k):
                    raise _Problem(_SECRET_MESSAGE, None, where)  # never echo the key itself
            stack.extend((v, (*where, k), k) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*where, i), name) for i, v in enumerate(value))
        elif isinstance(value, str) and value:
            level = _secret_level(name)
            if (
                level == 1
                or (level == 2 and _KEYISH_VALUE.match(value.strip()))
                or (scan and _SECRET_VALUE.search(value))
            ):
                raise _Problem(_SECRET_MESSAGE, None, where)
