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
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")

# sacrebleu's 13a tokenizer (mteval-v13a), rule for rule. Rule 1 puts spaces around every
# character of a class (space included): ``" ".join(pattern.split(line))`` with a capturing
# group is exactly ``pattern.sub(r" \1 ", line)`` without a Python-level template expansion per
# match (the bulk of sacrebleu's tokenizer time). Rules 2–4 (``([^0-9])([\.,])`` → ``\1 \2 ``,
# ``([\.,])([^0-9])`` → `` \1 \2``, ``([0-9])(-)`` → ``\1 \2 ``) replace two-character windows
# around a ``.``, ``,`` or ``-``; they are applied by visiting only those characters, left to
# right and non-overlapping, which is the regex engine's own matching order.
_13A_FIRST = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_DOT_COMMA = re.compile(r"[.,]")


def _is_ascii_digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _replace_windows(line: str, spans: list[tuple[int, str]]) -> str:
    """Replace each 2-character window starting at ``start`` with its replacement."""
    if not spans:
        return line
    out: list[str] = []
    pos = 0
    for start, repl in spans:
        out.append(line[pos:start])
        out.append(repl)
        pos = start + 2
    out.append(line[pos:])
    return "".join(out)


def _rule_dot_after_nondigit(line: str) -> str:
    spans: list[tuple[int, str]] = []
    free = 0  # first index not consumed by the previous match
    for m in _DOT_COMMA.finditer(line):
        j = m.start()
        if j >= 1 and j - 1 >= free and not _is_ascii_digit(line[j - 1]):
            spans.append((j - 1, f"{line[j - 1]} {line[j]} "))
            free = j + 1
    return _replace_windows(line, spans)


def _rule_dot_before_nondigit(line: str) -> str:
    spans: list[tuple[int, str]] = []
    free, size = 0, len(line)
    for m in _DOT_COMMA.finditer(line):
        j = m.start()
        if j >= free and j + 1 < size and not _is_ascii_digit(line[j + 1]):
            spans.append((j, f" {line[j]} {line[j + 1]}"))
            free = j + 2
    return _replace_windows(line, spans)


def _rule_dash_after_digit(line: str) -> str:
    spans: list[tuple[int, str]] = []
    free = 0
    j = line.find("-")
    while j != -1:
        if j >= 1 and j - 1 >= free and _is_ascii_digit(line[j - 1]):
            spans.append((j - 1, f"{line[j - 1]} - "))
            free = j + 1
        j = line.find("-", j + 1)
    return _replace_windows(line, spans)


_SQUAD_PUNCT = frozenset(string.punctuation)
_SQUAD_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def rouge_tokens(text: str, stemmer: Callable[[str], str] | None = None) -> list[str]:
    """rouge-score's default tokenizer (``rouge_score.tokenize.tokenize``)."""
    # Maximal [a-z0-9] runs: the same tokens as rouge-score's sub-then-split.
    tokens = _ROUGE_TOKEN.findall(text.lower())
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
    line = " ".join(_13A_FIRST.split(f" {line} "))
    if "." in line or "," in line:
        line = _rule_dot_before_nondigit(_rule_dot_after_nondigit(line))
    if "-" in line:
        line = _rule_dash_after_digit(line)
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
        self._rouge: list[str] | None = None
        self._bleu: list[str] | None = None
        self._chrf: tuple[str, Any] | None = None
        self._squad: tuple[str, list[str]] | None = None
        self._words: list[str] | None = None

    @property
    def rouge(self) -> list[str]:
        """rouge-score's tokens."""
        if self._rouge is None:
            self._rouge = rouge_tokens(self.text, self._stemmer)
        return self._rouge

    @property
    def bleu(self) -> list[str]:
        """sacrebleu's 13a tokens."""
        if self._bleu is None:
            self._bleu = tokenize_13a(self.text)
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


# -- n-gram matching --------------------------------------------------------------------------
#
# Every n-gram family a pair needs — ROUGE 1–2 and BLEU 1–4 on word tokens, chrF 1–6 on
# characters — is matched in one numpy sort. Per family, the hypothesis and the reference become
# one id sequence ``hyp + [0] + ref`` (ids start at 1; 0 is a separator, so a window that spans
# it matches nothing), an n-gram is its ids packed into a uint64 with its side in bit 0 and its
# group above bit 56. After sorting, each run of equal n-grams holds both sides' copies, and the
# clipped match count is sum(min(count_h, count_r)) per group: exactly what ``Counter``
# intersection gives, with a few dozen array operations instead of a Python loop per n-gram.

