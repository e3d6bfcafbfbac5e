"""Reference-based lexical metrics, equal (to 1e-9) to the libraries that define them.

Each text is tokenised once (:class:`Prepared`) and the tokens are shared by every metric; the
clipped n-gram matches of ROUGE-1/2, BLEU and chrF come from one numpy sort of packed n-gram
windows (see "n-gram matching" below; ``Counter`` only for huge vocabularies), and ROUGE-L's LCS
from rapidfuzz's ``LCSseq``.

Definitions (the reference implementation in brackets; tests compare against it). Each metric
tokenises the way its reference implementation does:

* ``rouge1`` / ``rouge2`` / ``rougeL`` — F1 [rouge-score ``RougeScorer``, default tokenizer:
  lowercase, every run of characters outside ``[a-z0-9]`` is a separator; no stemmer unless
  ``stem=True``, which uses nltk's Porter stemmer on tokens longer than 3 like rouge-score].
  ``rougeLsum`` is rouge-score's summary-level LCS over the lines of each text (``split("\n")``,
  as rouge-score without ``split_summaries``). ``<type>_precision`` / ``<type>_recall`` are the
  precision and recall beside each F1.
* ``bleu`` — 0–100 [sacrebleu ``sentence_bleu`` defaults: 13a tokenizer, ``exp`` smoothing,
  effective order]; ``bleu_floor`` (0.1), ``bleu_add_k`` (k = 1) and ``bleu_none`` are the other
  smoothing methods with sacrebleu's default values.
* ``chrf`` — 0–100 [sacrebleu ``sentence_chrf`` defaults: character 6-grams, β = 2, whitespace
  removed, no word n-grams]; ``chrf_pp`` is chrF++ (``word_order=2``: word 1–2-grams of
  sacrebleu's punctuation-split words as well).
* ``meteor`` — [nltk ``meteor_score`` with WordNet 3.0, on nltk's ``word_tokenize(text,
  preserve_line=True)`` tokens (``NLTKWordTokenizer``), lowercased by ``meteor_score``: Hugging
  Face evaluate's ``meteor`` tokenisation without its punkt sentence split, whose data is not
  shipped]; without WordNet it is ``meteor_nosyn`` (exact + Porter-stem matching only).
* ``exact_match`` — 1.0 when the SQuAD-normalised texts are equal. SQuAD v1.1 ``normalize_answer``:
  lowercase, remove ASCII punctuation (``string.punctuation``), remove the articles
  ``a``/``an``/``the`` as whole words, collapse whitespace.
* ``contains`` — 1.0 when the normalised reference occurs in the normalised output on word
  boundaries (an empty normalised reference is contained only in an empty output).
* ``token_precision`` / ``token_recall`` / ``token_f1`` — SQuAD v2.0 token overlap of the
  normalised texts (if either side has no tokens, 1.0 when both have none, else 0.0).
* ``fuzzy_ratio`` — 0–100 [rapidfuzz ``fuzz.ratio`` on the raw texts: case-sensitive];
  ``token_set_ratio`` — 0–100 [rapidfuzz ``fuzz.token_set_ratio`` with
  ``processor=utils.default_process``: lowercased, non-alphanumerics as spaces, as thefuzz's
  ``full_process`` does].

Several references (:func:`lexical_scores` given a list) combine as each reference
implementation does: BLEU as sacrebleu (n-gram counts clipped by their largest count in any
reference, the closest reference length), chrF as sacrebleu (the reference with the best
score), ROUGE as rouge-score's ``score_multi`` (per type, the reference with the best F1 gives F1,
precision and recall), METEOR as nltk's ``meteor_score`` (the best), SQuAD exact match and F1 as
the official script's ``metric_max_over_ground_truths`` (precision and recall from the reference
with the best F1), ``contains`` when any reference is contained, the rapidfuzz ratios the best.
"""

from __future__ import annotations

import math
import re
import string
import threading
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from functools import lru_cache
from itertools import chain, count, repeat
from operator import itemgetter
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq
from rapidfuzz.utils import default_process

from genaicompare.metrics.names import EXTRA_METRICS as EXTRA_METRICS
from genaicompare.metrics.names import REFERENCE_METRICS as REFERENCE_METRICS
from genaicompare.metrics.names import ROUGE_TYPES as ROUGE_TYPES

VERSION = "1"

BLEU_SMOOTHING: dict[str, tuple[str, float | None]] = {
    "bleu": ("exp", None),
    "bleu_floor": ("floor", 0.1),
    "bleu_add_k": ("add-k", 1.0),
    "bleu_none": ("none", None),
}
"""Metric name → sacrebleu ``smooth_method`` and its (default) ``smooth_value``."""

VERSION_OF: dict[str, str] = {"meteor": "2", "meteor_nosyn": "2", "token_set_ratio": "2"}
"""Per-metric definition versions where they moved past :data:`VERSION` (2: METEOR tokenised
by nltk's word tokenizer, ``token_set_ratio`` with rapidfuzz's ``default_process``)."""


def version_of(name: str) -> str:
    return VERSION_OF.get(name, VERSION)


# -- tokenisers -------------------------------------------------------------------------------

_ROUGE_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ROUGE_TOKEN = re.compile(r"[a-z0-9]+")
_ROUGE_KEEP = frozenset(string.ascii_lowercase + string.digits)

