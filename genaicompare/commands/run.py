"""``genaicompare run CATALOG``: the headless run (CI regression gate)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from genaicompare.commands._common import add_model_arguments, load_with_models, open_store
from genaicompare.comparison import DEFAULT_CONCURRENCY
from genaicompare.errors import UserError
from genaicompare.headless import RunOutcome, run_headless
from genaicompare.providers.events import Timeouts
from genaicompare.sanitize import one_line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("catalog", help="catalog file (.yaml or .jsonl)")
    add_model_arguments(parser)
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight at once (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="always call the models (default: reuse stored identical requests)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="samples per prompt × model")
    parser.add_argument(
        "--timeout-first-token",
        type=float,
        default=Timeouts.first_token,
        help="seconds to wait for the first token (default %(default)s)",
    )
    parser.add_argument(
        "--timeout-chunk",
        type=float,
        default=Timeouts.between_chunks,
        help="seconds to wait between chunks (default %(default)s)",
    )
    parser.add_argument(
        "--timeout-connect",
        type=float,
        default=Timeouts.connect,
        help="seconds to connect (default %(default)s)",
    )
    parser.add_argument(
        "--retries",
        type=int,
        default=Timeouts.max_retries,
        help="retries before the first token (default %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise UserError("-j/--jobs must be at least 1")
    if args.repeat < 1:
        raise UserError("--repeat must be at least 1")
    catalog = load_with_models(args.catalog, args.models, args.replace_models)
    timeouts = Timeouts(
        connect=args.timeout_connect,
        first_token=args.timeout_first_token,
        between_chunks=args.timeout_chunk,
        max_retries=args.retries,
    )
    store = open_store(args)
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    show_progress = not args.no_progress and not args.json and err.is_terminal
    total = len(catalog.prompts) * len(catalog.models) * args.repeat
    options = {
        "jobs": args.jobs,
        "cache": not args.no_cache,
        "repeat": args.repeat,
        "models": [m.id for m in catalog.models],
    }
    try:
        if show_progress:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            with Progress(
                TextColumn("running"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("run", total=total)
                outcome = run_headless(
                    catalog,
                    store,
                    catalog_path=args.catalog,
                    concurrency=args.jobs,
                    use_cache=not args.no_cache,
                    timeouts=timeouts,
                    repeat=args.repeat,
                    on_progress=lambda r, n, t: progress.update(task, completed=n),
                    options=options,
                )
        else:
            outcome = run_headless(
                catalog,
                store,
                catalog_path=args.catalog,
                concurrency=args.jobs,
                use_cache=not args.no_cache,
                timeouts=timeouts,
                repeat=args.repeat,
                options=options,
            )
    finally:
        store.close()
    if args.json:
        print(json.dumps(outcome_json(outcome), ensure_ascii=False, indent=2))
    else:
        print_summary(outcome)
    if outcome.interrupted:
        return 130
    return 0


def outcome_json(outcome: RunOutcome) -> dict[str, object]:
    return {
        "run_id": outcome.run_id,
        "catalog": {"name": outcome.catalog.name, "version": outcome.catalog.version},
        "database": str(outcome.db_path),
        "seconds": round(outcome.seconds, 3),
        "interrupted": outcome.interrupted,
        "models": [s.as_dict() for s in outcome.summaries.values()],
        "responses": [
            {
                "id": r.id,
                "prompt_id": r.prompt_id,
                "model_alias": r.model_alias,
                "state": r.state.value,
                "error_type": r.error_type,
                "error": r.error,
                "text": r.text,
                "ttft_ms": r.ttft_ms,
                "latency_ms": r.latency_ms,
                "tokens_in": r.tokens_in,
                "tokens_out": r.tokens_out,
                "tokens_estimated": r.tokens_estimated,
                "tokens_per_s": r.tokens_per_s,
                "cost_usd": r.cost_usd,
                "from_cache": r.from_cache,
                "sample_index": r.sample_index,
            }
            for r in outcome.records
        ],
    }


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def print_summary(outcome: RunOutcome) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    out = Console(
        highlight=False,
        soft_wrap=False,
        force_terminal=None if sys.stdout.isatty() else False,
        width=int(os.environ.get("COLUMNS", "0")) or None,
    )
    table = Table(
        title=Text(f"{one_line(outcome.catalog.name, 80)} — run {outcome.run_id}"),
        title_justify="left",
    )
    for col in ("model", "done", "errors", "latency", "TTFT", "tok/s", "tokens in/out", "cost"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for s in outcome.summaries.values():
        d = s.as_dict()
        err = Text(str(s.errors), style="bold red" if s.errors else "")
        if s.errors:
            err.append(
                " ("
                + ", ".join(
                    f"{k} {v}" for k, v in s.states.items() if k not in ("complete", "length")
                )
                + ")"
            )
        cost = (
            "unknown"
            if d["cost_usd"] is None
            else f"${d['cost_usd']:.6f}" + (f" +{s.cost_unknown} unknown" if s.cost_unknown else "")
        )
        table.add_row(
            Text(one_line(s.alias, 40)),
            str(s.done),
            err,
            _fmt(d["mean_latency_ms"], 0, " ms"),
            _fmt(d["mean_ttft_ms"], 0, " ms"),
            _fmt(d["mean_tokens_per_s"], 1),
            f"{s.tokens_in:,}/{s.tokens_out:,}" + ("~" if s.tokens_estimated else ""),
            Text(cost),
        )
    out.print(table)
    cached = sum(s.from_cache for s in outcome.summaries.values())
    out.print(
        Text(
            f"{len(outcome.records)} responses in {outcome.seconds:.1f} s"
            + (f" ({cached} from cache; --no-cache to re-query)" if cached else "")
            + f" · stored in {outcome.db_path}"
            + (" · interrupted: finished responses kept" if outcome.interrupted else "")
        )
    )
