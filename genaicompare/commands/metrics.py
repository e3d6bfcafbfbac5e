"""`genaicompare metrics PAIRS.jsonl` — score outputs produced elsewhere.

Each input line is ``{"id", "output", "reference"?, "references"?, "prompt"?, "context"?}``
(``references``: every acceptable answer, combined per metric as in a catalog); each output line is
``{"id", "metrics": {name: value}, "detail": {name: detail}}`` in input order, with every metric
by the engine's names (reference-based ones absent when a line has no reference).
``--metrics rougeL,bleu`` (or family names: lexical, semantic, toxicity, pii, readability)
selects. Notices (a model not available offline, a substitute scorer) go to stderr.

``--judge MODEL`` (any litellm model string; ``--judge-api-base`` / ``--judge-api-key-env`` for
an OpenAI-compatible server) adds the LLM judge's ``judge_score`` and criteria, and
``judge_groundedness`` for lines with ``context``; a reply that does not parse is ``judge_error``
(value null, the reason in ``detail``). Up to ``--judge-jobs`` judge calls run at once.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TextIO

from genaicompare.core.errors import UserError

if TYPE_CHECKING:  # pydantic: not before an argument error
    from genaicompare.catalog import JudgeSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "pairs",
        metavar="PAIRS.jsonl",
        help='JSONL input, one {"id", "output", "reference"?, "references"?, "prompt"?, '
        '"context"?} per line ("-" reads stdin)',
    )
    parser.add_argument(
        "--metrics",
        default=None,
        help="comma-separated metric or family names (default: all available)",
    )
    parser.add_argument("-o", "--output", default=None, help="write JSONL here (default stdout)")
    parser.add_argument(
        "--judge",
        metavar="MODEL",
        help="also ask this LLM judge (litellm model string, e.g. openai/gpt-4o-mini or "
        "local/smollm2) for judge_score and, with context, judge_groundedness",
    )
    parser.add_argument("--judge-api-base", metavar="URL", help="the judge's API base URL")
    parser.add_argument(
        "--judge-api-key-env", metavar="VAR", help="environment variable holding the judge's key"
    )
    parser.add_argument(
        "--judge-jobs", type=int, default=4, help="judge calls in flight at once (default 4)"
    )
    parser.add_argument(
        "--stem",
        action="store_true",
        help="Porter-stem tokens for ROUGE (rouge-score's use_stemmer)",
    )


def _read_lines(source: TextIO, name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for lineno, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{name}:{lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
        if not isinstance(item, dict):
            raise UserError(f"{name}:{lineno}: expected a JSON object")
        if not isinstance(item.get("output"), str):
            raise UserError(f"{name}:{lineno}: 'output' (a string) is required")
        for key in ("reference", "prompt"):
            if item.get(key) is not None and not isinstance(item[key], str):
                raise UserError(f"{name}:{lineno}: '{key}' must be a string")
        refs = item.get("references")
        if refs is not None and not (
            isinstance(refs, list) and refs and all(isinstance(r, str) for r in refs)
        ):
            raise UserError(f"{name}:{lineno}: 'references' must be a non-empty list of strings")
        one = item.get("reference")
        if refs is not None and one is not None and one != refs[0]:
            raise UserError(
                f"{name}:{lineno}: 'reference' must be the first of 'references' when both "
                "are given"
            )
        ctx = item.get("context")
        if ctx is not None and not (
            isinstance(ctx, str) or (isinstance(ctx, list) and all(isinstance(c, str) for c in ctx))
        ):
            raise UserError(f"{name}:{lineno}: 'context' must be a string or a list of strings")
        yield lineno, item


def _selection(raw: str | None) -> list[str] | None:
    if raw is None:
        return None
    from genaicompare.metrics import FAMILIES, is_known_metric

    names = [n.strip() for n in raw.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAMILIES and not is_known_metric(n)]
    if unknown or not names:
        raise UserError(
            f"--metrics: unknown metric {', '.join(unknown) or '(none given)'}; families: "
            + ", ".join(FAMILIES)
        )
    return names


def _judge_spec(args: argparse.Namespace) -> JudgeSpec | None:
    if not args.judge:
        if args.judge_api_base or args.judge_api_key_env:
            raise UserError("--judge-api-base/--judge-api-key-env need --judge MODEL")
        return None
    if args.judge_jobs < 1:
        raise UserError("--judge-jobs must be at least 1")
    from pydantic import ValidationError

    from genaicompare.catalog import JudgeSpec

    try:
        return JudgeSpec(
            model=args.judge, api_base=args.judge_api_base, api_key_env=args.judge_api_key_env
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise UserError(f"--judge: {where}: {first['msg']}") from None


def _judge_chunk(
    spec: JudgeSpec, names: list[str] | None, jobs: int, items: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The judge's metrics for a batch of lines, asked concurrently (one event loop per batch)."""
    import asyncio

    from genaicompare.catalog import Prompt
    from genaicompare.core.records import FinishState, ResponseRecord
    from genaicompare.session.evaluation import Evaluator

    evaluator = Evaluator(None, judge=spec, judge_selection=names, concurrency=jobs)
    if not evaluator.judging:
        return [{} for _ in items]
    calls = []
    for item in items:
        question = item.get("prompt") or ""
        record = ResponseRecord(
            prompt_id=str(item.get("id")),
            model_alias="output",
            model="external",
            params={},
            messages=[{"role": "user", "content": question}] if question else [],
            text=item["output"],
            state=FinishState.complete,
        )
        prompt = Prompt(
            id=str(item.get("id") or "line"),
            prompt=question,
            reference=item.get("reference"),
            references=item.get("references"),
            context=item.get("context"),
        )
        calls.append(evaluator.verdicts(record, prompt))

    async def gather() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*calls))

    return asyncio.run(gather())