# sacrebleu's 13a tokenizer (mteval-v13a), rule for rule. Rule 1 puts spaces around every
# character of a class (space included): ``" ".join(pattern.split(line))`` with a capturing
# group is exactly ``pattern.sub(r" \1 ", line)`` without a Python-level template expansion per
# match (the bulk of sacrebleu's tokenizer time). Rules 2–4 (``([^0-9])([\.,])`` → ``\1 \2 ``,
# ``([\.,])([^0-9])`` → `` \1 \2``, ``([0-9])(-)`` → ``\1 \2 ``) replace two-character windows
# around a ``.``, ``,`` or ``-``; they are applied by visiting only those characters, left to
# right and non-overlapping, which is the regex engine's own matching order.
_13A_FIRST = re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])")
_DOT_COMMA = re.compile(r"[.,]")
# Without ASCII digits, rules 2–3 isolate every "." and "," and rule 4 never fires (one pass of
# the regex engine leaves no two of them adjacent, so the other rule reaches each), and rule 1
# isolates its own class: the tokens are then the characters of that class plus "." and ",", and
# the maximal runs of everything else but whitespace (``\s`` is ``str.isspace``, as ``split()``).
_13A_PUNCT = r"\{-\~\[-\`!-\&\(-\+\:-\@\/.,"
# The same holds with digits elsewhere, as long as none touches a "." or "," or precedes a "-":
# rules 2-4 only look at the characters next to those.
# A digit then one of ".,-", or "." / "," then a digit (one leading class: the engine skips fast).
_13A_DIGIT_CONTEXT = re.compile(r"[0-9.,](?:(?<=[0-9])[.,\-]|(?<=[.,])[0-9])")
_WHITESPACE = re.compile(r"\s")
_13A_TOKENS_NO_DIGITS = re.compile(rf"[^\s{_13A_PUNCT}]+|\S")  # words first: most tokens


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


# ASCII text: every character but [a-z0-9] (after lowercasing) becomes a space, in one
# str.translate (CPython's 1:1 ASCII fast path), then split.
_ROUGE_ASCII = str.maketrans(
    {i: (chr(i).lower() if chr(i).lower() in _ROUGE_KEEP else " ") for i in range(128)}
)


def rouge_tokens(text: str, stemmer: Callable[[str], str] | None = None) -> list[str]:
    """rouge-score's default tokenizer (``rouge_score.tokenize.tokenize``)."""
    # Maximal [a-z0-9] runs: the same tokens as rouge-score's sub-then-split.
    if text.isascii():
        tokens = text.translate(_ROUGE_ASCII).split()
    else:
        # Lowercase first (a few non-ASCII letters lowercase to ASCII, e.g. KELVIN SIGN -> k),
        # then every non-ASCII character left is a separator ("?").
        ascii_text = text.lower().encode("ascii", "replace").decode("ascii")
        tokens = ascii_text.translate(_ROUGE_ASCII).split()
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
    if not any(map(line.__contains__, "0123456789")):  # ten C substring scans
        return _13A_TOKENS_NO_DIGITS.findall(line)
    # Rules 2-4 never reach across whitespace (a whitespace character in a window is never
    # consumed in a way that blocks a later window), so the words where a digit touches ".", ","
    # or "-" take the rules one by one and the text between them the one-regex path.
    tokens: list[str] = []
    pos = 0
    size = len(line)
    backwards = ""
    for touch in _13A_DIGIT_CONTEXT.finditer(line):
        at = touch.start()
        if at < pos:  # in a word already done
            continue
        backwards = backwards or line[::-1]
        space = _WHITESPACE.search(backwards, size - at)  # the last whitespace before ``at``
        start = size - space.start() if space else 0
        space = _WHITESPACE.search(line, touch.end())
        end = space.start() if space else size
        tokens += _13A_TOKENS_NO_DIGITS.findall(line, pos, start)
        tokens += _tokenize_13a_rules(line[start:end])
        pos = end
    if pos == 0:
        return _13A_TOKENS_NO_DIGITS.findall(line)
    tokens += _13A_TOKENS_NO_DIGITS.findall(line, pos)
    return tokens


def _tokenize_13a_rules(line: str) -> list[str]:
    """13a's regex rules on one line (after its language-independent replacements)."""
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


_word_tokenizer: Any = None


def meteor_tokens(text: str) -> list[str]:
    """nltk ``word_tokenize(text, preserve_line=True)`` (``NLTKWordTokenizer``), lowercased as
    ``meteor_score``'s default ``preprocess=str.lower`` does after tokenising."""
    global _word_tokenizer
    if _word_tokenizer is None:
        with _stem_lock:
            if _word_tokenizer is None:
                from genaicompare.metrics._nltk import word_tokenizer  # lazy: nltk

                _word_tokenizer = word_tokenizer()
    return [t.lower() for t in _word_tokenizer.tokenize(text)]


