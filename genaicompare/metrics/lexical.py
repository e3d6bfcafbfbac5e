"""Reference-based lexical metrics, equal (to 1e-9) to the libraries that define them.

Each text is tokenised once (:class:`Prepared`) and the tokens are shared by every metric, which
is where most of the speed over calling rouge-score + sacrebleu separately comes from; n-grams
are counted with ``Counter`` over ``zip`` and ROUGE-L's LCS comes from rapidfuzz's ``LCSseq``.

Definitions (the reference implementation in brackets; tests compare against it):

* ``rouge1`` / ``rouge2`` / ``rougeL`` — F1 [rouge-score ``RougeScorer``, default tokenizer:
  lowercase, every run of characters outside ``[a-z0-9]`` is a separator; no stemmer unless
  ``stem=True``, which uses nltk's Porter stemmer on tokens longer than 3 like rouge-score].
* ``bleu`` — 0–100 [sacrebleu ``sentence_bleu`` defaults: 13a tokenizer, ``exp`` smoothing,
  effective order].
* ``chrf`` — 0–100 [sacrebleu ``sentence_chrf`` defaults: character 6-grams, β = 2, whitespace
  removed, no word n-grams].
* ``meteor`` — [nltk ``meteor_score`` on whitespace tokens, lowercased, with WordNet 3.0]; without
  WordNet it is ``meteor_nosyn`` (exact + Porter-stem matching only).
* ``exact_match`` — 1.0 when the SQuAD-normalised texts are equal. SQuAD v1.1 ``normalize_answer``:
  lowercase, remove ASCII punctuation (``string.punctuation``), remove the articles
  ``a``/``an``/``the`` as whole words, collapse whitespace.
* ``contains`` — 1.0 when the normalised reference occurs in the normalised output on word
  boundaries (an empty normalised reference is contained only in an empty output).
* ``token_precision`` / ``token_recall`` / ``token_f1`` — SQuAD v2.0 token overlap of the
  normalised texts (if either side has no tokens, 1.0 when both have none, else 0.0).
* ``fuzzy_ratio`` / ``token_set_ratio`` — 0–100 [rapidfuzz ``fuzz.ratio`` /
  ``fuzz.token_set_ratio``, no processor: case-sensitive].
"""

from __future__ import annotations

import math
import re
import string
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

VERSION = "1"

REFERENCE_METRICS: tuple[str, ...] = (
    "exact_match",
    "contains",
    "token_precision",
    "token_recall",
    "token_f1",
    "rouge1",
    "rouge2",
    "rougeL",
    "bleu",
    "chrf",
    "meteor",
    "fuzzy_ratio",
    "token_set_ratio",
)
"""Every lexical metric name (``meteor`` is reported as ``meteor_nosyn`` without WordNet)."""

# -- tokenisers -------------------------------------------------------------------------------

_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# sacrebleu's 13a tokenizer (mteval-v13a), the same rules in the same order. The first rule
# matches single characters (every space among them), so it is a str.translate table: the same
# output without a Python-level template expansion per match (the bulk of sacrebleu's time).
_13A_FIRST = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_13A_TABLE = {c: f" {chr(c)} " for c in range(128) if _13A_FIRST.fullmatch(chr(c))}
_13A_DOT_AFTER_NONDIGIT = re.compile(r"([^0-9])([\.,])")
_13A_DOT_BEFORE_NONDIGIT = re.compile(r"([\.,])([^0-9])")
_13A_DASH_AFTER_DIGIT = re.compile(r"([0-9])(-)")

_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def rouge_tokens(text: str, stemmer: Callable[[str], str] | None = None) -> list[str]:
    """rouge-score's default tokenizer (``rouge_score.tokenize.tokenize``)."""
    tokens = _ROUGE_NON_ALNUM.sub(" ", text.lower()).split()
    if stemmer is not None:
        tokens = [stemmer(t) if len(t) > 3 else t for t in tokens]
        tokens = [t for t in tokens if t and _ROUGE_NON_ALNUM.search(t) is None]
    return tokens


