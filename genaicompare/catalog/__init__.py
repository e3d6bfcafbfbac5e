"""The evaluation prompt catalog: pydantic models, loading with positions, rendering.

* :mod:`.model` — :class:`Catalog`, :class:`Prompt`, :class:`ModelSpec`, … and rendering
* :mod:`.loader` — :func:`load_catalog`: a file → a :class:`Catalog`, or a :class:`CatalogError`
  reading ``path:line:col: dotted.field: message`` (readers in :mod:`.yaml_reader` and
  :mod:`.jsonl_reader`; :mod:`.secrets`, :mod:`.positions`, :mod:`.cache` serve them)
* :mod:`.rated` — the ``rated`` JSONL format that exports write and this package reads back
"""

from genaicompare.catalog.loader import load_catalog
from genaicompare.catalog.model import (
    CONTEXT_VAR,
    CROSS_CHECKS_DEFERRED,
    MAX_CATALOG_BYTES,
    Catalog,
    CatalogError,
    Defaults,
    FewShot,
    JudgeSpec,
    Message,
    ModelSpec,
    Params,
    Price,
    Prompt,
    RenderedPrompt,
    Task,
    context_block,
    fill_template,
    model_from_string,
    with_models,
)
from genaicompare.core.records import content_hash  # kept here for one release (now in core)

__all__ = [
    "CONTEXT_VAR",
    "CROSS_CHECKS_DEFERRED",
    "MAX_CATALOG_BYTES",
    "Catalog",
    "CatalogError",
    "Defaults",
    "FewShot",
    "JudgeSpec",
    "Message",
    "ModelSpec",
    "Params",
    "Price",
    "Prompt",
    "RenderedPrompt",
    "Task",
    "content_hash",
    "context_block",
    "fill_template",
    "load_catalog",
    "model_from_string",
    "with_models",
]
