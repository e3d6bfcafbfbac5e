"""Pairwise answer similarity: the embedding model's cosine when it is available, else lexical."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

SimilarityFn = Callable[[Sequence[tuple[str, str]]], list[float]]


@dataclass
class Similarity:
    """Pairwise answer similarity; ``method`` is shown wherever a figure appears."""

    fn: SimilarityFn
    method: str

    def pairs(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        # Identical texts are exactly 1.0 (an embedding cosine can come out as 0.9999999).
        todo = [(a, b) for a, b in pairs if a != b]
        scores = iter(self.fn(todo) if todo else [])
        return [1.0 if a == b else next(scores) for a, b in pairs]


def lexical_similarity(pairs: Sequence[tuple[str, str]]) -> list[float]:
    """rapidfuzz's normalised Indel similarity on word tokens (1.0 = the same words in order)."""
    from rapidfuzz.distance import Indel

    out = []
    for a, b in pairs:
        ta, tb = a.split(), b.split()
        out.append(1.0 if ta == tb else float(Indel.normalized_similarity(ta, tb)))
    return out


def get_similarity(prefer_semantic: bool = True) -> Similarity:
    """The metrics package's embedding similarity when its model is available, else lexical.

    Never silent: ``method`` names what was used and reports print it.
    """
    if prefer_semantic:
        try:
            from genaicompare.metrics import semantic

            embedder = semantic.get_embedder()
            if embedder is not None:

                def cosine(pairs: Sequence[tuple[str, str]]) -> list[float]:
                    return [float(x) for x in semantic.pairwise_similarity(embedder, pairs)]

                return Similarity(cosine, f"embedding cosine ({semantic.model_name(embedder)})")
        except Exception:
            pass
    return Similarity(lexical_similarity, "lexical (word-level Indel similarity)")
