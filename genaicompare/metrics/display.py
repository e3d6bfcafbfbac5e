"""How a metric reads: its family, which way is better, its label, its text, why it is absent.

Pure domain code shared by the front ends (the TUI's metrics matrix; the ``scores`` CLI later)::

    family("rougeL")                    # "reference"
    direction("latency_ms")             # "lower"
    label("tokens_per_s")               # "tok/s"
    format_value("bleu", 5.52)          # "5.5"
    format_value("latency_ms", 1250.0)  # "1.25 s"
    best("latency_ms", [900.0, 1250.0]) # {0}
    absent_reason("rougeL", Answer(state="complete", metrics={}, has_reference=False))
                                        # "no reference"

Names are the metric names the engine stores (:data:`genaicompare.metrics.engine.METRICS`), the
per-alias names (``similarity_to:<alias>``, ``judge_pairwise:<alias>``), the operational fields of
a response (``state``, ``ttft_ms`` …) and assertion rows (``assert:<spec key>``). Row *keys* are
what a user shows, hides and orders: the name itself, or one key for every name of a kind
(``assertions``, ``similarity_to:*``, ``judge_pairwise:*``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from genaicompare.metrics import ops, readability
from genaicompare.metrics.names import DETOXIFY_LABELS, PROFANITY, REFERENCE_METRICS

Direction = Literal["higher", "lower", "none"]

FAMILY_ORDER: tuple[str, ...] = (
    "assertions",
    "judge",
    "reference",
    "semantic",
    "safety",
    "readability",
    "operational",
)
"""The matrix's row groups, top to bottom."""

FAMILY_LABELS: dict[str, str] = {
    "assertions": "assertions",
    "judge": "judge",
    "reference": "reference",
    "semantic": "semantic",
    "safety": "safety",
    "readability": "readability",
    "operational": "operational",
}

ASSERT_PREFIX = "assert:"
PER_ALIAS = ("similarity_to:", "judge_pairwise:")

_JUDGE = (
    "judge_score",
    "judge_pairwise",
    "judge_groundedness",
    "judge_error",
    "judge_helpfulness",
    "judge_relevance",
    "judge_accuracy",
    "judge_detail",
    "judge_pairwise:*",
)
_REFERENCE = (*REFERENCE_METRICS, "meteor_nosyn")
_SEMANTIC = ("similarity", "similarity_to:*", "groundedness", "relevance")
_TOXICITY = (*DETOXIFY_LABELS, PROFANITY)
_SAFETY = (
    *_TOXICITY,
    "pii_count",
    "pii_types",
    *(f"prompt_{n}" for n in (*_TOXICITY, "pii_count", "pii_types")),
)
_OPERATIONAL = (
    "state",
    "ttft_ms",
    "tokens_per_s",
    "tokens_out",
    "tokens_in",
    "latency_ms",
    "cost_usd",
    "chars",
    "words",
)

KEYS: tuple[str, ...] = (
    "assertions",
    *_JUDGE,
    *_REFERENCE,
    *_SEMANTIC,
    *_SAFETY,
    *readability.READABILITY_METRICS,
    *_OPERATIONAL,
)
"""Every row key, in the matrix's default order (families in :data:`FAMILY_ORDER`)."""

DEFAULT_ROWS: tuple[str, ...] = (
    "assertions",
    "judge_score",
    "judge_pairwise",
    "judge_groundedness",
    "judge_error",
    "exact_match",
    "token_f1",
    "rougeL",
    "bleu",
    "chrf",
    "meteor",
    "meteor_nosyn",
    "similarity",
    "similarity_to:*",
    "groundedness",
    "relevance",
    "toxicity",
    PROFANITY,
    "pii_count",
    "pii_types",
    "prompt_toxicity",
    f"prompt_{PROFANITY}",
    "prompt_pii_count",
    "flesch_reading_ease",
    "state",
    "ttft_ms",
    "tokens_per_s",
    "tokens_out",
    "latency_ms",
    "cost_usd",
)
"""The rows shown until the user picks others (a subset of :data:`KEYS`, in its order)."""

