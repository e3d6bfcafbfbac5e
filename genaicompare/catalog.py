"""The evaluation prompt catalog: pydantic models, loading with positions, rendering.

A catalog names the models to compare and the prompts to run. Loading keeps the YAML position of
every node so that every error reads ``path:line:col: dotted.field: message``.
Rendering (final chat messages + a template hash) lives here, in the domain, not in the UI.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class Prompt(_Strict):
    """One evaluation prompt. Exactly one of ``prompt``, ``messages`` or ``template`` is given."""

    id: str = Field(min_length=1, max_length=200)
    prompt: str | None = None
    messages: list[Message] | None = None
    template: str | None = None
    """Name of an entry in the catalog's ``templates``."""
    vars: dict[str, str | int | float | bool] = {}
    system: str | None = None
    few_shot: list[FewShot] = []
    reference: str | None = None
    """Expected answer; reference-based metrics are skipped (not zero) without one."""
    context: list[str] | str | None = None
    """Grounding passages for RAG-style prompts."""
    tags: list[str] = []
    segment: str | None = None
    """Group label for fairness comparisons."""
    task: Task | None = None
    metrics: list[str] | None = None
    assert_: dict[str, str | int | float | bool] | None = Field(default=None, alias="assert")
    """Per-prompt assertions (``{rougeL: ">= 0.3"}``), evaluated by metrics / regression mode."""

    @model_validator(mode="after")
    def _one_source(self) -> Prompt:
        given = [n for n in ("prompt", "messages", "template") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of 'prompt', 'messages' or 'template'"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.vars and self.template is None:
            raise ValueError("'vars' is only used with 'template'")
        return self

    @property
    def context_passages(self) -> list[str]:
        if self.context is None:
            return []
        return [self.context] if isinstance(self.context, str) else list(self.context)


class Catalog(_Strict):
    name: str = Field(min_length=1)
    version: str = "1"
    description: str | None = None
    models: list[ModelSpec] = []
    defaults: Defaults = Defaults()
    templates: dict[str, str] = {}
    prompts: list[Prompt] = Field(min_length=1)
    judge: JudgeSpec | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: object) -> object:
        return str(v) if isinstance(v, (int, float)) else v

    @model_validator(mode="after")
    def _references(self) -> Catalog:
        seen: set[str] = set()
        for m in self.models:
            if m.id in seen:
                raise ValueError(f"duplicate model id '{m.id}'")
            seen.add(m.id)
        ids: set[str] = set()
        for p in self.prompts:
            if p.id in ids:
                raise ValueError(f"duplicate prompt id '{p.id}'")
            ids.add(p.id)
            if p.template is not None:
                if p.template not in self.templates:
                    raise ValueError(f"prompt '{p.id}': unknown template '{p.template}'")
                missing = set(_placeholders(self.templates[p.template])) - set(p.vars)
                if missing:
                    raise ValueError(
                        f"prompt '{p.id}': template '{p.template}' needs vars {sorted(missing)}"
                    )
        return self

    # -- lookups --------------------------------------------------------------------------------
    def prompt(self, prompt_id: str) -> Prompt:
        for p in self.prompts:
            if p.id == prompt_id:
                return p
        raise KeyError(prompt_id)

    def model_spec(self, alias: str) -> ModelSpec:
        for m in self.models:
            if m.id == alias:
                return m
        raise KeyError(alias)

    def params_for(self, model: ModelSpec) -> dict[str, Any]:
        """``defaults.params`` overlaid with the model's own params."""
        return {**self.defaults.params.as_dict(), **model.params.as_dict()}

    def render(self, prompt: Prompt, model: ModelSpec | None = None) -> RenderedPrompt:
        """Final chat messages for ``prompt`` sent to ``model``, and the template hash."""
        system = prompt.system or (model.system if model else None) or self.defaults.system
        messages: list[dict[str, str]] = []
        if prompt.messages is not None:
            messages = [m.model_dump() for m in prompt.messages]
            if system and not any(m["role"] == "system" for m in messages):
                messages.insert(0, {"role": "system", "content": system})
        else:
            if system:
                messages.append({"role": "system", "content": system})
            for shot in prompt.few_shot:
                messages.append({"role": "user", "content": shot.user})
                messages.append({"role": "assistant", "content": shot.assistant})
            if prompt.template is not None:
                text = fill_template(self.templates[prompt.template], prompt.vars)
            else:
                text = prompt.prompt or ""
            messages.append({"role": "user", "content": text})
        template_text = self.templates.get(prompt.template or "", prompt.prompt or "")
        template_hash = content_hash(
            {
                "template": template_text,
                "messages": [m.model_dump() for m in prompt.messages or []],
                "vars": prompt.vars,
                "system": system,
                "few_shot": [s.model_dump() for s in prompt.few_shot],
            }
        )
        return RenderedPrompt(messages=messages, template_hash=template_hash)

    def iter_pairs(self) -> Iterator[tuple[Prompt, ModelSpec]]:
        for p in self.prompts:
            for m in self.models:
                yield p, m


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


def content_hash(obj: Any) -> str:
    """Stable SHA-256 (hex, 16 bytes) of a JSON-able object."""
    data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


class CatalogError(Exception):
    """A catalog problem, formatted ``path:line:col: dotted.field: message``."""

    def __init__(
        self, path: str | Path, message: str, line: int | None = None, col: int | None = None,
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
        return f"{where}: {self.field + ': ' if self.field else ''}{self.message}"


def load_catalog(path: str | Path) -> Catalog:
    """Load a YAML or JSONL catalog, raising :class:`CatalogError` with a position on any problem."""
    from genaicompare._catalog_loader import load

    return load(Path(path))