ROUGE_GROUPS = (1, 2)  # rouge1, rouge2
BLEU_GROUPS = (3, 4, 5, 6)  # bleu 1..4
CHRF_GROUPS = (7, 8, 9, 10, 11, 12)  # chrf 1..6
CHRF_ORDER = 6
_N_GROUPS = 13
_PAYLOAD_BITS = 55  # bit 0 is the side, bits 56–63 the group
_GROUP_SHIFT = np.uint64(56)
_ONE = np.uint64(1)


def _family_keys(hyp_ids: Any, ref_ids: Any, bits: int, groups: Sequence[int]) -> list[Any]:
    """Tagged keys of orders 1..len(groups) for one family (``groups[n - 1]`` is order n's)."""
    nh = hyp_ids.size
    seq = np.zeros(nh + 1 + ref_ids.size, dtype=np.uint64)
    seq[:nh] = hyp_ids
    seq[nh + 1 :] = ref_ids
    side = np.zeros(seq.size, dtype=np.uint64)
    side[nh + 1 :] = _ONE
    width = np.uint64(bits)
    code = seq
    keys = []
    for n, group in enumerate(groups, start=1):
        if n > 1:
            if code.size < 2:
                break
            code = (code[:-1] << width) | seq[n - 1 :]
        keys.append((code << _ONE) | (side[: code.size] | (np.uint64(group) << _GROUP_SHIFT)))
    return keys


def _word_ids(a: list[str], b: list[str]) -> tuple[Any, Any, int]:
    vocab: dict[str, int] = {}
    ia = [vocab.setdefault(t, len(vocab) + 1) for t in a]
    ib = [vocab.setdefault(t, len(vocab) + 1) for t in b]
    return np.array(ia, dtype=np.uint64), np.array(ib, dtype=np.uint64), len(vocab)


def _char_ids(hyp: Prepared, ref: Prepared) -> tuple[Any, Any, int]:
    (hc, hcodes), (rc, rcodes) = hyp.chrf, ref.chrf
    top = max(int(hcodes.max()) if hcodes.size else 0, int(rcodes.max()) if rcodes.size else 0)
    if top < 511:  # Latin-1 and a bit more: code points are ids already
        return hcodes.astype(np.uint64) + _ONE, rcodes.astype(np.uint64) + _ONE, top + 1
    alphabet = np.array(sorted(map(ord, set(hc) | set(rc))), dtype=np.uint32)
    hi = np.searchsorted(alphabet, hcodes).astype(np.uint64) + _ONE
    ri = np.searchsorted(alphabet, rcodes).astype(np.uint64) + _ONE
    return hi, ri, int(alphabet.size)


def ngram_matches(
    hyp: Prepared, ref: Prepared, rouge: bool = True, bleu: bool = True, chrf: bool = True
) -> list[int] | None:
    """Clipped match counts indexed by group (see the ``*_GROUPS`` constants); None when a
    pair's vocabulary or alphabet is too large to pack (the Counter path is used then)."""
    parts: list[Any] = []
    if rouge:
        h, r, size = _word_ids(hyp.rouge, ref.rouge)
        if 2 * size.bit_length() > _PAYLOAD_BITS:
            return None
        parts += _family_keys(h, r, size.bit_length(), ROUGE_GROUPS)
    if bleu:
        h, r, size = _word_ids(hyp.bleu, ref.bleu)
        if 4 * size.bit_length() > _PAYLOAD_BITS:
            return None
        parts += _family_keys(h, r, size.bit_length(), BLEU_GROUPS)
    if chrf:
        h, r, size = _char_ids(hyp, ref)
        if CHRF_ORDER * size.bit_length() > _PAYLOAD_BITS:
            return None
        parts += _family_keys(h, r, size.bit_length(), CHRF_GROUPS)
    if not parts:
        return [0] * _N_GROUPS
    keys = np.concatenate(parts)
    keys.sort()
    gram = keys >> _ONE
    starts = np.flatnonzero(np.concatenate(([True], gram[1:] != gram[:-1])))
    ends = np.append(starts[1:], keys.size)
    on_ref = np.concatenate(([0], np.cumsum(keys & _ONE, dtype=np.int64)))
    n_ref = on_ref[ends] - on_ref[starts]
    clipped = np.minimum(ends - starts - n_ref, n_ref)
    groups = (gram[starts] >> (_GROUP_SHIFT - _ONE)).astype(np.intp)
    return [int(x) for x in np.bincount(groups, weights=clipped, minlength=_N_GROUPS)]


