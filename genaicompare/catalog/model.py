"""The catalog's pydantic models: models to compare, prompts, templates, judge; rendering.

A catalog names the models to compare and the prompts to run. Reading files is
:mod:`genaicompare.catalog.loader`'s job: it keeps no YAML positions on the fast path and finds
them only when an error needs one, so every error reads ``path:line:col: dotted.field: message``.
Rendering (final chat messages + a template hash) lives here, in the domain, not in the UI.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from genaicompare.core.errors import KnownError
from genaicompare.core.records import content_hash

MAX_CATALOG_BYTES = 50 * 1024 * 1024


class Task(str, Enum):
    summarization = "summarization"
    qa = "qa"
    classification = "classification"
    extraction = "extraction"
    generation = "generation"
    chat = "chat"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Params(BaseModel):
    """Sampling parameters passed to the provider. Known ones are typed; others pass through."""

    model_config = ConfigDict(extra="allow", frozen=True)

    temperature: float | None = Field(default=None, ge=0, le=2)
    """Sampling temperature."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Upper bound on generated tokens; a response that hits it ends in state ``length``."""
    top_p: float | None = Field(default=None, gt=0, le=1)
    """Nucleus sampling."""
    seed: int | None = None
    """Seed for providers that honour it (the local model does)."""
    stop: list[str] | None = None
    """Stop sequences."""

    @model_validator(mode="after")
    def _no_secrets(self) -> Params:
        for key in self.model_extra or {}:
            if re.search(r"(api_?key|token|secret|password|authorization)", key, re.I):
                raise ValueError(
                    f"'{key}' looks like a credential; keys come only from environment variables "
                    "(use api_key_env)"
                )
        return self

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Price(_Strict):
    """Per-model prices, used when litellm has no price for the model."""

    input_per_mtok: float = Field(ge=0)
    """USD per million prompt tokens."""
    output_per_mtok: float = Field(ge=0)
    """USD per million completion tokens."""


