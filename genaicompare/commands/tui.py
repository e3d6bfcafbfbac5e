"""``genaicompare [CATALOG]``: the comparison TUI.

Without a catalog it offers recent catalogs and the bundled samples (quickstart first).

With one, the app paints a loading screen first; settings and catalog (pydantic) are read in the
app's loading thread, so nothing here imports pydantic, the catalog or the store up front. A bad
catalog still ends with its one-line ``file:line:col`` error and exit code 2, printed after the
terminal is restored.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genaicompare.core.errors import UserError
from genaicompare.providers.local import is_local

if TYPE_CHECKING:
    from genaicompare.app.app import Launched
    from genaicompare.config import Settings
    from genaicompare.store import Store

SAMPLES = Path(__file__).resolve().parent.parent.parent / "sample_catalogs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from genaicompare.commands._common import add_model_arguments, int_between

    parser.add_argument("catalog", nargs="?", help="catalog file (.yaml or .jsonl)")
    add_model_arguments(parser)
    parser.add_argument("--theme", help="theme name (remembered in the config file)")
    parser.add_argument(
        "--blind",
        action="store_true",
        default=None,
        help="hide model names and shuffle panes until a prompt is rated",
    )
    parser.add_argument("--rater", help="name recorded with your ratings (remembered)")
    parser.add_argument(
        "--prefetch", type=int_between(0, 10), help="prompts to stream ahead, 0–10 (default 2)"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="stream in the UI process instead of a worker process",
    )


def _choices(recent: list[str]) -> list[tuple[str, str, str]]:
    from genaicompare.app.screens.picker import catalog_choices

    return catalog_choices(recent, SAMPLES)


def _settings(args: argparse.Namespace) -> Settings:
    from genaicompare.config import load_settings

    saved = load_settings()
    updates: dict[str, object] = {}
    if args.theme:
        updates["theme"] = args.theme
    if args.rater:
        updates["rater"] = args.rater
    if args.prefetch is not None:
        updates["prefetch"] = args.prefetch
    if updates:
        saved = saved.model_validate({**saved.model_dump(), **updates})
    return saved


def first_theme(args: argparse.Namespace) -> str:
    """The theme the settings will most likely pick, read without pydantic (loading screen only).

    Same precedence as the settings: option, environment, config file, default.
    """
    if args.theme:
        return str(args.theme)
    env = os.environ.get("GENAICOMPARE_THEME")
    if env:
        return env
    import tomllib

    from genaicompare.core.paths import config_path

    try:
        data: dict[str, Any] = tomllib.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        data = {}
    theme = data.get("theme")
    return theme if isinstance(theme, str) else "genaicompare-dark"


def launch(args: argparse.Namespace, path: str) -> Launched:
    """Settings and catalog for the app (runs in its loading thread); remembers the catalog."""
    from genaicompare.app.app import Launched
    from genaicompare.commands._common import load_with_models
    from genaicompare.config import remember_catalog, save_choices

    saved = _settings(args)
    catalog = load_with_models(path, args.models, args.replace_models)
    if len(catalog.models) > 6:
        raise UserError(
            f"{path}: the TUI compares 2–6 models; this catalog has "
            f"{len(catalog.models)} (use `genaicompare run` for more)"
        )
    saved = remember_catalog(saved, path)
    # Kept: the recent catalogs, and a theme given with --theme (it switches and remembers, as
    # picking one does). --rater, --prefetch and the GENAICOMPARE_* variables hold for this
    # session only.
    choices: dict[str, object] = {"recent_catalogs": saved.recent_catalogs}
    if args.theme:
        choices["theme"] = args.theme
    with contextlib.suppress(OSError):  # an unwritable config dir must not stop the session
        save_choices(choices)
    # --blind is for this session; the `blind` key in the config makes it the default.
    settings = saved.model_copy(update={"blind": True}) if args.blind else saved
    return Launched(settings, catalog, path)


_LOCAL_MODEL = re.compile(r"""["']?model["']?\s*:\s*["']?(local/[^\s"',}\]#]+)""")


def local_models(path: str, extra: list[str] | None = None) -> list[str]:
    """The ``local/…`` models a catalog file names, found without parsing it (pydantic and the
    YAML reader load in the app's loading thread; the local servers should already be starting
    by then). A miss only means the servers start with the first request instead."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(2_000_000)
    except OSError:
        text = ""
    found = _LOCAL_MODEL.findall(text)
    for spec in extra or []:
        model = str(spec).partition("=")[2] or str(spec)
        if is_local(model):
            found.append(model)
    return sorted(set(found))


def main(args: argparse.Namespace) -> int:
    if args.theme:  # refused before anything is saved: an unknown name would warn at every start
        from genaicompare.app.themes import check_theme_name

        check_theme_name(args.theme)
    path = args.catalog
    if path is None:
        from genaicompare.app.screens.picker import pick_catalog

        choices = _choices(_settings(args).recent_catalogs)
        if not choices:
            raise UserError("no catalog given and no samples found: genaicompare CATALOG")
        path = pick_catalog(choices)
        if path is None:
            return 0
    if not Path(path).exists():  # the one catalog error worth catching before the screen opens
        raise UserError(f"{path}: no such file")
    from genaicompare.commands import import_

    if import_.recognised(path):  # another tool's file: imported to a catalog, then opened
        path = import_.import_for_tui(path)

    from genaicompare.commands._common import db_path

    database = db_path(args)
    # A bad --db (a folder, not a database, damaged, read-only, a full disk, a newer schema) is
    # one clear error before the screen opens; plain sqlite3, so nothing heavy before first paint.
    from genaicompare.store.opening import probe

    notice = probe(database)
    if notice is not None:
        # A database that holds many answers is upgraded here, before the screen opens and
        # with a word on the terminal, not silently on the store's thread while panes wait.
        import time

        from genaicompare.store import Store

        print(f"genaicompare: {notice}", file=sys.stderr, flush=True)
        started = time.monotonic()
        Store(database).close()
        print(f"genaicompare: upgraded in {time.monotonic() - started:.1f} s", file=sys.stderr)

    def open_store() -> Store:
        from genaicompare.store import Store

        return Store(database)

    local = local_models("" if args.replace_models else path, args.models)
    early = None
    if not args.in_process:
        # The streaming worker (and the local model's servers) start now, on the other core,
        # while this process imports Textual and paints: ≈0.3 s sooner than at the first paint.
        from genaicompare.core.paths import cache_file
        from genaicompare.session.streaming import WORKER_LOG, ProcessEngine

        early = ProcessEngine(log_path=cache_file(WORKER_LOG))
        early.prestart(local)
    from genaicompare.app.app import launch_app

    app = launch_app(
        lambda: launch(args, path),
        open_store,
        first_theme=first_theme(args),
        in_process=args.in_process,
        catalog_path=path,
        local_models=local,
        early_engine=early,
    )
    try:
        app.run()
    finally:
        if app.store is not None:
            app.store.close()
    if app.launch_error is not None:
        raise app.launch_error
    code = app.return_code or 0
    # The terminal is restored and nothing is left to save (the streaming worker and the local
    # servers end on their own once their pipes close). Tearing the interpreter down — numpy,
    # torch and the rest the metrics loaded — took another ≈0.8 s before the shell came back.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