def main(args: argparse.Namespace) -> int:
    names = _selection(args.metrics)
    judge_spec = _judge_spec(args)
    source_name = "<stdin>" if args.pairs == "-" else args.pairs
    if args.pairs != "-" and not Path(args.pairs).is_file():
        raise UserError(f"{args.pairs}: no such file")

    from genaicompare.metrics import MetricsConfig, MetricsEngine
    from genaicompare.session.evaluation import with_combined_groundedness

    engine = MetricsEngine(MetricsConfig(stem=args.stem))
    out_path = Path(args.output) if args.output else None
    count = 0
    from genaicompare.core.files import atomic_open

    with contextlib.ExitStack() as stack:
        sink: IO[str] = (
            stack.enter_context(atomic_open(out_path, mkdir=True))
            if out_path is not None
            else sys.stdout
        )
        try:
            source = (
                sys.stdin
                if args.pairs == "-"
                else open(  # noqa: SIM115
                    args.pairs, encoding="utf-8"
                )
            )
        except OSError as exc:
            raise UserError(f"{args.pairs}: {exc.strerror}") from None
        with source if source is not sys.stdin else contextlib.nullcontext(source):
            # Judge calls are batched so they run concurrently; without a judge, one line at a time.
            batch = 64 if judge_spec is not None else 1
            pending: list[tuple[dict[str, Any], dict[str, Any]]] = []

            def flush() -> None:
                nonlocal count
                judged = (
                    _judge_chunk(judge_spec, names, args.judge_jobs, [i for i, _ in pending])
                    if judge_spec is not None
                    else [{} for _ in pending]
                )
                for (item, values), extra in zip(pending, judged, strict=True):
                    values = with_combined_groundedness({**values, **extra})
                    record = {
                        "id": item.get("id"),
                        "metrics": {k: v.value for k, v in values.items()},
                        "detail": {k: v.detail for k, v in values.items() if v.detail is not None},
                    }
                    sink.write(json.dumps(record, ensure_ascii=False) + "\n")
                    count += 1
                pending.clear()

            try:
                for _lineno, item in _read_lines(source, source_name):
                    ctx = item.get("context")
                    values = engine.score_text(
                        item["output"],
                        reference=item.get("reference"),
                        references=item.get("references") or (),
                        question=item.get("prompt"),
                        context=[ctx] if isinstance(ctx, str) else (ctx or []),
                        names=names,
                    )
                    pending.append((item, values))
                    if len(pending) >= batch:
                        flush()
                flush()
            except UnicodeDecodeError as exc:
                raise UserError(f"{source_name}: not UTF-8 ({exc.reason})") from None
        sink.flush()
    for notice in engine.notices:
        print(f"genaicompare: {notice}", file=sys.stderr)
    if out_path is not None:
        print(f"genaicompare: scored {count} lines → {out_path}", file=sys.stderr)
    return 0
