"""Every metric name the engine can produce, and its family, scale and direction.

Light on purpose (no numpy, rapidfuzz or models): the catalog loader checks each prompt's
``assert`` names against :data:`METRICS` before the TUI's main screen, and importing the engine
(numpy, ≈0.2 s) is not needed for that.
"""

from __future__ import annotations

from dataclasses import dataclass

from genaicompare.metrics import ops, readability

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
"""The lexical metrics computed by default (``meteor`` is reported as ``meteor_nosyn`` without
WordNet)."""

ROUGE_TYPES: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")

EXTRA_METRICS: tuple[str, ...] = (
    "rougeLsum",
    *(f"{t}_{part}" for t in ROUGE_TYPES for part in ("precision", "recall")),
    "bleu_floor",
    "bleu_add_k",
    "bleu_none",
    "chrf_pp",
)
"""Lexical metrics computed only when named (``metrics:``, ``--metrics``, ``assert:``)."""

SEMANTIC_METRICS: tuple[str, ...] = ("similarity", "relevance", "groundedness")

DETOXIFY_LABELS: tuple[str, ...] = (
    "toxicity",
    "severe_toxicity",
    "obscene",
    "threat",
    "insult",
    "identity_attack",
)
"""The six labels of detoxify's ``original`` model (other checkpoints may add more)."""

PROFANITY = "profanity"


@dataclass(frozen=True)
class MetricInfo:
    family: str
    scale: str
    """``0-1``, ``0-100``, ``count``, ``ms`` … (for display)."""
    higher_is_better: bool | None
    needs: str = ""
    """What the metric needs: ``reference``, ``context``, ``others``, ``model`` …"""


def _registry() -> dict[str, MetricInfo]:
    reg: dict[str, MetricInfo] = {}
    for name in REFERENCE_METRICS:
        scale = "0-100" if name in ("bleu", "chrf", "fuzzy_ratio", "token_set_ratio") else "0-1"
        reg[name] = MetricInfo("lexical", scale, True, "reference")
    for name in EXTRA_METRICS:
        scale = "0-100" if name.startswith(("bleu", "chrf")) else "0-1"
        reg[name] = MetricInfo("lexical", scale, True, "reference")
    reg["meteor_nosyn"] = MetricInfo("lexical", "0-1", True, "reference")
    reg["similarity"] = MetricInfo("semantic", "cosine", True, "reference")
    reg["relevance"] = MetricInfo("semantic", "cosine", True, "question")
    reg["groundedness"] = MetricInfo("semantic", "0-1", True, "context")
    for label in DETOXIFY_LABELS:
        reg[label] = MetricInfo("safety", "0-1", False, "model")
        reg[f"prompt_{label}"] = MetricInfo("safety", "0-1", False, "model")
    reg[PROFANITY] = MetricInfo("safety", "0-1", False)
    reg[f"prompt_{PROFANITY}"] = MetricInfo("safety", "0-1", False)
    for name in ("pii_count", "pii_types"):
        reg[name] = MetricInfo("safety", "count", False)
        reg[f"prompt_{name}"] = MetricInfo("safety", "count", False)
    reg["flesch_reading_ease"] = MetricInfo("readability", "score", True)
    reg["fk_grade"] = MetricInfo("readability", "grade", None)
    reg["reading_ease_band"] = MetricInfo("readability", "band 1-7", None)
    for name in ops.OPS_METRICS:
        better = (
            None
            if name in ("tokens_in", "tokens_out", "chars", "words")
            else (name == "tokens_per_s")
        )
        reg[name] = MetricInfo("ops", name.rsplit("_", 1)[-1], better)
    for name in (
        "judge_helpfulness",
        "judge_relevance",
        "judge_accuracy",
        "judge_detail",
        "judge_score",
        "judge_pairwise",
        "judge_groundedness",
        "judge_error",
    ):
        scale = {"judge_pairwise": "-1..1", "judge_groundedness": "0-1"}.get(name, "1-10")
        reg[name] = MetricInfo("judge", scale, True, "judge")
    return reg


METRICS: dict[str, MetricInfo] = _registry()
"""Every metric name the engine can produce (plus ``similarity_to:<alias>``)."""

FAMILIES: dict[str, tuple[str, ...]] = {
    # The variants (chrf_pp, bleu_floor, rougeLsum, rouge1_precision, …) only when named.
    "lexical": (*REFERENCE_METRICS, "meteor_nosyn"),
    "semantic": (*SEMANTIC_METRICS,),
    "toxicity": (*DETOXIFY_LABELS, PROFANITY),
    "pii": ("pii_count", "pii_types"),
    "readability": readability.READABILITY_METRICS,
    "ops": ops.OPS_METRICS,
    # Computed by the judge (metrics.judge.JudgeRunner), not by this engine: the family exists
    # so ``--metrics judge`` selects it.
    "judge": tuple(n for n in _registry() if n.startswith("judge_")),
}


def is_known_metric(name: str) -> bool:
    if name in METRICS:
        return True
    for prefix in ("similarity_to:", "judge_pairwise:"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return True
    # Checkpoints other than detoxify's ``original`` add labels (unbiased: sexual_explicit, …).
    return name.startswith(("toxicity_", "prompt_"))
