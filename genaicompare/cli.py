"""Command line entry point. Thin: parse arguments, then hand over to a command module.

``genaicompare CATALOG`` opens the TUI; ``genaicompare run|metrics|scores|export|ratings|forget|diff|plan``
are headless commands, each in ``genaicompare/commands/<name>.py`` exposing
``add_arguments(parser)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from genaicompare import __version__

COMMANDS: dict[str, str] = {
    "run": "Run a catalog headless (CI regression gate); store every answer.",
    "metrics": "Compute metrics for outputs produced elsewhere (JSONL in, JSONL out).",
    "scores": "Thumbs-up rates, metric means, Bradley-Terry leaderboard.",
    "export": "Export rated answers or SFT/DPO/KTO training data as JSONL.",
    "ratings": "Import ratings exported by another rater.",
    "forget": "Delete a prompt's, model's or rater's rows from the database for good.",
    "diff": "Compare two runs answer by answer.",
    "plan": "How many prompts or votes a change needs to be detected (paired power analysis).",
    "import": "Import a catalog (and answers, votes) from promptfoo, OpenAI evals, Inspect, "
    "HF dataset files, Label Studio or Argilla.",
}
_MODULES = {"import": "import_"}  # `import` is a Python keyword

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", help="SQLite database file (default: platformdirs data dir; env GENAICOMPARE_DB)"
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; with ``command``, only that command's arguments are added (the
    others are listed by name): each command module is imported to add its arguments, and
    ``run``'s imports the catalog's pydantic models and the providers, ≈0.35 s that ``scores``
    or ``export`` do not need."""
    parser = argparse.ArgumentParser(
        prog="genaicompare",
        description="Compare language models side by side. `genaicompare CATALOG` opens the TUI; "
        "the commands below run headless.",
    )
    parser.add_argument("--version", action="version", version=f"genaicompare {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_common(p)
        if command is None or name == command:
            _command_module(name).add_arguments(p)
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"genaicompare.commands.{_MODULES.get(name, name)}")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Pydantic plugins (other packages' entry points, e.g. tracing) are not part of this tool:
    # finding them reads every installed package's metadata when the first model class is built.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from genaicompare.core.errors import guarded

    if argv and argv[0] in COMMANDS:
        parser = build_parser(argv[0])
        args = parser.parse_args(argv)
        return guarded(lambda: _command_module(args.command).main(args))
    # Anything else is the TUI: `genaicompare [CATALOG] [options]`.
    from genaicompare.commands import tui

    tparser = argparse.ArgumentParser(
        prog="genaicompare",
        description="Open the comparison TUI. Other commands: "
        + ", ".join(COMMANDS)
        + " (genaicompare COMMAND --help).",
    )
    tparser.add_argument("--version", action="version", version=f"genaicompare {__version__}")
    add_common(tparser)
    tui.add_arguments(tparser)
    args = tparser.parse_args(argv)
    return guarded(lambda: tui.main(args))


if __name__ == "__main__":
    raise SystemExit(main())
