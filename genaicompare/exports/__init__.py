"""Exports: rated answers, and SFT / DPO / KTO training data, as JSON lines.

* ``rated`` — one line per prompt × answer: the catalog prompt's own fields (so the file loads
  back as a JSONL catalog, after a header line) plus everything else under one ``rated`` key
  (:mod:`.rated`; the format itself is :mod:`genaicompare.catalog.rated`).
* ``sft``, ``dpo``, ``kto`` — training data from ratings (:mod:`.training`).

:mod:`.answers` reads what an export holds, :mod:`.redact` keeps PII and secrets out, and
:mod:`.writer` writes one export atomically and records it. Every string round-trips: JSON
escapes what must be escaped, and U+2028/U+2029/U+0085 and lone surrogates are written as
``\\uXXXX`` so no line-splitter sees a line break inside a record.
"""

from genaicompare.catalog.rated import fold_rated_prompts  # kept here for one release
from genaicompare.exports.answers import ExportError, ExportFilters
from genaicompare.exports.writer import FORMATS, ExportResult, export, export_file, record_target
from genaicompare.store.forget import ForgetResult, forget  # kept here for one release

__all__ = [
    "FORMATS",
    "ExportError",
    "ExportFilters",
    "ExportResult",
    "ForgetResult",
    "export",
    "export_file",
    "fold_rated_prompts",
    "forget",
    "record_target",
]