def tokenize_13a(line: str) -> list[str]:
    """sacrebleu's ``Tokenizer13a`` applied to ``line.rstrip()`` (as BLEU does), split."""
    line = line.rstrip()
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = (
            line.replace("&quot;", '"')
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
        )
    line = f" {line} ".translate(_13A_TABLE)
    if "." in line or "," in line:
        line = _13A_DOT_AFTER_NONDIGIT.sub(r"\1 \2 ", line)
        line = _13A_DOT_BEFORE_NONDIGIT.sub(r" \1 \2", line)
    if "-" in line:
        line = _13A_DASH_AFTER_DIGIT.sub(r"\1 \2 ", line)
    return line.split()


_SQUAD_PUNCT_TABLE = str.maketrans("", "", string.punctuation)


def squad_normalize(text: str) -> str:
    """SQuAD v1.1 ``normalize_answer`` (punctuation removal as a C-level translate)."""
    text = text.lower().translate(_SQUAD_PUNCT_TABLE)
    text = _SQUAD_ARTICLES.sub(" ", text)
    return " ".join(text.split())


# -- prepared text ----------------------------------------------------------------------------


def _ngram_counts(tokens: Sequence[Hashable], n: int) -> Counter[Any]:
    if n == 1:
        return Counter(tokens)
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def _char_ngrams(line: str, n: int) -> Counter[str]:
    if n == 1:
        return Counter(line)
    size = len(line)
    return Counter(map(line.__getitem__, map(slice, range(size - n + 1), range(n, size + 1))))


