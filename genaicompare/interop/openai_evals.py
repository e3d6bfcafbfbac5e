"""OpenAI evals sample JSONL: one sample a line, ``input`` as chat messages (or a string) and
``ideal`` as one reference or a list of them (the first is ``reference``, all are
``references``). Other keys are listed, once per key, with the line and column where first seen."""

from __future__ import annotations

from pathlib import Path

from genaicompare.interop._rows import chat, jsonl_objects, key_column, read_text
from genaicompare.interop.report import ImportReport
from genaicompare.interop.writing import Imported


def import_samples(path: str | Path, name: str | None = None) -> Imported:
    path = Path(path)
    report = ImportReport()
    lines = read_text(path).splitlines()
    prompts: list[dict[str, object]] = []
    seen_keys: set[str] = set()
    for n, obj in jsonl_objects(path):
        line = lines[n - 1]

        def where(loc: tuple[str | int, ...], key: str = "input", n: int = n) -> tuple[int, int]:
            return n, key_column(lines[n - 1], key)

        for key in obj:
            if key not in ("input", "ideal") and key not in seen_keys:
                seen_keys.add(key)
                report.skip(path, (n, key_column(line, key)), key, "not a catalog field")
        entry: dict[str, object] = {"id": f"sample-{len(prompts) + 1}"}
        value = obj.get("input")
        if isinstance(value, str):
            entry["prompt"] = value
        else:
            messages = chat(value, report, path, where, f"line {n}.input")
            if messages is None:
                continue
            entry["messages"] = messages
        ideal = obj.get("ideal")
        refs = [ideal] if isinstance(ideal, str) else ideal if isinstance(ideal, list) else []
        if not all(isinstance(r, str) for r in refs):
            report.skip(path, (n, key_column(line, "ideal")), "ideal", "not text")
            refs = []
        if refs:
            entry["reference"] = refs[0]
            if len(refs) > 1:
                entry["references"] = list(refs)
            report.count("references", len(refs))
        prompts.append(entry)
        report.count("prompts")
    catalog = {"name": name or path.stem, "version": "1", "prompts": prompts}
    return Imported(catalog=catalog, report=report)
