"""nltk, imported without scipy.

``import nltk`` imports scipy.stats (≈1.5–3 s here, most of nltk's import time) for two optional
statistics (Fisher's exact test for collocations, ``betai``) that genaicompare never calls;
nltk falls back when scipy is missing. METEOR needs only nltk's Porter stemmer, and a headless run
waits for its first metrics on this import.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from genaicompare.core.lazy import import_without


def import_nltk() -> ModuleType:
    """The ``nltk`` package (imported once, without scipy when scipy is not yet loaded)."""
    return import_without("nltk", "scipy")


def porter_stemmer() -> Any:
    """nltk's ``PorterStemmer()`` (NLTK_EXTENSIONS mode, as METEOR and rouge-score use it)."""
    import_nltk()
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


def word_tokenizer() -> Any:
    """nltk's ``NLTKWordTokenizer()``: ``word_tokenize(text, preserve_line=True)`` without the
    punkt sentence split (punkt's data is a download; nothing is downloaded at run time)."""
    import_nltk()
    from nltk.tokenize.destructive import NLTKWordTokenizer

    return NLTKWordTokenizer()