class Prepared:
    """One text tokenised for the lexical metrics: each view computed once, on first use, and
    shared by every metric that needs it (a cached reference serves every model and tick)."""

    __slots__ = ("_bleu", "_chrf", "_rouge", "_squad", "_stemmer", "_words", "text")

    def __init__(self, text: str, stemmer: Callable[[str], str] | None = None) -> None:
        self.text = text
        self._stemmer = stemmer
        self._rouge: tuple[list[str], Counter[str], Counter[Any]] | None = None
        self._bleu: tuple[int, tuple[Counter[Any], ...]] | None = None
        self._chrf: tuple[str, Any] | None = None
        self._squad: tuple[str, list[str]] | None = None
        self._words: list[str] | None = None

    @property
    def rouge(self) -> tuple[list[str], Counter[str], Counter[Any]]:
        """rouge-score tokens, their unigram and bigram counts."""
        if self._rouge is None:
            toks = rouge_tokens(self.text, self._stemmer)
            self._rouge = (toks, Counter(toks), _ngram_counts(toks, 2))
        return self._rouge

    @property
    def bleu(self) -> tuple[int, tuple[Counter[Any], ...]]:
        """13a token count and 1..4-gram counts."""
        if self._bleu is None:
            toks = tokenize_13a(self.text)
            self._bleu = (len(toks), tuple(_ngram_counts(toks, n) for n in range(1, 5)))
        return self._bleu

    @property
    def chrf(self) -> tuple[str, Any]:
        """The text without whitespace, and its code points (numpy uint32)."""
        if self._chrf is None:
            chars = "".join(self.text.split())
            codes = np.frombuffer(chars.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            self._chrf = (chars, codes)
        return self._chrf

    @property
    def squad(self) -> tuple[str, list[str]]:
        """SQuAD-normalised text and its tokens."""
        if self._squad is None:
            norm = squad_normalize(self.text)
            self._squad = (norm, norm.split())
        return self._squad

    @property
    def words_lower(self) -> list[str]:
        """Lowercased whitespace tokens (METEOR)."""
        if self._words is None:
            self._words = self.text.lower().split()
        return self._words


def prepare(text: str, stemmer: Callable[[str], str] | None = None) -> Prepared:
    return Prepared(text, stemmer)


@lru_cache(maxsize=256)
def _prepare_cached(text: str, stem: bool) -> Prepared:
    # References repeat (every model, every streaming tick); outputs mostly do not.
    return prepare(text, porter_stem if stem else None)


# -- metric kernels ---------------------------------------------------------------------------


def _overlap(a: Counter[Any], b: Counter[Any]) -> int:
    """Clipped match count, ``sum((a & b).values())`` without building the Counter."""
    if len(a) > len(b):
        a, b = b, a
    total = 0
    for key in a.keys() & b.keys():
        x, y = a[key], b[key]
        total += x if x < y else y
    return total


def _f1(precision: float, recall: float) -> float:
    # rouge_score.scoring.fmeasure
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _rouge_n(hyp: Counter[Any], ref: Counter[Any]) -> float:
    matches = _overlap(hyp, ref)
    precision = matches / max(sum(hyp.values()), 1)
    recall = matches / max(sum(ref.values()), 1)
    return _f1(precision, recall)


def rouge_l(hyp_tokens: list[str], ref_tokens: list[str]) -> float:
    if not hyp_tokens or not ref_tokens:
        return 0.0
    lcs = LCSseq.similarity(ref_tokens, hyp_tokens)
    return _f1(lcs / len(hyp_tokens), lcs / len(ref_tokens))


def _my_log(num: float) -> float:
    return -9999999999 if num == 0.0 else math.log(num)


def bleu_from_prepared(hyp: Prepared, ref: Prepared) -> float:
    """sacrebleu ``BLEU(effective_order=True)`` sentence score, default ``exp`` smoothing."""
    (sys_len, hyp_ngrams), (ref_len, ref_ngrams) = hyp.bleu, ref.bleu
    correct = [_overlap(h, r) for h, r in zip(hyp_ngrams, ref_ngrams, strict=True)]
    total = [max(sys_len - n, 0) for n in range(4)]
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    if not any(correct):
        return 0.0
    precisions = [0.0] * 4
    smooth_mteval = 1.0
    eff_order = 4
    for n in range(1, 5):
        if total[n - 1] == 0:
            break
        eff_order = n
        if correct[n - 1] == 0:
            smooth_mteval *= 2
            precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    return bp * math.exp(sum([_my_log(p) for p in precisions[:eff_order]]) / eff_order)


CHRF_ORDER = 6


def _chrf_matches_numpy(hyp: Any, ref: Any) -> list[int] | None:
    """Clipped character n-gram matches for n = 1..6, counted on integer codes.

    Characters get dense ids over the pair's alphabet; an n-gram is the ids packed into one
    uint64 (plus 3 bits for n). A hypothesis n-gram's k-th occurrence is matched when the
    reference has more than k of it — exactly ``sum(min(count_h, count_r))``. Returns None when
    the alphabet is too large to pack (then the Counter path is used).
    """
    both = np.concatenate((hyp, ref))
    if both.size == 0:
        return [0] * CHRF_ORDER
    uniq, inverse = np.unique(both, return_inverse=True)
    bits = max(1, (len(uniq) - 1).bit_length())
    if CHRF_ORDER * bits + 3 > 64:
        return None
    ids = inverse.astype(np.uint64)
    shift, nbits = np.uint64(3), np.uint64(bits)

    def keys(seq: Any) -> Any:
        parts = [(seq << shift) | np.uint64(1)]
        code = seq
        for n in range(2, CHRF_ORDER + 1):
            if seq.size < n:
                break
            code = (code[:-1] << nbits) | seq[n - 1 :]
            parts.append((code << shift) | np.uint64(n))
        return np.sort(np.concatenate(parts))

    kh, kr = keys(ids[: hyp.size]), keys(ids[hyp.size :])
    if kh.size == 0 or kr.size == 0:
        return [0] * CHRF_ORDER
    starts = np.empty(kh.size, dtype=bool)
    starts[0] = True
    np.not_equal(kh[1:], kh[:-1], out=starts[1:])
    index = np.arange(kh.size)
    occurrence = index - np.maximum.accumulate(np.where(starts, index, 0))
    in_ref = np.searchsorted(kr, kh, "right") - np.searchsorted(kr, kh, "left")
    matched = kh[occurrence < in_ref] & np.uint64(7)
    counts = np.bincount(matched.astype(np.int64), minlength=CHRF_ORDER + 1)
    return [int(c) for c in counts[1:]]


def _chrf_matches_counter(hyp: str, ref: str) -> list[int]:
    return [_overlap(_char_ngrams(hyp, n), _char_ngrams(ref, n)) for n in range(1, CHRF_ORDER + 1)]


def chrf_from_prepared(hyp: Prepared, ref: Prepared) -> float:
    """sacrebleu ``CHRF()`` sentence score (char order 6, β = 2, no eps smoothing)."""
    (hyp_chars, hyp_codes), (ref_chars, ref_codes) = hyp.chrf, ref.chrf
    matches = _chrf_matches_numpy(hyp_codes, ref_codes)
    if matches is None:
        matches = _chrf_matches_counter(hyp_chars, ref_chars)
    factor = 4  # beta ** 2
    avg_prec = avg_rec = 0.0
    effective_order = 0
    len_h, len_r = len(hyp_chars), len(ref_chars)
    for n in range(1, CHRF_ORDER + 1):
        # sacrebleu counts hypothesis n-grams only when the reference has some of that order.
        n_ref = max(len_r - n + 1, 0)
        n_hyp = max(len_h - n + 1, 0) if n_ref else 0
        if n_hyp > 0 and n_ref > 0:
            n_match = matches[n - 1]
            avg_prec += n_match / n_hyp
            avg_rec += n_match / n_ref
            effective_order += 1
    if effective_order == 0:
        return 0.0
    avg_prec /= effective_order
    avg_rec /= effective_order
    if avg_prec + avg_rec:
        score = (1 + factor) * avg_prec * avg_rec
        score /= (factor * avg_prec) + avg_rec
        return 100 * score
    return 0.0


def squad_prf(hyp_tokens: list[str], ref_tokens: list[str]) -> tuple[float, float, float]:
    if not hyp_tokens or not ref_tokens:
        same = float(hyp_tokens == ref_tokens)
        return same, same, same
    num_same = _overlap(Counter(hyp_tokens), Counter(ref_tokens))
    if num_same == 0:
        return 0.0, 0.0, 0.0
    precision = num_same / len(hyp_tokens)
    recall = num_same / len(ref_tokens)
    return precision, recall, (2 * precision * recall) / (precision + recall)


def contains_normalized(hyp_norm: str, ref_norm: str) -> float:
    if not ref_norm:
        return float(not hyp_norm)
    return float(f" {ref_norm} " in f" {hyp_norm} ")


# -- METEOR (nltk's algorithm, with per-word caches) ------------------------------------------

_stem_lock = threading.Lock()
_stemmer: Any = None


def porter_stem(word: str) -> str:
    """nltk's ``PorterStemmer().stem`` (NLTK_EXTENSIONS mode, as rouge-score and METEOR use)."""
    return _porter_cached(word)


@lru_cache(maxsize=65536)
def _porter_cached(word: str) -> str:
    global _stemmer
    if _stemmer is None:
        with _stem_lock:
            if _stemmer is None:
                from nltk.stem.porter import PorterStemmer

                _stemmer = PorterStemmer()
    return str(_stemmer.stem(word))


SynonymFn = Callable[[str], frozenset[str]]


def _match_enums(
    hyp: list[tuple[int, str]], ref: list[tuple[int, str]]
) -> tuple[list[tuple[int, int]], list[tuple[int, str]], list[tuple[int, str]]]:
    positions: dict[str, list[int]] = {}
    for j, (_, word) in enumerate(ref):
        positions.setdefault(word, []).append(j)
    matches: list[tuple[int, int]] = []
    hyp_done: set[int] = set()
    ref_done: set[int] = set()
    for i in range(len(hyp) - 1, -1, -1):
        pos = positions.get(hyp[i][1])
        if pos:
            j = pos.pop()
            hyp_done.add(i)
            ref_done.add(j)
            matches.append((hyp[i][0], ref[j][0]))
    return (
        matches,
        [p for i, p in enumerate(hyp) if i not in hyp_done],
        [p for j, p in enumerate(ref) if j not in ref_done],
    )


def _synonym_match(
    hyp: list[tuple[int, str]], ref: list[tuple[int, str]], synonyms: SynonymFn
) -> list[tuple[int, int]]:
    positions: dict[str, list[int]] = {}
    for j, (_, word) in enumerate(ref):
        positions.setdefault(word, []).append(j)
    matches: list[tuple[int, int]] = []
    for i in range(len(hyp) - 1, -1, -1):
        best_j, best_word = -1, None
        for syn in synonyms(hyp[i][1]):
            pos = positions.get(syn)
            if pos and pos[-1] > best_j:
                best_j, best_word = pos[-1], syn
        if best_word is not None:
            positions[best_word].pop()
            matches.append((hyp[i][0], ref[best_j][0]))
    return matches


def meteor(
    hyp_words: list[str],
    ref_words: list[str],
    synonyms: SynonymFn | None,
    alpha: float = 0.9,
    beta: float = 3.0,
    gamma: float = 0.5,
) -> float:
    """nltk ``single_meteor_score`` on lowercased tokens; ``synonyms=None`` skips WordNet."""
    hyp = list(enumerate(hyp_words))
    ref = list(enumerate(ref_words))
    exact, hyp_left, ref_left = _match_enums(hyp, ref)
    stem_matches, hyp_left, ref_left = _match_enums(
        [(i, porter_stem(w)) for i, w in hyp_left], [(j, porter_stem(w)) for j, w in ref_left]
    )
    syn_matches = _synonym_match(hyp_left, ref_left, synonyms) if synonyms else []
    matches = sorted(exact + stem_matches + syn_matches, key=lambda pair: pair[0])
    count = len(matches)
    if not hyp or not ref or count == 0:
        return 0.0
    precision = float(count) / len(hyp)
    recall = float(count) / len(ref)
    fmean = (precision * recall) / (alpha * precision + (1 - alpha) * recall)
    chunks = 1
    for k in range(count - 1):
        if not (matches[k + 1][0] == matches[k][0] + 1 and matches[k + 1][1] == matches[k][1] + 1):
            chunks += 1
    frag = float(chunks) / count
    return (1 - gamma * frag**beta) * fmean


# -- the suite --------------------------------------------------------------------------------


def lexical_scores(
    output: str | Prepared,
    reference: str | Prepared,
    *,
    synonyms: SynonymFn | None = None,
    stem: bool = False,
    names: frozenset[str] | None = None,
) -> dict[str, float]:
    """Every lexical metric of ``output`` against ``reference`` (``names`` selects a subset).

    ``synonyms`` (a WordNet lookup, see :mod:`genaicompare.metrics.wordnet`) makes ``meteor``;
    without it the METEOR value is reported as ``meteor_nosyn``.
    """
    hyp = output if isinstance(output, Prepared) else _prepare_cached(output, stem)
    ref = reference if isinstance(reference, Prepared) else _prepare_cached(reference, stem)

    def want(name: str) -> bool:
        return names is None or name in names

    out: dict[str, float] = {}
    if want("exact_match"):
        out["exact_match"] = float(hyp.squad[0] == ref.squad[0])
    if want("contains"):
        out["contains"] = contains_normalized(hyp.squad[0], ref.squad[0])
    if want("token_precision") or want("token_recall") or want("token_f1"):
        p, r, f = squad_prf(hyp.squad[1], ref.squad[1])
        for key, val in (("token_precision", p), ("token_recall", r), ("token_f1", f)):
            if want(key):
                out[key] = val
    if want("rouge1"):
        out["rouge1"] = _rouge_n(hyp.rouge[1], ref.rouge[1])
    if want("rouge2"):
        out["rouge2"] = _rouge_n(hyp.rouge[2], ref.rouge[2])
    if want("rougeL"):
        out["rougeL"] = rouge_l(hyp.rouge[0], ref.rouge[0])
    if want("bleu"):
        out["bleu"] = bleu_from_prepared(hyp, ref)
    if want("chrf"):
        out["chrf"] = chrf_from_prepared(hyp, ref)
    if want("meteor") or want("meteor_nosyn"):
        value = meteor(hyp.words_lower, ref.words_lower, synonyms)
        out["meteor" if synonyms is not None else "meteor_nosyn"] = value
    if want("fuzzy_ratio"):
        out["fuzzy_ratio"] = fuzz.ratio(hyp.text, ref.text)
    if want("token_set_ratio"):
        out["token_set_ratio"] = fuzz.token_set_ratio(hyp.text, ref.text)
    return out