_LABELS: dict[str, str] = {
    "assertions": "assertions",
    "judge_score": "judge score",
    "judge_pairwise": "judge pairwise",
    "judge_groundedness": "judge grounded",
    "judge_error": "judge error",
    "judge_helpfulness": "judge helpful",
    "judge_relevance": "judge relevant",
    "judge_accuracy": "judge accurate",
    "judge_detail": "judge detail",
    "judge_pairwise:*": "judge vs <model>",
    "exact_match": "exact match",
    "contains": "contains ref",
    "token_precision": "token P",
    "token_recall": "token R",
    "token_f1": "token F1",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "bleu": "BLEU",
    "chrf": "chrF",
    "meteor": "METEOR",
    "meteor_nosyn": "METEOR (no syn)",
    "fuzzy_ratio": "fuzzy ratio",
    "token_set_ratio": "token set ratio",
    "similarity": "similarity",
    "similarity_to:*": "similar to <model>",
    "groundedness": "groundedness",
    "relevance": "relevance",
    "pii_count": "PII found",
    "pii_types": "PII types",
    "flesch_reading_ease": "Flesch ease",
    "fk_grade": "FK grade",
    "reading_ease_band": "ease band",
    "state": "state",
    "ttft_ms": "TTFT",
    "tokens_per_s": "tok/s",
    "tokens_out": "tokens out",
    "tokens_in": "tokens in",
    "latency_ms": "latency",
    "cost_usd": "cost",
    "chars": "chars",
    "words": "words",
}

_HUNDRED = frozenset(("bleu", "chrf", "fuzzy_ratio", "token_set_ratio"))
_COUNTS = frozenset(
    ("tokens_in", "tokens_out", "chars", "words", "pii_count", "pii_types", "reading_ease_band")
)
YES_NO = frozenset(("exact_match", "contains"))
"""Metrics whose value is 1 (yes) or 0 (no): shown as such, compared as pass/fail rates."""
_LOWER = frozenset(("ttft_ms", "latency_ms", "cost_usd", "pii_count", "pii_types", *_TOXICITY))
_NONE = frozenset(
    ("state", "tokens_in", "tokens_out", "chars", "words", "fk_grade", "reading_ease_band")
)
_NONE |= {f"prompt_{n}" for n in (*_TOXICITY, "pii_count", "pii_types")}  # not the model's doing
_NONE |= {"judge_error", "similarity_to:*"}  # near another model is not better or worse

HIDDEN_REASONS = frozenset(("not requested", "not needed", "no judge"))
"""Absence reasons for which a row whose every cell is absent is left out (nothing to learn)."""


def key(name: str) -> str:
    """The row key that shows ``name`` (per-alias names share one key, assertions another)."""
    if name.startswith(ASSERT_PREFIX):
        return "assertions"
    for prefix in PER_ALIAS:
        if name.startswith(prefix):
            return prefix + "*"
    return name


def family(name: str) -> str:
    """The family (one of :data:`FAMILY_ORDER`) ``name`` is shown in."""
    k = key(name)
    if k == "assertions":
        return "assertions"
    if k.startswith("judge_"):
        return "judge"
    if k in _REFERENCE:
        return "reference"
    if k in _SEMANTIC:
        return "semantic"
    if k in readability.READABILITY_METRICS:
        return "readability"
    if k in _OPERATIONAL or k in ops.OPS_METRICS:
        return "operational"
    if k in _SAFETY or k.startswith(("toxicity_", "prompt_")):
        return "safety"  # checkpoints other than detoxify's original add labels
    return "reference" if k in REFERENCE_METRICS else "semantic"


def direction(name: str) -> Direction:
    """Which way is better: ``higher`` (ROUGE, similarity, judge), ``lower`` (latency, cost,
    toxicity, PII in the answer) or ``none`` (counts that are neither, the prompt's own figures)."""
    k = key(name)
    if k in _NONE or k == "assertions" or k.startswith("prompt_"):
        return "none"
    if k in _LOWER or k.startswith("toxicity_"):
        return "lower"
    return "higher"


def label(name: str) -> str:
    """A short human label (``rougeL`` → ``ROUGE-L``; ``similarity_to:b`` → ``similar to b``)."""
    if name.startswith(ASSERT_PREFIX):
        return name[len(ASSERT_PREFIX) :]
    for prefix, words in (("similarity_to:", "similar to"), ("judge_pairwise:", "judge vs")):
        if name.startswith(prefix) and name != prefix + "*":
            return f"{words} {name[len(prefix) :]}"
    if name.startswith("prompt_"):
        return "prompt " + label(name[len("prompt_") :])
    return _LABELS.get(name, name.replace("_", " "))