_CHRF_PUNCTS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def chrf_words(text: str) -> list[str]:
    """sacrebleu ``CHRF._remove_punctuation``: whitespace words, one leading or trailing ASCII
    punctuation mark split off (chrF++'s word n-grams)."""
    out: list[str] = []
    for w in text.split():
        if len(w) == 1:
            out.append(w)
        elif w[-1] in _CHRF_PUNCTS:
            out += [w[:-1], w[-1]]
        elif w[0] in _CHRF_PUNCTS:
            out += [w[0], w[1:]]
        else:
            out.append(w)
    return out


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

    __slots__ = (
        "_bleu",
        "_chrf",
        "_chrf_words",
        "_latin1",
        "_rouge",
        "_rouge_lines",
        "_squad",
        "_stemmer",
        "_words",
        "text",
    )

    def __init__(self, text: str, stemmer: Callable[[str], str] | None = None) -> None:
        self.text = text
        self._stemmer = stemmer
        self._rouge: list[str] | None = None
        self._bleu: list[str] | None = None
        self._chrf: str | None = None
        self._latin1: bytes | bool | None = False  # False: not computed yet
        self._squad: tuple[str, list[str]] | None = None
        self._words: list[str] | None = None
        self._chrf_words: list[str] | None = None
        self._rouge_lines: list[list[str]] | None = None

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
    def chrf(self) -> str:
        """The text without whitespace (chrF's view)."""
        if self._chrf is None:
            self._chrf = "".join(self.text.split())
        return self._chrf

    @property
    def latin1(self) -> bytes | None:
        """:attr:`chrf` as Latin-1 bytes (one byte a character), None when it has others."""
        value = self._latin1
        if value is False:
            try:
                value = self.chrf.encode("latin-1")
            except UnicodeEncodeError:
                value = None
            self._latin1 = value
        return None if isinstance(value, bool) else value

    @property
    def char_codes(self) -> Any:
        """:attr:`chrf`'s code points (numpy uint32)."""
        return np.frombuffer(self.chrf.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    @property
    def squad(self) -> tuple[str, list[str]]:
        """SQuAD-normalised text and its tokens."""
        if self._squad is None:
            norm = squad_normalize(self.text)
            self._squad = (norm, norm.split())
        return self._squad

    @property
    def words_lower(self) -> list[str]:
        """METEOR's tokens: nltk's word tokenizer, lowercased."""
        if self._words is None:
            self._words = meteor_tokens(self.text)
        return self._words

    @property
    def chrf_words(self) -> list[str]:
        """chrF++'s words (sacrebleu's punctuation split)."""
        if self._chrf_words is None:
            self._chrf_words = chrf_words(self.text)
        return self._chrf_words

    @property
    def rouge_lines(self) -> list[list[str]]:
        """rougeLsum's sentences: the non-empty lines, each with rouge-score's tokens."""
        if self._rouge_lines is None:
            self._rouge_lines = [
                rouge_tokens(line, self._stemmer) for line in self.text.split("\n") if line
            ]
        return self._rouge_lines


def prepare(text: str, stemmer: Callable[[str], str] | None = None) -> Prepared:
    return Prepared(text, stemmer)


@lru_cache(maxsize=256)
def _prepare_cached(text: str, stem: bool) -> Prepared:
    # References repeat (every model, every streaming tick); outputs mostly do not.
    return prepare(text, porter_stem if stem else None)


# -- n-gram matching --------------------------------------------------------------------------
#
# The clipped match counts of every n-gram order a pair needs — ROUGE 1–2 and BLEU 1–4 on word
# tokens, chrF 1–6 on characters — come from sorting each family's longest n-grams once:
#
# * The two texts become one id sequence ``hyp + [SEP1] + ref + [SEP2] * (N - 1)`` (N the
#   family's largest order). SEP1 and SEP2 are ids no token or character has, so a window that
#   runs past its own text contains one of them and equals no real n-gram, and hypothesis junk
#   (it holds SEP1) never equals reference junk (SEP2 only).
# * Each window start becomes one uint64 key: its N ids in B-bit chunks, first id highest, and
#   the side (hypothesis 0, reference 1) in bit 0. With one-byte ids (Latin-1 text, or any
#   alphabet of <= 254 characters ranked; <= 256 word ids) the keys are read straight off the id
#   bytes as overlapping big-endian words and all three families go through one pass
#   (:func:`_byte_matches`); otherwise 16-bit word ids / <= 10-bit character ids are packed per
#   family (:func:`_order_matches`), and past that ``Counter`` counts.
# * Sorted by the whole key, the keys are also sorted by every shorter prefix, so the n-grams of
#   each order n <= N are contiguous runs of the same array: two neighbours start a new order-n
#   run when their XOR reaches the order-n prefix (:func:`_prefix_thresholds`).
# * A run with h hypothesis and r reference copies contributes min(h, r): its length and its
#   count of reference keys (a running sum of bit 0) give both. Summed over runs this is the
#   clipped match count — exactly ``Counter`` intersection — for every order at once, in a few
#   dozen array operations per pair (:func:`_run_matches`).

ROUGE_GROUPS = (1, 2)  # rouge1, rouge2
BLEU_GROUPS = (3, 4, 5, 6)  # bleu 1..4
CHRF_GROUPS = (7, 8, 9, 10, 11, 12)  # chrf 1..6
CHRF_ORDER = 6
_N_GROUPS = 13
_ONE = np.uint64(1)
_SEP1, _SEP2 = object(), object()  # word-sequence separators: equal to no token
_WORD_ID_LIMIT = 1 << 15  # 4 chunks of 16 bits with the top bit free for the side shift
# Whitespace never reaches chrF (it is removed), so tab and newline are free separator bytes.
_CHAR_SEP1, _CHAR_SEP2 = b"\t", b"\n"


_ROWS = np.arange(CHRF_ORDER)


@lru_cache(maxsize=64)
def _prefix_thresholds(order: int, bits: int, low: int) -> Any:
    """Column of 2 ** (low + bits * (order - n)) for n = 1..order: two sorted neighbours whose
    XOR reaches it differ in their first n chunks (the last chunk starting at bit ``low``)."""
    return np.array([[1 << (low + bits * (order - n))] for n in range(1, order + 1)], np.uint64)


def _run_matches(keys: Any, order: int, bits: int, low: int, ends: list[int]) -> Any:
    """Clipped match counts, an ``order × blocks`` array, from ``keys`` sorted within each block
    ``[ends[i - 1], ends[i])`` (one n-gram family a block; side in bit 0)."""
    total = keys.size
    width = total + 1
    # bounds[n - 1, i]: sorted position i starts a new order-n run (and both ends are bounds).
    bounds = np.ones((order, width), dtype=bool)
    thresholds = _prefix_thresholds(order, bits, low)
    np.greater_equal(keys[1:] ^ keys[:-1], thresholds, out=bounds[:, 1:total])
    if len(ends) > 1:
        bounds[:, ends[:-1]] = True  # a block starts new runs of every order
    refs = np.zeros(width, dtype=np.int64)  # reference copies before each sorted position
    np.cumsum((keys & _ONE).view(np.int64), out=refs[1:])
    # Consecutive bounds of one row delimit a run: its length and reference copies give
    # min(h, r). (The step from a row's end bound to the next row's first is no run; it falls
    # between blocks below.) The flat index of a bound is row * width + position.
    flat = np.flatnonzero(bounds)
    ref_at = refs.take(flat, mode="wrap")
    n_ref = ref_at[1:] - ref_at[:-1]
    clipped = np.zeros(flat.size, dtype=np.int64)  # cumulative min(h, r) in bound order
    np.cumsum(np.minimum(flat[1:] - flat[:-1] - n_ref, n_ref), out=clipped[1:])
    # A block's runs in a row go from the bound at its first position to the one at the next
    # block's (or the row end's); both are bounds, found in ``flat`` by their flat index.
    edges = _ROWS[:order, None] * width + np.array([0, *ends])
    at = clipped[flat.searchsorted(edges)]
    return at[:, 1:] - at[:, :-1]


def _order_matches(keys: Any, n_hyp: int, order: int, bits: int) -> list[int]:
    """Clipped match counts of orders 1..order from one family's packed keys (the last chunk
    above bit 0, which takes the side)."""
    keys[n_hyp + 1 :] |= _ONE
    keys.sort()
    return [int(x) for x in _run_matches(keys, order, bits, 1, [keys.size])[:, 0]]


def _word_keys(a: list[str], b: list[str], order: int) -> Any | None:
    """Packed keys (16-bit chunks) of ``a`` + ``b`` for order 2 or 4; None past 2**15 ids."""
    size = len(a) + len(b) + order
    if size > _WORD_ID_LIMIT:
        return None
    vocab: dict[object, int] = {}
    # setdefault with a running counter: a new token gets the counter, a repeat its first id
    # (ids are sparse but below ``size``; all in C).
    ids = map(vocab.setdefault, chain(a, (_SEP1,), b, repeat(_SEP2, order - 1)), count())
    seq = np.fromiter(ids, dtype=">u2", count=size)
    rows = size - order + 1
    width = ">u8" if order == 4 else ">u4"
    packed: Any = np.ndarray((rows,), width, seq, 0, (2,))  # overlapping big-endian windows
    keys = packed.astype(np.uint64)
    keys <<= _ONE
    return keys


def _char_keys(hyp: Prepared, ref: Prepared) -> tuple[Any, int] | None:
    """Packed keys of the chrF character 6-grams and their chunk width; None when the pair's
    alphabet needs more than 10 bits an id."""
    hb, rb = hyp.latin1, ref.latin1
    if hb is not None and rb is not None:
        buf = b"".join((hb, _CHAR_SEP1, rb, _CHAR_SEP2 * (CHRF_ORDER + 1)))
        rows = len(hb) + 1 + len(rb)
        # Bytes p..p+7 big-endian: the 6-gram at p in the top 48 bits, 2 bytes to drop.
        keys = np.ndarray((rows,), ">u8", buf, 0, (1,)).astype(np.uint64)
        keys >>= np.uint64(16)
        keys <<= _ONE
        return keys, 8
    hcodes, rcodes = hyp.char_codes, ref.char_codes
    alphabet = np.unique(np.concatenate((hcodes, rcodes)))
    bits = (alphabet.size + 1).bit_length()
    if CHRF_ORDER * bits + 1 > 64:
        return None
    nh, nr = hcodes.size, rcodes.size
    seq = np.empty(nh + nr + CHRF_ORDER, dtype=np.uint64)
    seq[:nh] = np.searchsorted(alphabet, hcodes)
    seq[nh] = alphabet.size
    seq[nh + 1 : nh + 1 + nr] = np.searchsorted(alphabet, rcodes)
    seq[nh + 1 + nr :] = alphabet.size + 1
    rows = nh + 1 + nr
    width = np.uint64(bits)
    keys = seq[:rows].copy()
    for j in range(1, CHRF_ORDER):
        keys <<= width
        keys |= seq[j : j + rows]
    keys <<= _ONE
    return keys, bits


def _word_bytes(a: list[str], b: list[str], order: int) -> bytes | None:
    """``a + [SEP1] + b + [SEP2] * (order - 1)`` as one byte an id; None past 256 ids."""
    return _id_bytes([*a, _SEP1, *b, *repeat(_SEP2, order - 1)])


def _id_bytes(tokens: list[object]) -> bytes | None:
    """One byte a token (dense ids in first-seen order, all in C); None past 256 ids."""
    index = dict(zip(dict.fromkeys(tokens), count()))
    if len(index) > 256:
        return None
    # The sequences always hold both separators, so itemgetter returns a tuple.
    return bytes(itemgetter(*tokens)(index))


# One-byte ids: every family packs into the same 6 chunks of 8 bits from the top of the key (a
# word n-gram's unused chunks 0; chrF's window keeps two bytes of the next characters below its
# 6-gram, which no threshold reaches, with the side in bit 0), sorted per family, one pass.
# Per family: (window dtype, left shift, largest order, slice of the result).
_BYTE_FAMILIES: tuple[tuple[str, int, int, slice], ...] = (
    (">u2", 48, 2, slice(ROUGE_GROUPS[0], ROUGE_GROUPS[-1] + 1)),
    (">u4", 32, 4, slice(BLEU_GROUPS[0], BLEU_GROUPS[-1] + 1)),
    (">u8", 0, CHRF_ORDER, slice(CHRF_GROUPS[0], CHRF_GROUPS[-1] + 1)),
)
_SHIFTS = {shift: np.uint64(shift) for shift in (32, 48)}
_NOT_ONE = ~_ONE


def _alphabet_bytes(hcodes: Any, rcodes: Any) -> Any | None:
    """chrF ids of a pair outside Latin-1: ranks in the pair's alphabet, one byte each, then
    SEP1 and SEP2 (the next two ranks); None past 254 distinct characters."""
    both = np.concatenate((hcodes, rcodes))
    alphabet = np.unique(both)
    size = alphabet.size
    if size > 254:
        return None
    nh = hcodes.size
    seq = np.empty(both.size + CHRF_ORDER + 2, dtype=np.uint8)
    ranks = np.searchsorted(alphabet, both)
    seq[:nh] = ranks[:nh]
    seq[nh] = size
    seq[nh + 1 : both.size + 1] = ranks[nh:]
    seq[both.size + 1 :] = size + 1
    return seq


def _byte_matches(
    hyp: Prepared, ref: Prepared, rouge: bool, bleu: bool, chrf: bool
) -> list[int] | None:
    """:func:`ngram_matches` when every requested family fits one-byte ids; else None."""
    # (family, id bytes, offset of the family's sequence in them, hyp length, windows)
    texts: list[tuple[int, Any, int, int, int]] = []
    if rouge and bleu:
        # One vocabulary for both word families (13a and rouge tokens mostly coincide).
        rh, rr, bh, br = hyp.rouge, ref.rouge, hyp.bleu, ref.bleu
        data = _id_bytes([*rh, _SEP1, *rr, _SEP2, *bh, _SEP1, *br, _SEP2, _SEP2, _SEP2])
        if data is not None:
            rows = len(rh) + 1 + len(rr)
            texts.append((0, data, 0, len(rh), rows))
            texts.append((1, data, rows + 1, len(bh), len(bh) + 1 + len(br)))
    if not texts and rouge:
        data = _word_bytes(hyp.rouge, ref.rouge, 2)
        if data is None:
            return None
        texts.append((0, data, 0, len(hyp.rouge), len(hyp.rouge) + 1 + len(ref.rouge)))
    if len(texts) < 2 and bleu:
        data = _word_bytes(hyp.bleu, ref.bleu, 4)
        if data is None:
            return None
        texts.append((1, data, 0, len(hyp.bleu), len(hyp.bleu) + 1 + len(ref.bleu)))
    if chrf:
        hb, rb = hyp.latin1, ref.latin1
        if hb is not None and rb is not None:
            data = b"".join((hb, _CHAR_SEP1, rb, _CHAR_SEP2 * (CHRF_ORDER + 1)))
            texts.append((2, data, 0, len(hb), len(hb) + 1 + len(rb)))
        else:
            char_data = _alphabet_bytes(hyp.char_codes, ref.char_codes)
            if char_data is None:
                return None
            texts.append((2, char_data, 0, len(hyp.chrf), len(hyp.chrf) + 1 + len(ref.chrf)))
    total = sum(t[4] for t in texts)
    keys = np.empty(total, dtype=np.uint64)
    ends: list[int] = []
    offset = 0
    for family, data, start, n_hyp, rows in texts:
        dtype, shift = _BYTE_FAMILIES[family][:2]
        view = keys[offset : offset + rows]
        packed: Any = np.ndarray(
            (rows,), dtype, data, start, (1,)
        )  # overlapping big-endian windows
        if shift:
            # dtype: shift in 64 bits (numpy 1.x would shift the 16/32-bit windows, then cast).
            np.left_shift(packed, _SHIFTS[shift], out=view, dtype=np.uint64)
        else:
            np.bitwise_and(packed, _NOT_ONE, out=view)
        view[n_hyp + 1 :] |= _ONE
        view.sort()
        offset += rows
        ends.append(offset)
    matches = _run_matches(keys, CHRF_ORDER, 8, 16, ends)
    out = [0] * _N_GROUPS
    for i, (family, _, _, _, _) in enumerate(texts):
        order, groups = _BYTE_FAMILIES[family][2:]
        out[groups] = matches[:order, i].tolist()
    return out


def ngram_matches(
    hyp: Prepared, ref: Prepared, rouge: bool = True, bleu: bool = True, chrf: bool = True
) -> list[int] | None:
    """Clipped match counts indexed by group (see the ``*_GROUPS`` constants); None when a
    pair's vocabulary or alphabet is too large to pack (the Counter path is used then)."""
    if not (rouge or bleu or chrf):
        return [0] * _N_GROUPS
    fast = _byte_matches(hyp, ref, rouge, bleu, chrf)
    if fast is not None:
        return fast
    out = [0] * _N_GROUPS
    if rouge:
        keys = _word_keys(hyp.rouge, ref.rouge, 2)
        if keys is None:
            return None
        out[ROUGE_GROUPS[0] : ROUGE_GROUPS[-1] + 1] = _order_matches(keys, len(hyp.rouge), 2, 16)
    if bleu:
        keys = _word_keys(hyp.bleu, ref.bleu, 4)
        if keys is None:
            return None
        out[BLEU_GROUPS[0] : BLEU_GROUPS[-1] + 1] = _order_matches(keys, len(hyp.bleu), 4, 16)
    if chrf:
        packed = _char_keys(hyp, ref)
        if packed is None:
            return None
        keys, bits = packed
        n_hyp = len(hyp.chrf)
        out[CHRF_GROUPS[0] : CHRF_GROUPS[-1] + 1] = _order_matches(keys, n_hyp, CHRF_ORDER, bits)
    return out


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
        hc, rc = hyp.chrf, ref.chrf
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


Score = tuple[float, float, float]
"""(precision, recall, F) — rouge-score's ``Score``."""


def _rouge_n(matches: int, hyp_len: int, ref_len: int, n: int) -> Score:
    precision = matches / max(max(hyp_len - n + 1, 0), 1)
    recall = matches / max(max(ref_len - n + 1, 0), 1)
    return precision, recall, _f1(precision, recall)


def rouge_l(hyp_tokens: list[str], ref_tokens: list[str]) -> Score:
    if not hyp_tokens or not ref_tokens:
        return 0.0, 0.0, 0.0
    lcs = LCSseq.similarity(ref_tokens, hyp_tokens)
    precision, recall = lcs / len(hyp_tokens), lcs / len(ref_tokens)
    return precision, recall, _f1(precision, recall)


def _lcs_indices(ref: list[str], can: list[str]) -> list[int]:
    """rouge-score ``lcs_ind``: the reference indices of the LCS its table backtrack reads out
    (which LCS matters for the union below, so the table and the tie rule are rouge-score's)."""
    rows, cols = len(ref), len(can)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        above, row, word = table[i - 1], table[i], ref[i - 1]
        for j in range(1, cols + 1):
            if word == can[j - 1]:
                row[j] = above[j - 1] + 1
            else:
                left, up = row[j - 1], above[j]
                row[j] = up if up > left else left
    out: list[int] = []
    i, j = rows, cols
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            out.append(i - 1)
            i -= 1
            j -= 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    out.reverse()
    return out


def rouge_lsum(hyp_lines: list[list[str]], ref_lines: list[list[str]]) -> Score:
    """rouge-score ``_summary_level_lcs``: union LCS of each reference line against every
    output line, each token counted at most as often as both texts have it."""
    m = sum(map(len, ref_lines))
    n = sum(map(len, hyp_lines))
    if not hyp_lines or not ref_lines or not m or not n:
        return 0.0, 0.0, 0.0
    left_ref: Counter[str] = Counter(chain.from_iterable(ref_lines))
    left_hyp: Counter[str] = Counter(chain.from_iterable(hyp_lines))
    hits = 0
    for ref in ref_lines:
        union = sorted(set().union(*(_lcs_indices(ref, can) for can in hyp_lines)))
        for token in (ref[i] for i in union):
            if left_hyp[token] > 0 and left_ref[token] > 0:
                hits += 1
                left_hyp[token] -= 1
                left_ref[token] -= 1
    precision, recall = hits / n, hits / m
    return precision, recall, _f1(precision, recall)


def _my_log(num: float) -> float:
    return -9999999999 if num == 0.0 else math.log(num)


def bleu_score(
    correct: Sequence[float],
    sys_len: int,
    ref_len: int,
    method: str = "exp",
    smooth_value: float | None = None,
    total: Sequence[float] | None = None,
) -> float:
    """sacrebleu ``BLEU.compute_bleu`` with ``effective_order=True`` (as ``sentence_bleu``),
    smoothing ``method`` one of exp, floor, add-k, none. ``total`` defaults to the output's
    n-gram counts, ``max(sys_len - n + 1, 0)``."""
    correct = list(correct)
    total = list(total) if total is not None else [max(sys_len - n, 0) for n in range(4)]
    bp = 1.0
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    if not any(correct):
        return 0.0
    k = 0.0 if smooth_value is None else smooth_value
    precisions = [0.0] * 4
    smooth_mteval = 1.0
    eff_order = 4
    for n in range(1, 5):
        if method == "add-k" and n > 1:
            correct[n - 1] += k
            total[n - 1] += k
        if total[n - 1] == 0:
            break
        eff_order = n
        if correct[n - 1] == 0:
            if method == "exp":
                smooth_mteval *= 2
                precisions[n - 1] = 100.0 / (smooth_mteval * total[n - 1])
            elif method == "floor":
                precisions[n - 1] = 100.0 * k / total[n - 1]
        else:
            precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
    return bp * math.exp(sum([_my_log(p) for p in precisions[:eff_order]]) / eff_order)


def closest_ref_len(hyp_len: int, ref_lens: Sequence[int]) -> int:
    """sacrebleu ``BLEU._get_closest_ref_len``: the closest length, the shorter on a tie."""
    closest_diff, closest_len = -1, -1
    for ref_len in ref_lens:
        diff = abs(hyp_len - ref_len)
        if closest_diff == -1 or diff < closest_diff:
            closest_diff, closest_len = diff, ref_len
        elif diff == closest_diff and ref_len < closest_len:
            closest_len = ref_len
    return closest_len


def bleu_multi_stats(hyp: list[str], refs: Sequence[list[str]]) -> tuple[list[int], int]:
    """sacrebleu's multi-reference statistics: each output n-gram (n ≤ 4) clipped by its
    largest count in any one reference; and the closest reference length."""
    correct = [0] * 4
    for n in range(1, 5):
        merged: Counter[Any] = Counter()
        for ref in refs:
            for gram, c in _ngram_counts(ref, n).items():
                if c > merged[gram]:
                    merged[gram] = c
        for gram, c in _ngram_counts(hyp, n).items():
            r = merged.get(gram, 0)
            correct[n - 1] += c if c < r else r
    return correct, closest_ref_len(len(hyp), [len(r) for r in refs])


ChrfStats = list[tuple[int, int, int]]
"""Per order: (output n-grams — 0 when the reference has none —, reference n-grams, matches)."""


def chrf_char_stats(matches: Sequence[int], len_h: int, len_r: int) -> ChrfStats:
    """sacrebleu's character statistics from the clipped matches per order and the lengths."""
    out: ChrfStats = []
    for n in range(1, CHRF_ORDER + 1):
        n_ref = max(len_r - n + 1, 0)
        out.append((max(len_h - n + 1, 0) if n_ref else 0, n_ref, matches[n - 1]))
    return out


def chrf_word_stats(hyp_words: list[str], ref_words: list[str], order: int = 2) -> ChrfStats:
    """chrF++'s word n-gram statistics (sacrebleu ``_get_match_statistics``)."""
    out: ChrfStats = []
    for n in range(1, order + 1):
        h, r = _ngram_counts(hyp_words, n), _ngram_counts(ref_words, n)
        n_ref = sum(r.values())
        out.append((sum(h.values()) if r else 0, n_ref, _overlap(h, r)))
    return out


def chrf_from_stats(stats: ChrfStats, beta: int = 2) -> float:
    """sacrebleu ``CHRF._compute_f_score`` without eps smoothing (its default)."""
    factor = beta**2
    avg_prec = avg_rec = 0.0
    effective_order = 0
    for n_hyp, n_ref, n_match in stats:
        if n_hyp > 0 and n_ref > 0:
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


def chrf_score(matches: list[int], len_h: int, len_r: int) -> float:
    """sacrebleu ``CHRF()`` sentence score (char order 6, β = 2, no eps smoothing) from the
    clipped matches per order and the whitespace-free lengths."""
    return chrf_from_stats(chrf_char_stats(matches, len_h, len_r))


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
                from genaicompare.metrics._nltk import porter_stemmer

                _stemmer = porter_stemmer()  # nltk without scipy: 0.5 s, not 2–4 s
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


_ROUGE_PARTS = ("_precision", "_recall", "")  # the order of a Score triple
_DEFAULT_NAMES = frozenset(REFERENCE_METRICS)


def lexical_scores(
    output: str | Prepared,
    reference: str | Prepared | Sequence[str | Prepared],
    *,
    synonyms: SynonymFn | None = None,
    stem: bool = False,
    names: frozenset[str] | None = None,
) -> dict[str, float]:
    """Every lexical metric of ``output`` against ``reference`` — one text, or a list of
    references combined as each metric's reference implementation does (see the module
    docstring). ``names`` selects (None: :data:`REFERENCE_METRICS`; the
    :data:`EXTRA_METRICS` only when named).

    ``synonyms`` (a WordNet lookup, see :mod:`genaicompare.metrics.wordnet`) makes ``meteor``;
    without it the METEOR value is reported as ``meteor_nosyn``.
    """
    hyp = output if isinstance(output, Prepared) else _prepare_cached(output, stem)
    wanted = _DEFAULT_NAMES if names is None else names
    if isinstance(reference, (str, Prepared)):
        return _scores(hyp, _as_prepared(reference, stem), synonyms, wanted)
    refs = [_as_prepared(r, stem) for r in reference]
    if not refs:
        raise ValueError("no reference")
    if len(refs) == 1:
        return _scores(hyp, refs[0], synonyms, wanted)
    return _multi_scores(hyp, refs, synonyms, wanted)


def _as_prepared(text: str | Prepared, stem: bool) -> Prepared:
    return text if isinstance(text, Prepared) else _prepare_cached(text, stem)


def _multi_scores(
    hyp: Prepared, refs: list[Prepared], synonyms: SynonymFn | None, wanted: frozenset[str]
) -> dict[str, float]:
    """Several references: per-reference scores (every part of a triple whose best member is
    chosen by F), combined; BLEU from sacrebleu's merged statistics."""
    per_ref = set(wanted) - set(BLEU_SMOOTHING)
    rouge_types = [t for t in ROUGE_TYPES if any(t + part in wanted for part in _ROUGE_PARTS)]
    per_ref.update(t + part for t in rouge_types for part in _ROUGE_PARTS)
    squad = ("token_precision", "token_recall", "token_f1")
    if per_ref & set(squad):
        per_ref.update(squad)
    each = [_scores(hyp, ref, synonyms, frozenset(per_ref)) for ref in refs]
    out: dict[str, float] = {}
    # rouge-score score_multi (np.argmax: the first best F); SQuAD's max over ground truths.
    triples = [(t, [t + part for part in _ROUGE_PARTS]) for t in rouge_types]
    if "token_f1" in per_ref:
        triples.append(("token_f1", list(squad)))
    chosen: set[str] = set()
    for key, parts in triples:
        best = max(range(len(each)), key=lambda i: (each[i][key], -i))
        for name in parts:
            if name in wanted:
                out[name] = each[best][name]
        chosen.update(parts)
    for name in each[0]:
        if name not in chosen:
            out[name] = max(scores[name] for scores in each)  # EM, contains, chrF, METEOR, …
    bleu_names = [n for n in BLEU_SMOOTHING if n in wanted]
    if bleu_names:
        correct, ref_len = bleu_multi_stats(hyp.bleu, [r.bleu for r in refs])
        for name in bleu_names:
            method, value = BLEU_SMOOTHING[name]
            out[name] = bleu_score(correct, len(hyp.bleu), ref_len, method, value)
    return out


def _scores(
    hyp: Prepared, ref: Prepared, synonyms: SynonymFn | None, wanted: frozenset[str]
) -> dict[str, float]:
    def want(name: str) -> bool:
        return name in wanted

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
    rouge: dict[str, bool] = {t: any(want(t + part) for part in _ROUGE_PARTS) for t in ROUGE_TYPES}
    rouge_n = rouge["rouge1"] or rouge["rouge2"]
    bleu = any(want(n) for n in BLEU_SMOOTHING)
    chrf = want("chrf") or want("chrf_pp")
    if rouge_n or bleu or chrf:
        counts = _all_matches(hyp, ref, rouge_n, bleu, chrf)
        for t, group, n in (("rouge1", ROUGE_GROUPS[0], 1), ("rouge2", ROUGE_GROUPS[1], 2)):
            if rouge[t]:
                _put_score(out, want, t, _rouge_n(counts[group], len(hyp.rouge), len(ref.rouge), n))
        if bleu:
            correct = [counts[g] for g in BLEU_GROUPS]
            for name, (method, value) in BLEU_SMOOTHING.items():
                if want(name):
                    out[name] = bleu_score(correct, len(hyp.bleu), len(ref.bleu), method, value)
        if chrf:
            stats = chrf_char_stats([counts[g] for g in CHRF_GROUPS], len(hyp.chrf), len(ref.chrf))
            if want("chrf"):
                out["chrf"] = chrf_from_stats(stats)
            if want("chrf_pp"):
                words = chrf_word_stats(hyp.chrf_words, ref.chrf_words)
                out["chrf_pp"] = chrf_from_stats(stats + words)
    if rouge["rougeL"]:
        _put_score(out, want, "rougeL", rouge_l(hyp.rouge, ref.rouge))
    if rouge["rougeLsum"]:
        _put_score(out, want, "rougeLsum", rouge_lsum(hyp.rouge_lines, ref.rouge_lines))
    if want("meteor") or want("meteor_nosyn"):
        value = meteor(hyp.words_lower, ref.words_lower, synonyms)
        out["meteor" if synonyms is not None else "meteor_nosyn"] = value
    if want("fuzzy_ratio"):
        out["fuzzy_ratio"] = fuzz.ratio(hyp.text, ref.text)
    if want("token_set_ratio"):
        out["token_set_ratio"] = fuzz.token_set_ratio(hyp.text, ref.text, processor=default_process)
    return out


def _put_score(
    out: dict[str, float], want: Callable[[str], bool], rouge_type: str, score: Score
) -> None:
    for part, value in zip(_ROUGE_PARTS, score, strict=True):
        if want(rouge_type + part):
            out[rouge_type + part] = value