class ModelSpec(_Strict):
    """One model to compare."""

    id: str = Field(min_length=1, max_length=64)
    """Display alias, unique in the catalog (e.g. ``old``, ``new``, ``gpt-4o-mini``)."""
    model: str = Field(min_length=1)
    """litellm model string (``openai/gpt-4o-mini``, ``ollama/llama3``, ``local/smollm2``)."""
    params: Params = Params()
    """Sampling parameters; merged over ``defaults.params``."""
    api_base: str | None = None
    """Endpoint for OpenAI-compatible servers (vLLM, llama.cpp, LM Studio, LiteLLM Proxy)."""
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Name of the environment variable holding the key (never the key itself)."""
    system: str | None = None
    """System prompt for this model; overrides ``defaults.system`` (prompt-level wins over both)."""
    price: Price | None = None
    """Prices when litellm does not know the model."""

    @field_validator("api_base")
    @classmethod
    def _plain_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not re.match(r"^https?://", v):
            raise ValueError("must start with http:// or https://")
        if re.match(r"^https?://[^/?#]*@", v) or re.search(
            r"[?&](api[_-]?key|key|token)=", v, re.I
        ):
            raise ValueError(
                "must not carry credentials; keys come only from environment variables "
                "(use api_key_env)"
            )
        return v


class Defaults(_Strict):
    system: str | None = None
    """System prompt used when neither the prompt nor the model sets one."""
    params: Params = Params()
    """Parameters every model starts from."""
    metrics: list[str] | None = None
    """Metric names computed by default (None = all available)."""


class FewShot(_Strict):
    user: str
    assistant: str


class Message(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str


class JudgeSpec(_Strict):
    """Optional LLM-as-judge configuration (see the metrics package)."""

    model: str
    """litellm model string of the judge (the local model works)."""
    api_base: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    mode: Literal["score", "pairwise", "both"] = "score"
    params: Params = Params()
    min_agreement: float | None = Field(default=None, ge=-1.0, le=1.0)
    """Least Cohen's κ with human A/B votes (on enough shared answer pairs) for the judge to gate
    ``genaicompare run``; below it the run exits 2 (genaicompare.scoring.judge_card)."""


RUBRIC_SCALE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
PASS_FAIL = "pass-fail"
PASS_FAIL_VALUES = ("pass", "fail")


class RubricCriterion(_Strict):
    """One criterion a rater scores each answer on (``o`` in the TUI): a numeric scale such as
    ``1-5`` or ``pass-fail``."""

    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_ .-]*$")
    """What is judged (``accuracy``); shown in the rubric dialog, ``scores`` and exports."""
    scale: str = "1-5"
    """``LOW-HIGH`` (integers, 0 ≤ LOW < HIGH ≤ 10, e.g. ``1-5``) or ``pass-fail``."""

    @field_validator("scale", mode="before")
    @classmethod
    def _scale(cls, v: object) -> object:
        text = str(v).strip().lower() if isinstance(v, (str, int)) else v
        if text in (PASS_FAIL, "pass/fail", "passfail"):
            return PASS_FAIL
        m = RUBRIC_SCALE.match(text) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"scale must be LOW-HIGH (e.g. 1-5) or pass-fail, not {v!r}")
        lo, hi = int(m.group(1)), int(m.group(2))
        if not 0 <= lo < hi <= 10:
            raise ValueError(f"scale {v!r}: need 0 <= LOW < HIGH <= 10 (one key per point)")
        return f"{lo}-{hi}"

    @property
    def pass_fail(self) -> bool:
        return self.scale == PASS_FAIL

    @property
    def values(self) -> tuple[str, ...]:
        """Every value a rating of this criterion may take, lowest first."""
        if self.pass_fail:
            return PASS_FAIL_VALUES
        lo, hi = (int(x) for x in self.scale.split("-"))
        return tuple(str(i) for i in range(lo, hi + 1))


class Prompt(_Strict):
    """One evaluation prompt. Exactly one of ``prompt``, ``messages`` or ``template`` is given."""

    # `id: 7` and `reference: 4` are natural in YAML; they are text everywhere else.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, coerce_numbers_to_str=True
    )

    id: str = Field(min_length=1, max_length=200)
    prompt: str | None = None
    messages: list[Message] | None = None
    template: str | None = None
    """Name of an entry in the catalog's ``templates``."""
    vars: dict[str, str | int | float | bool] = Field(default_factory=dict)
    system: str | None = None
    few_shot: list[FewShot] = Field(default_factory=list)
    reference: str | None = None
    """Expected answer; reference-based metrics are skipped (not zero) without one. With
    ``references`` it is their first (filled in when only ``references`` is given)."""
    references: list[str] | None = None
    """Every acceptable answer; each metric combines them as its reference implementation does
    (:mod:`genaicompare.metrics.lexical`). ``reference`` alongside must be the first."""
    context: list[str] | str | None = None
    """Grounding passages for RAG-style prompts."""
    tags: list[str] = Field(default_factory=list)
    segment: str | None = None
    """Group label for fairness comparisons."""
    task: Task | None = None
    metrics: list[str] | None = None
    assert_: dict[str, str | int | float | bool] | None = Field(default=None, alias="assert")
    """Per-prompt assertions (``{rougeL: ">= 0.3", contains: Paris}``); the grammar and its
    evaluation live in :mod:`genaicompare.metrics.assertions`."""

    @field_validator("references", mode="before")
    @classmethod
    def _references_list(cls, v: object) -> object:
        if v is not None and not isinstance(v, list):
            raise ValueError(
                "must be a list of answers, e.g. [Paris, City of Paris] (for one answer use "
                "'reference')"
            )
        if isinstance(v, list) and not v:
            raise ValueError("must list at least one answer (or leave 'references' out)")
        return v

    @field_validator("references")
    @classmethod
    def _references_agree(cls, v: list[str] | None, info: ValidationInfo) -> list[str] | None:
        one = info.data.get("reference")
        if v is not None and one is not None and one != v[0]:
            raise ValueError(
                f"'reference' ({one!r}) must be the first of 'references' when both are given; "
                "give 'references' alone"
            )
        return v

    @model_validator(mode="after")
    def _one_source(self) -> Prompt:
        # Runs once per prompt: the common case must stay cheap for 50,000-prompt catalogs.
        if (self.prompt is not None) + (self.messages is not None) + (
            self.template is not None
        ) != 1:
            given = [n for n in ("prompt", "messages", "template") if getattr(self, n) is not None]
            raise ValueError(
                "give exactly one of 'prompt', 'messages' or 'template'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.vars and self.template is None:
            raise ValueError("'vars' is only used with 'template'")
        if self.few_shot and self.messages is not None:
            raise ValueError(
                "'few_shot' cannot be combined with 'messages' (write the examples as messages)"
            )
        if self.references is not None and self.reference is None:
            # Everything that shows or passes on one reference (the TUI, the judge) gets the
            # first; the dump then holds both, consistently, and loads back the same.
            object.__setattr__(self, "reference", self.references[0])
        return self

    @property
    def all_references(self) -> list[str]:
        """Every reference answer: ``references``, else ``[reference]``, else none."""
        if self.references is not None:
            return list(self.references)
        return [self.reference] if self.reference is not None else []

    @property
    def context_passages(self) -> list[str]:
        if self.context is None:
            return []
        return [self.context] if isinstance(self.context, str) else list(self.context)


class Catalog(_Strict):
    """A catalog: which models to compare, with which defaults, on which prompts."""

    name: str = Field(min_length=1)
    """Catalog name (stored with every run)."""
    version: str = "1"
    """Catalog version; bump it when prompts change so runs stay comparable."""
    description: str | None = None
    models: list[ModelSpec] = Field(default_factory=list)
    """Models to compare; ``-m`` on the command line adds to or replaces them."""
    defaults: Defaults = Defaults()
    templates: dict[str, str] = Field(default_factory=dict)
    """Named prompt templates with ``{{var}}`` placeholders (``{{context}}`` is the prompt's
    context passages)."""
    prompts: list[Prompt] = Field(min_length=1)
    judge: JudgeSpec | None = None
    rubric: list[RubricCriterion] = Field(default_factory=list)
    """Criteria each answer is scored on by a rater (``o`` on a pane): ``[{name: accuracy,
    scale: 1-5}, {name: tone, scale: pass-fail}]``."""

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("models", mode="before")
    @classmethod
    def _model_strings(cls, v: object) -> object:
        # `models: [openai/gpt-4o-mini, ollama/llama3]` is shorthand for {id, model} entries.
        if isinstance(v, list) and any(isinstance(m, str) for m in v):
            # Only string ids can be taken (an `id: [a]` is refused by the field's own check).
            taken = {m["id"] for m in v if isinstance(m, dict) and isinstance(m.get("id"), str)}
            out: list[object] = []
            for m in v:
                if isinstance(m, str) and m.strip():
                    alias = _unique_alias(_alias_of(m), taken)
                    taken.add(alias)
                    out.append({"id": alias, "model": m.strip()})
                else:
                    out.append(m)
            return out
        return v

    @model_validator(mode="after")
    def _references(self, info: ValidationInfo) -> Catalog:
        # The loader runs these checks itself so it can point at the offending line.
        if info.context and info.context.get(CROSS_CHECKS_DEFERRED):
            return self
        problems = self.problems()
        if problems:
            loc, message = problems[0]
            raise ValueError(f"{'.'.join(map(str, loc))}: {message}")
        return self

    def problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Cross-field problems as ``(loc, message)``, in document order.

        Duplicate model and prompt ids, unknown templates, template variables that are missing
        or unused. ``loc`` is the pydantic-style path of the offending value.
        """
        found: list[tuple[tuple[str | int, ...], str]] = []
        first_model: dict[str, int] = {}
        for i, m in enumerate(self.models):
            if m.id in first_model:
                found.append(
                    (
                        ("models", i, "id"),
                        f"duplicate model id '{m.id}' (also models.{first_model[m.id]})",
                    )
                )
            else:
                first_model[m.id] = i
        first_criterion: dict[str, int] = {}
        for i, c in enumerate(self.rubric):
            if c.name in first_criterion:
                found.append(
                    (
                        ("rubric", i, "name"),
                        f"duplicate criterion '{c.name}' (also rubric.{first_criterion[c.name]})",
                    )
                )
            else:
                first_criterion[c.name] = i
        first_prompt: dict[str, int] = {}
        used: dict[str, list[str]] = {}
        for i, p in enumerate(self.prompts):
            if p.id in first_prompt:
                found.append(
                    (
                        ("prompts", i, "id"),
                        f"duplicate prompt id '{p.id}' (also prompts.{first_prompt[p.id]})",
                    )
                )
            else:
                first_prompt[p.id] = i
            if p.template is None:
                continue
            if p.template not in self.templates:
                known = ", ".join(sorted(self.templates)) or "none defined"
                found.append(
                    (
                        ("prompts", i, "template"),
                        f"unknown template '{p.template}' (templates: {known})",
                    )
                )
                continue
            if p.template not in used:
                used[p.template] = sorted(
                    set(_placeholders(self.templates[p.template])) - {CONTEXT_VAR}
                )
            needed = used[p.template]
            missing = [n for n in needed if n not in p.vars]
            if missing:
                found.append(
                    (
                        ("prompts", i, "vars"),
                        f"missing for template '{p.template}': {', '.join(missing)}",
                    )
                )
            unused = sorted(set(p.vars) - set(needed))
            if unused:
                found.append(
                    (
                        ("prompts", i, "vars", unused[0]),
                        f"not used by template '{p.template}' (it uses: {', '.join(needed) or 'no vars'})",
                    )
                )
        return found

    # -- lookups --------------------------------------------------------------------------------
    @cached_property
    def prompts_by_id(self) -> tuple[list[Prompt], dict[str, Prompt]]:
        """The prompt list this index was built from, and id → prompt (first of an id)."""
        by_id: dict[str, Prompt] = {}
        for p in self.prompts:
            by_id.setdefault(p.id, p)
        return self.prompts, by_id

    def prompt(self, prompt_id: str) -> Prompt:
        # Called per answer on the event loop that streams them (metrics, judge): a dict, not a
        # scan of 50,000 prompts.
        source, by_id = self.prompts_by_id
        if source is not self.prompts:  # a model_copy(update={"prompts": …}) kept a stale index
            del self.__dict__["prompts_by_id"]
            source, by_id = self.prompts_by_id
        return by_id[prompt_id]

    def model_spec(self, alias: str) -> ModelSpec:
        for m in self.models:
            if m.id == alias:
                return m
        raise KeyError(alias)

    def params_for(self, model: ModelSpec) -> dict[str, Any]:
        """``defaults.params`` overlaid with the model's own params."""
        return {**self.defaults.params.as_dict(), **model.params.as_dict()}

    def system_for(self, prompt: Prompt, model: ModelSpec | None = None) -> str | None:
        """The system prompt in force: the prompt's, else the model's, else the defaults'."""
        if prompt.system is not None:
            return prompt.system
        if model is not None and model.system is not None:
            return model.system
        return self.defaults.system

    def render(self, prompt: Prompt, model: ModelSpec | None = None) -> RenderedPrompt:
        """Final chat messages for ``prompt`` sent to ``model``, and the template hash.

        The system prompt is the prompt's, else the model's, else ``defaults.system`` (an empty
        string at a higher level switches it off). Context passages go into the user message:
        where a template uses ``{{context}}``, there; otherwise as a numbered block before the
        question. The hash covers template text, vars, system, few-shot and context, so two
        responses with the same hash were asked the same thing.
        """
        system = self.system_for(prompt, model)
        passages = prompt.context_passages
        template_text: str | None = None
        messages: list[dict[str, str]] = []
        if prompt.messages is not None:
            messages = [m.model_dump() for m in prompt.messages]
            if passages:
                for m in reversed(messages):
                    if m["role"] == "user":
                        m["content"] = context_block(passages) + m["content"]
                        break
            if system and not any(m["role"] == "system" for m in messages):
                messages.insert(0, {"role": "system", "content": system})
        else:
            if system:
                messages.append({"role": "system", "content": system})
            for shot in prompt.few_shot:
                messages.append({"role": "user", "content": shot.user})
                messages.append({"role": "assistant", "content": shot.assistant})
            if prompt.template is not None:
                template_text = self.templates[prompt.template]
                values: dict[str, Any] = dict(prompt.vars)
                if CONTEXT_VAR in _placeholders(template_text):
                    values[CONTEXT_VAR] = "\n\n".join(passages)
                    text = fill_template(template_text, values)
                else:
                    text = (context_block(passages) if passages else "") + fill_template(
                        template_text, values
                    )
            else:
                template_text = prompt.prompt or ""
                text = (context_block(passages) if passages else "") + template_text
            messages.append({"role": "user", "content": text})
        template_hash = content_hash(
            {
                "template": template_text,
                "messages": [m.model_dump() for m in prompt.messages or []],
                "vars": prompt.vars,
                "system": system,
                "few_shot": [s.model_dump() for s in prompt.few_shot],
                "context": passages,
            }
        )
        return RenderedPrompt(messages=messages, template_hash=template_hash)

    def iter_pairs(self) -> Iterator[tuple[Prompt, ModelSpec]]:
        for p in self.prompts:
            for m in self.models:
                yield p, m


CROSS_CHECKS_DEFERRED = "genaicompare.cross_checks_deferred"
"""Validation-context flag: the loader runs :meth:`Catalog.problems` itself (with positions)."""

CONTEXT_VAR = "context"
"""Template placeholder filled with the prompt's context passages."""


def context_block(passages: list[str]) -> str:
    """The grounding block put before a question that has context passages."""
    numbered = "\n\n".join(f"[{i}] {p}" for i, p in enumerate(passages, 1))
    return f"Answer using the context below.\n\nContext:\n{numbered}\n\nQuestion: "


def _alias_of(model: str) -> str:
    """Display alias of a litellm model string: the part after the provider prefix."""
    model = model.strip()
    alias = model.split("/", 1)[1] if "/" in model else model
    return alias[:64] or model[:64]


def _unique_alias(alias: str, taken: set[Any]) -> str:
    if alias not in taken:
        return alias
    n = 2
    while f"{alias[:60]}-{n}" in taken:
        n += 1
    return f"{alias[:60]}-{n}"


def model_from_string(spec: str, taken: set[str] | None = None) -> ModelSpec:
    """A :class:`ModelSpec` from ``-m`` text: ``provider/model`` or ``alias=provider/model``.

    The alias defaults to the part after the provider prefix (``openai/gpt-4o-mini`` →
    ``gpt-4o-mini``) and gets ``-2``, ``-3`` … when ``taken`` already has it.
    """
    text = spec.strip()
    alias: str | None = None
    if "=" in text and not text.startswith(("http://", "https://")):
        alias, text = (part.strip() for part in text.split("=", 1))
    if not text or any(c.isspace() for c in text):
        raise CatalogError("-m", f"'{spec}' is not a model string (e.g. openai/gpt-4o-mini)")
    if alias is not None and not alias:
        raise CatalogError("-m", f"'{spec}': empty alias before '='")
    alias = alias or _unique_alias(_alias_of(text), taken or set())
    if len(alias) > 64:
        raise CatalogError("-m", f"'{spec}': alias longer than 64 characters")
    return ModelSpec(id=alias, model=text)


def with_models(catalog: Catalog, model_strings: list[str], replace: bool) -> Catalog:
    """The catalog with ``-m`` models added (or, with ``replace``, instead of its own).

    Repeated model strings are given once; aliases are made unique (an explicit
    ``alias=model`` that collides is an error rather than a silent rename).
    """
    models: list[ModelSpec] = [] if replace else list(catalog.models)
    taken = {m.id for m in models}
    seen: set[str] = set()
    for raw in model_strings:
        key = raw.strip()
        if key in seen:
            continue
        seen.add(key)
        spec = model_from_string(raw, taken)
        if spec.id in taken:
            raise CatalogError("-m", f"'{raw}': model alias '{spec.id}' is already used")
        taken.add(spec.id)
        models.append(spec)
    return catalog.model_copy(update={"models": models})


class RenderedPrompt(BaseModel):
    model_config = ConfigDict(frozen=True)

    messages: list[dict[str, str]]
    template_hash: str

    @property
    def user_text(self) -> str:
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return users[-1] if users else ""


_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _placeholders(template: str) -> list[str]:
    return _PLACEHOLDER.findall(template)


def fill_template(template: str, variables: dict[str, Any]) -> str:
    """Replace ``{{name}}`` placeholders; values are inserted verbatim (no re-expansion)."""
    return _PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), template)


class CatalogError(KnownError):
    """A catalog problem, formatted ``path:line:col: dotted.field: message``."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        line: int | None = None,
        col: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.col = col
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        text = f"{where}: {self.field + ': ' if self.field else ''}{self.message}"
        # Keys and values quoted in messages come from the file: keep the error one line.
        return _UNPRINTABLE.sub(_escape, text)


_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")
