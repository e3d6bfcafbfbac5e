"""An answer's Markdown style, counted once when the answer is stored.

Style control (:mod:`genaicompare.scoring.style`) holds length and Markdown formatting fixed when
it fits ratings to A/B votes. It counts each answer as FastChat's ``count_markdown_elements``
does: headers, list items and bold spans, after removing fenced code blocks. The store keeps the
counts in a narrow table beside the answers (``answer_style``, one row per content hash), so a
scores run over a million answers reads four integers per voted answer instead of re-reading and
re-scanning its text.
"""

from __future__ import annotations

import re

_CODE = re.compile(r"```[^`]*```")
# One pattern for FastChat's six ``^#{k}\s`` (k = 1…6): a line's run of 1–6 ``#`` then a space
# matches exactly one of them, so the counts are equal.
_HEADERS = re.compile(r"^#{1,6}\s", re.MULTILINE)
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD = (re.compile(r"\*\*[^*\n]+\*\*"), re.compile(r"__[^_\n]+__"))

STYLE_COLUMNS: tuple[str, ...] = ("length", "headers", "lists", "bold")
"""The ``answer_style`` columns holding :func:`style_counts`, in its order."""


def style_counts(text: str) -> tuple[int, int, int, int]:
    """(length, headers, list items, bold spans) of one answer: FastChat's
    ``count_markdown_elements`` on the text without its fenced code blocks; length in characters."""
    # The substring tests only skip patterns that cannot match (same counts, fewer scans).
    body = _CODE.sub("", text) if "```" in text else text
    return (
        len(text),
        len(_HEADERS.findall(body)) if "#" in body else 0,
        len(_ORDERED.findall(body)) + len(_UNORDERED.findall(body)),
        (len(_BOLD[0].findall(body)) if "**" in body else 0)
        + (len(_BOLD[1].findall(body)) if "__" in body else 0),
    )
