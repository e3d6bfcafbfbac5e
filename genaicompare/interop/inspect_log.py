"""Inspect AI eval logs (the JSON log format, ``--log-format json``).

Each sample's ``input`` (a string or chat messages) and ``target`` (one or several references)
become a prompt; when a sample has an ``output``, its completion is stored as the answer of a
model named after the log's ``eval.model``, so it can be rated and compared with live models.
Only the first epoch of a sample is a prompt (later epochs are listed); scores, metadata and
other sample fields are listed once per name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from genaicompare.interop._rows import Loc, Position, alias_of, chat, json_with_positions, text_of
from genaicompare.interop.report import ImportReport
from genaicompare.interop.writing import Imported, ImportedAnswer, slug, unique

_SAMPLE_KEYS = {"id", "epoch", "input", "target", "output", "messages"}
_STATES = {
    "stop": "complete",
    "length": "length",
    "max_tokens": "length",
    "content_filter": "content_filter",
}


def _under(
    locate: Callable[[Loc], Position | None], prefix: Loc
) -> Callable[[Loc], Position | None]:
    return lambda loc: locate((*prefix, *loc))


def import_log(path: str | Path, name: str | None = None) -> Imported:
    from genaicompare.catalog.model import CatalogError

    path = Path(path)
    data, locate = json_with_positions(path)
    report = ImportReport()
    if not isinstance(data, dict) or not isinstance(data.get("eval"), dict):
        raise CatalogError(path, "not an Inspect eval log (no 'eval' header)", 1, 1)
    ev = data["eval"]
    model = ev.get("model") if isinstance(ev.get("model"), str) else None
    alias = alias_of(model) if model else None
    prompts: list[dict[str, Any]] = []
    answers: list[ImportedAnswer] = []
    taken: set[str] = set()
    listed: set[str] = set()
    for i, s in enumerate(data.get("samples") or []):
        loc = ("samples", i)
        if not isinstance(s, dict):
            report.skip(path, locate(loc), f"samples.{i}", "not a sample")
            continue
        for key in s:
            if key not in _SAMPLE_KEYS and key not in listed:
                listed.add(key)
                report.skip(
                    path,
                    locate((*loc, key)),
                    f"samples.{i}.{key}",
                    "a sample field with no catalog place (listed once)",
                )
        if s.get("epoch", 1) not in (1, None):
            report.skip(
                path,
                locate((*loc, "epoch")),
                f"samples.{i}.epoch",
                f"epoch {s['epoch']}: only the first epoch is a prompt",
            )
            continue
        pid = unique(slug(str(s.get("id", i + 1)), f"sample-{i + 1}"), taken)
        entry: dict[str, Any] = {"id": pid}
        value = s.get("input")
        if isinstance(value, str):
            entry["prompt"] = value
        else:
            messages = chat(
                value,
                report,
                path,
                _under(locate, ("samples", i, "input")),
                f"samples.{i}.input",
            )
            if messages is None:
                continue
            entry["messages"] = messages
        target = s.get("target")
        refs = (
            [target]
            if isinstance(target, str) and target
            else ([t for t in target if isinstance(t, str)] if isinstance(target, list) else [])
        )
        if refs:
            entry["reference"] = refs[0]
            if len(refs) > 1:
                entry["references"] = refs
        prompts.append(entry)
        report.count("prompts")
        output = s.get("output")
        if isinstance(output, dict) and alias is not None:
            choices = output.get("choices") or []
            message = (
                choices[0].get("message") if choices and isinstance(choices[0], dict) else None
            )
            text = output.get("completion")
            if not isinstance(text, str) or not text:
                text = text_of(message.get("content")) if isinstance(message, dict) else None
            if text is None:
                report.skip(
                    path,
                    locate((*loc, "output")),
                    f"samples.{i}.output",
                    "an output with no text content",
                )
                continue
            stop = (
                choices[0].get("stop_reason") if choices and isinstance(choices[0], dict) else None
            )
            answers.append(ImportedAnswer(pid, alias, text, _STATES.get(str(stop), "complete")))
            report.count("answers")
    catalog: dict[str, Any] = {
        "name": name or str(ev.get("task") or path.stem),
        "version": "1",
        "prompts": prompts,
    }
    if alias and model:
        catalog["models"] = [{"id": alias, "model": model}]
    elif model is None:
        report.skip(path, locate(("eval",)), "eval.model", "no model name: outputs not stored")
    return Imported(catalog=catalog, report=report, answers=answers)
