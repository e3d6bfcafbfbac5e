"""Interop: catalogs, answers and votes in and out of other tools' formats, offline.

Import (a file in someone else's format → a genaicompare catalog, and for logs and annotation
exports, answers and pair votes in the store):

* :mod:`.promptfoo` — ``promptfooconfig.yaml`` (prompts × providers × tests, assertions)
* :mod:`.openai_evals` — OpenAI evals samples JSONL (``input`` chat, ``ideal``)
* :mod:`.inspect_log` — Inspect AI eval logs (JSON): samples, and their outputs as answers
* :mod:`.hf_files` — local Hugging Face dataset files (JSONL, CSV, Parquet) with a column mapping
* :mod:`.annotation` — Argilla and Label Studio pairwise-comparison exports (answers + votes)

Export: :mod:`.promptfoo` (a catalog → a promptfoo config), :mod:`.hf_dataset` (SFT/DPO/KTO as
Parquet + a dataset card), :mod:`.llm_comparator` (LLM Comparator JSON) and :mod:`.annotation`
(Label Studio / Argilla import files).

Every importer returns an :class:`~.report.ImportReport`: what was mapped, and each item that was
not, with ``file:line:col`` and the field — nothing is dropped silently.
"""

from genaicompare.interop.report import ImportReport, NotMapped
from genaicompare.interop.writing import IMPORT_FORMATS, Imported, write_catalog

__all__ = ["IMPORT_FORMATS", "ImportReport", "Imported", "NotMapped", "write_catalog"]
