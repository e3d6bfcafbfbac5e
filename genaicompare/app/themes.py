"""Themes shipped in ``themes/`` (and the user's ``<config>/themes``), validated on load, and how
an app applies them with the settings' keymap.

Light to import (no pydantic): the app imports it before its first paint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from textual.theme import Theme

from genaicompare.core.errors import UserError
from genaicompare.core.paths import config_dir
from genaicompare.core.sanitize import one_line

if TYPE_CHECKING:
    from textual.app import App

    from genaicompare.config import Settings

BUNDLED = Path(__file__).resolve().parent.parent / "themes"
"""The themes shipped in the wheel (``genaicompare/themes``)."""
STYLESHEET = Path(__file__).resolve().parent / "app.tcss"
"""The one stylesheet of every app here (the comparison app, the run diff app, the picker)."""


def load_theme_file(path: Path) -> Theme:
    # lazy: pydantic stays off the first paint (bundled_theme reads our own files unchecked)
    from pydantic import ValidationError

    from genaicompare.app.theme_file import ThemeFile

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        return ThemeFile.model_validate(data).to_theme()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"theme {path}: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"theme {path}: {where}: {first['msg']}") from None


def discover_themes() -> dict[str, Theme]:
    """Bundled themes, then the user's own (which may replace a bundled one by name)."""
    themes: dict[str, Theme] = {}
    for folder in (BUNDLED, config_dir() / "themes"):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                theme = load_theme_file(path)
                themes[theme.name] = theme
    return themes


def discover_themes_or_error() -> tuple[dict[str, Theme], str | None]:
    """:func:`discover_themes`, or no themes and the error to report when a user theme is
    broken (the bundled ones still work: Textual's own are always there)."""
    try:
        return discover_themes(), None
    except UserError as exc:
        return {}, str(exc)


def bundled_theme(name: str) -> Theme | None:
    """A bundled theme read without pydantic, for the loading screen (the files are ours)."""
    path = BUNDLED / f"{name}.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Theme(**data)
    except (OSError, ValueError, TypeError):
        return None


def apply_settings(
    app: App[Any], settings: Settings, themes: dict[str, Theme], theme_error: str | None
) -> None:
    """Register ``themes``, report ``theme_error``, then apply the settings' theme and keymap
    (shared by the comparison app and ``genaicompare diff --tui``)."""
    for theme in themes.values():
        app.register_theme(theme)
    if theme_error is not None:
        app.notify(one_line(theme_error, 300), severity="error", markup=False, timeout=10)
    if settings.theme in app.available_themes:
        app.theme = settings.theme
    else:
        app.notify(
            one_line(f"unknown theme {settings.theme!r}", 200), severity="warning", markup=False
        )
    if settings.keymap:
        app.set_keymap(dict(settings.keymap))
