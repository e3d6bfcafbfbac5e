"""Every directory genaicompare reads or writes, in one place.

``GENAICOMPARE_HOME`` moves everything (data, config, cache) under one folder — tests use it so they
never touch the user's real directories. ``GENAICOMPARE_DB`` (or ``--db``) names the database file.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "genaicompare"


def _home() -> Path | None:
    home = os.environ.get("GENAICOMPARE_HOME")
    return Path(home).expanduser() if home else None


def data_dir() -> Path:
    """Where the database and exports' bookkeeping live (platformdirs user data dir)."""
    home = _home()
    if home is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """Where ``config.toml`` (theme, keymap, rater) lives."""
    home = _home()
    if home is not None:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    """Scratch space: local model server logs and the like."""
    home = _home()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def cache_file(name: str) -> Path | None:
    """``<cache_dir>/name`` with its folder made (worker logs), or None where it cannot be."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder / name


def default_db_path() -> Path:
    """The database file: ``GENAICOMPARE_DB`` if set, else ``<data_dir>/genaicompare.db``."""
    env = os.environ.get("GENAICOMPARE_DB")
    if env:
        return Path(env).expanduser()
    return data_dir() / "genaicompare.db"


def config_path() -> Path:
    return config_dir() / "config.toml"
