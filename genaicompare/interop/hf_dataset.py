"""SFT / DPO / KTO training data as a Hugging Face datasets folder: ``data/train-00000-of-00001
.parquet`` and a dataset card (``README.md``: YAML front matter with the config and features,
then the fields, the counts and the catalog's name and version). It loads with
``datasets.load_dataset("parquet", data_files=…)`` or ``load_dataset(folder)``, in the column
layout TRL's SFT, DPO and KTO trainers take (conversational ``messages``; ``prompt`` /
``chosen`` / ``rejected``; ``prompt`` / ``completion`` / ``label``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIELDS = {
    "sft": {"messages": "the chat: system (if any), user, and the 👍 assistant answer"},
    "dpo": {
        "prompt": "the chat up to the answer (list of {role, content})",
        "chosen": "the preferred assistant message (a one-message list)",
        "rejected": "the other assistant message (a one-message list)",
    },
    "kto": {
        "prompt": "the chat up to the answer (list of {role, content})",
        "completion": "the assistant message (a one-message list)",
        "label": "true for 👍, false for 👎",
    },
}
PARQUET = "data/train-00000-of-00001.parquet"


def _rows(fmt: str, lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep only the columns the trainers read (our JSONL may carry more, e.g. a ``meta``)."""
    keep = list(FIELDS[fmt])
    return [{k: line[k] for k in keep} for line in lines]


def write_dataset(
    folder: str | Path, fmt: str, lines: list[dict[str, Any]], catalog: str, version: str | None
) -> int:
    """Write the folder (created; files replaced atomically); return the number of rows."""
    try:
        import pyarrow as pa  # lazy: optional (the interop extra)
        import pyarrow.parquet as pq
    except ImportError:
        from genaicompare.core.errors import UserError

        raise UserError(
            "writing Parquet needs pyarrow: pip install 'genaicompare[interop]'"
        ) from None
    from genaicompare.core.files import write_atomic

    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    rows = _rows(fmt, lines)
    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    types = {
        "messages": pa.list_(message),
        "prompt": pa.list_(message),
        "chosen": pa.list_(message),
        "rejected": pa.list_(message),
        "completion": pa.list_(message),
        "label": pa.bool_(),
    }
    schema = pa.schema([(k, types[k]) for k in FIELDS[fmt]])
    table = pa.Table.from_pylist(rows, schema=schema)
    tmp = folder / (PARQUET + ".tmp")
    pq.write_table(table, tmp)
    tmp.replace(folder / PARQUET)
    write_atomic(folder / "README.md", card(fmt, len(rows), catalog, version, lines))
    return len(rows)


def card(fmt: str, n: int, catalog: str, version: str | None, lines: list[dict[str, Any]]) -> str:
    features = []
    for name in FIELDS[fmt]:
        if name == "label":
            features.append(f"  - name: {name}\n    dtype: bool")
        else:
            features.append(
                f"  - name: {name}\n    list:\n    - name: role\n      dtype: string\n"
                "    - name: content\n      dtype: string"
            )
    extra = ""
    if fmt == "kto":
        ups = sum(1 for line in lines if line.get("label"))
        extra = f" ({ups} 👍, {n - ups} 👎)"
    rows = "\n".join(f"| `{k}` | {v} |" for k, v in FIELDS[fmt].items())
    return (
        "---\n"
        "configs:\n- config_name: default\n  data_files:\n  - split: train\n"
        f"    path: {PARQUET}\n"
        "dataset_info:\n  features:\n" + "\n".join(features) + "\n"
        f"  splits:\n  - name: train\n    num_examples: {n}\n"
        f"tags:\n- genaicompare\n- {fmt}\n"
        "---\n\n"
        f"# {catalog} — {fmt.upper()} data\n\n"
        f"Exported by genaicompare from the ratings on catalog **{json.dumps(catalog)[1:-1]}**, "
        f"version **{version or 'unknown'}**.\n\n"
        f"- rows: **{n}**{extra} (split `train`)\n"
        f"- format: {fmt.upper()}, conversational, as TRL's trainers take it\n\n"
        "| field | what |\n|---|---|\n" + rows + "\n\n"
        "```python\nfrom datasets import load_dataset\n"
        f'ds = load_dataset("parquet", data_files="{PARQUET}", split="train")\n```\n'
    )