def _overlap(a: Counter[Any], b: Counter[Any]) -> int:
    """Clipped match count, ``sum((a & b).values())`` without building the Counter."""
    if len(a) > len(b):
        a, b = b, a
    total = 0
    for key in a.keys() & b.keys():
        x, y = a[key], b[key]
        total += x if x < y else y
    return total


def _counter_matches(
    hyp: Prepared, ref: Prepared, rouge: bool = True, bleu: bool = True, chrf: bool = True
) -> list[int]:
    """The same counts with Counters (huge vocabularies or alphabets)."""
    out = [0] * _N_GROUPS
    if rouge:
        for n, group in ((1, ROUGE_GROUPS[0]), (2, ROUGE_GROUPS[1])):
            out[group] = _overlap(_ngram_counts(hyp.rouge, n), _ngram_counts(ref.rouge, n))
    if bleu:
        for n in range(1, 5):
            out[BLEU_GROUPS[n - 1]] = _overlap(
                _ngram_counts(hyp.bleu, n), _ngram_counts(ref.bleu, n)
            )
    if chrf:
        hc, rc = hyp.chrf[0], ref.chrf[0]
        for n in range(1, CHRF_ORDER + 1):
            out[CHRF_GROUPS[n - 1]] = _overlap(_char_ngrams(hc, n), _char_ngrams(rc, n))
    return out


def _all_matches(hyp: Prepared, ref: Prepared, rouge: bool, bleu: bool, chrf: bool) -> list[int]:
    counts = ngram_matches(hyp, ref, rouge, bleu, chrf)
    return counts if counts is not None else _counter_matches(hyp, ref, rouge, bleu, chrf)


# -- metric formulas --------------------------------------------------------------------------


def _f1(precision: float, recall: float) -> float:
    # rouge_score.scoring.fmeasure
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


def _rouge_n(matches: int, hyp_len: int, ref_len: int, n: int) -> float:
    precision = matches / max(max(hyp_len - n + 1, 0), 1)
    recall = matches / max(max(ref_len - n + 1, 0), 1)
    return _f1(precision, recall)


def rouge_l(hyp_tokens: list[str], ref_tokens: list[str]) -> float:
    if not hyp_tokens or not ref_tokens:
        return 0.0
    lcs = LCSseq.similarity(ref_tokens, hyp_tokens)
    return _f1(lcs / len(hyp_tokens), lcs / len(ref_tokens))


def _my_log(num: float) -> float:
    return -9999999999 if num == 0.0 else math.log(num)


def bleu_score(correct: list[int], sys_len: int, ref_len: int) -> float:
    """sacrebleu ``BLEU(effective_order=True)`` sentence score, default ``exp`` smoothing."""
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


def chrf_score(matches: list[int], len_h: int, len_r: int) -> float:
    """sacrebleu ``CHRF()`` sentence score (char order 6, β = 2, no eps smoothing) from the
    clipped matches per order and the whitespace-free lengths."""
    factor = 4  # beta ** 2
    avg_prec = avg_rec = 0.0
    effective_order = 0
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
    rouge_n, bleu, chrf = want("rouge1") or want("rouge2"), want("bleu"), want("chrf")
    if rouge_n or bleu or chrf:
        counts = _all_matches(hyp, ref, rouge_n, bleu, chrf)
        if want("rouge1"):
            out["rouge1"] = _rouge_n(counts[ROUGE_GROUPS[0]], len(hyp.rouge), len(ref.rouge), 1)
        if want("rouge2"):
            out["rouge2"] = _rouge_n(counts[ROUGE_GROUPS[1]], len(hyp.rouge), len(ref.rouge), 2)
        if bleu:
            correct = [counts[g] for g in BLEU_GROUPS]
            out["bleu"] = bleu_score(correct, len(hyp.bleu), len(ref.bleu))
        if chrf:
            matches = [counts[g] for g in CHRF_GROUPS]
            out["chrf"] = chrf_score(matches, len(hyp.chrf[0]), len(ref.chrf[0]))
    if want("rougeL"):
        out["rougeL"] = rouge_l(hyp.rouge, ref.rouge)
    if want("meteor") or want("meteor_nosyn"):
        value = meteor(hyp.words_lower, ref.words_lower, synonyms)
        out["meteor" if synonyms is not None else "meteor_nosyn"] = value
    if want("fuzzy_ratio"):
        out["fuzzy_ratio"] = fuzz.ratio(hyp.text, ref.text)
    if want("token_set_ratio"):
        out["token_set_ratio"] = fuzz.token_set_ratio(hyp.text, ref.text)
    return out