def format_value(name: str, value: float | None, *, local: bool = False) -> str:
    """``value`` as ``name`` reads: 0–1 scores ``0.62``, BLEU/chrF on 0–100 ``5.5``, times in ms
    or s, counts and tokens as integers, cost in $ (``unknown`` without a price, ``free`` for a
    ``local`` model), judge pairwise as won/lost/tie. None reads ``unknown`` for cost, else ``—``."""
    k = key(name)
    if k == "judge_error":
        return "error"  # its value is always None: the reason is in its detail
    if k == "cost_usd":
        if local:
            return "free"
        if value is None:
            return "unknown"
        return f"${value:.2g}" if 0 < value < 0.0001 else f"${value:.4f}"
    if value is None or not math.isfinite(value):
        return "—"
    if k.startswith("prompt_"):
        k = k[len("prompt_") :]  # the prompt's figures read as the answer's
    if k in ("ttft_ms", "latency_ms"):
        return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"
    if k in _COUNTS:
        return f"{value:.0f}"
    if k in YES_NO:
        return "yes" if value >= 1 else "no"
    if k in _HUNDRED:
        return f"{value:.1f}"
    if k == "tokens_per_s" or k in ("flesch_reading_ease", "fk_grade"):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
    if k in ("judge_pairwise", "judge_pairwise:*"):
        verdicts = {1.0: "+1 won", -1.0: "−1 lost", 0.0: "0 tie"}
        return verdicts.get(value, f"{value:+.2f}")
    if k.startswith("judge_") and k != "judge_groundedness":
        return f"{value:.1f}"  # 1–10
    if (k in _TOXICITY or k.startswith("toxicity_")) and 0 < value < 0.005:
        return "<0.01"  # a toxicity of 0.0004 is not 0
    return f"{value:.2f}"


def best(name: str, values: Sequence[float | None]) -> set[int]:
    """Indices of the best of ``values`` by :func:`direction` (ties share it). Empty when there
    is no direction, fewer than two numbers, or every number is the same (no one is better).
    Pass None for an answer that should not compete (a failed one's latency is no win)."""
    way = direction(name)
    numbers = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if way == "none" or len(numbers) < 2:
        return set()
    top = max(v for _, v in numbers) if way == "higher" else min(v for _, v in numbers)
    winners = {i for i, v in numbers if v == top}
    return set() if len(winners) == len(numbers) else winners


@dataclass(frozen=True)
class Answer:
    """What :func:`absent_reason` needs to know about one answer."""

    state: str | None
    """Its finish state (``complete``, ``length``, ``error`` …); None while it streams,
    ``queued`` before it starts."""
    metrics: Mapping[str, float | None] = field(default_factory=dict)
    """The metrics it has (its final ones once finished)."""
    has_reference: bool = False
    has_context: bool = False
    pending: bool = False
    """Its finished metrics are being computed."""
    selected: Collection[str] | None = None
    """Metric or family names computed for it (None: every available one)."""
    judge_mode: str | None = None
    """The catalog judge's mode (``score`` | ``pairwise`` | ``both``); None: no judge."""
    models: int = 2
    """How many models answered the prompt (a pairwise verdict needs two)."""
    alias: str | None = None
    """Its model's name as per-alias metrics spell it (``similarity_to:<alias>``)."""


_OK_STATES = frozenset(("complete", "length", "content_filter", "cached"))


