"""nltk, imported without scipy.

``import nltk`` imports scipy.stats (≈1.5–3 s here, most of nltk's import time) for two optional
statistics (Fisher's exact test for collocations, ``betai``) that genaicompare never calls;
nltk falls back when scipy is missing. METEOR needs only nltk's Porter stemmer, and a headless run
waits for its first metrics on this import. So scipy is hidden for the duration of nltk's import
unless it is already loaded; anything importing scipy afterwards gets it as usual.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

_lock = threading.Lock()


def import_nltk() -> Any:
    """The ``nltk`` package (imported once, without scipy when scipy is not yet loaded)."""
    with _lock:
        if "nltk" in sys.modules or "scipy" in sys.modules:
            import nltk

            return nltk
        sys.modules["scipy"] = None  # type: ignore[assignment]  # "import scipy" → ImportError
        try:
            import nltk
        finally:
            if sys.modules.get("scipy", 0) is None:
                del sys.modules["scipy"]
        return nltk


def porter_stemmer() -> Any:
    """nltk's ``PorterStemmer()`` (NLTK_EXTENSIONS mode, as METEOR and rouge-score use it)."""
    import_nltk()
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()