def absent_reason(name: str, answer: Answer) -> str | None:
    """Why ``name`` has no value for ``answer`` (None when it has one): ``streaming``,
    ``error answer``, ``computing…``, ``no reference``, ``no context``, ``no judge``,
    ``judge error``, ``no checkpoint``, ``no WordNet``, ``no model``, ``self``, ``not
    requested``, ``not needed``, or ``not computed``. A present None is ``unknown``."""
    failed = answer.state is not None and answer.state not in _OK_STATES
    if name in answer.metrics:
        if answer.metrics[name] is not None or name in ("cost_usd", "judge_error"):
            return None
        return f"{answer.state} answer" if failed else "unknown"
    if answer.alias is not None and name in (f"{p}{answer.alias}" for p in PER_ALIAS):
        return "self"
    fam = family(name)
    if answer.selected is not None and not requested(name, answer.selected):
        return "not requested"
    if fam == "judge" and answer.judge_mode is None:
        return "no judge"
    if answer.state is None:
        return "streaming"
    if answer.state == "queued":
        return "waiting"
    if failed:
        return f"{answer.state} answer"
    if fam == "judge":
        return _judge_reason(name, answer)
    if answer.pending:
        return "computing…"
    if fam == "reference" and not answer.has_reference:
        return "no reference"
    if name == "groundedness" and not answer.has_context:
        return "no context"
    if name == "similarity" and not answer.has_reference:
        return "no reference"
    if fam == "semantic" and not any(family(n) == "semantic" for n in answer.metrics):
        return "no model"  # the engine skips semantic metrics only without an embedding model
    if name == "meteor" and "meteor_nosyn" in answer.metrics:
        return "no WordNet"
    if name == "meteor_nosyn" and "meteor" in answer.metrics:
        return "not needed"
    base = name[len("prompt_") :] if name.startswith("prompt_") else name
    if base in DETOXIFY_LABELS and any(p in answer.metrics for p in _profanity(name)):
        return "no checkpoint"
    if base == PROFANITY and any(n in answer.metrics for n in DETOXIFY_LABELS):
        return "not needed"
    return "not computed"


def _profanity(name: str) -> tuple[str, ...]:
    return (f"prompt_{PROFANITY}",) if name.startswith("prompt_") else (PROFANITY,)


def _judge_reason(name: str, answer: Answer) -> str:
    if answer.judge_mode is None:
        return "no judge"
    k = key(name)
    if k == "judge_error":
        return "not needed"  # no error is good news, not a gap
    if "judge_error" in answer.metrics:
        return "judge error"
    pairwise = k in ("judge_pairwise", "judge_pairwise:*")
    if pairwise and (answer.judge_mode == "score" or answer.models < 2):
        return "not requested"
    if not pairwise and k != "judge_groundedness" and answer.judge_mode == "pairwise":
        return "not requested"
    if k == "judge_groundedness" and not answer.has_context:
        return "no context"
    return "judging…"


def requested(name: str, selected: Collection[str]) -> bool:
    """Whether a selection of metric or family names (``lexical``, ``semantic``, ``toxicity``,
    ``pii``, ``readability``, ``ops``, ``judge``) computes ``name``."""
    k = key(name)
    if k in _OPERATIONAL or k == "assertions" or k.startswith("judge_"):
        return True  # from the response itself, from the assert block, or the judge's own
    base = k[len("prompt_") :] if k.startswith("prompt_") else k
    families = {
        "lexical": _REFERENCE,
        "semantic": _SEMANTIC,
        "toxicity": _TOXICITY,
        "pii": ("pii_count", "pii_types"),
        "readability": readability.READABILITY_METRICS,
    }
    for fam, members in families.items():
        if base in members and fam in selected:
            return True
    if base == "meteor_nosyn" and "meteor" in selected:
        return True
    if base == PROFANITY and any(n in selected for n in DETOXIFY_LABELS):
        return True
    if k == "similarity_to:*":
        return "similarity" in selected or any(n.startswith("similarity_to:") for n in selected)
    return base in selected or k in selected


def ordered(names: Iterable[str], keys: Sequence[str] = DEFAULT_ROWS) -> list[str]:
    """``names`` whose key is in ``keys``, in ``keys``' order (per-alias names and assertions by
    name within their key). Names of other keys are left out."""
    rank = {k: i for i, k in enumerate(keys)}
    chosen = [n for n in set(names) if key(n) in rank]
    return sorted(chosen, key=lambda n: (rank[key(n)], n))


__all__ = [
    "DEFAULT_ROWS",
    "FAMILY_LABELS",
    "FAMILY_ORDER",
    "HIDDEN_REASONS",
    "KEYS",
    "Answer",
    "Direction",
    "absent_reason",
    "best",
    "direction",
    "family",
    "format_value",
    "key",
    "label",
    "ordered",
    "requested",
]
