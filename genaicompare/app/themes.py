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


def _discover(errors: list[str] | None) -> dict[str, Theme]:
    themes: dict[str, Theme] = {}
    for folder in (BUNDLED, config_dir() / "themes"):
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                try:
                    theme = load_theme_file(path)
                except UserError as exc:
                    if errors is None:
                        raise
                    errors.append(str(exc))
                    continue
                themes[theme.name] = theme
    return themes


def discover_themes() -> dict[str, Theme]:
    """Bundled themes, then the user's own (which may replace a bundled one by name)."""
    return _discover(None)


def discover_themes_or_error() -> tuple[dict[str, Theme], str | None]:
    """:func:`discover_themes` without the broken files, and the error to report for them (the
    app shows it; the other themes still work, Textual's own are always there)."""
    errors: list[str] = []
    themes = _discover(errors)
    return themes, "; ".join(errors) or None


def known_theme_names() -> list[str]:
    """Every theme ``--theme`` can name: ours, the user's (valid ones) and Textual's."""
    from textual.theme import BUILTIN_THEMES

    return sorted({*discover_themes_or_error()[0], *BUILTIN_THEMES})


def check_theme_name(name: str) -> None:
    """Refuse an unknown ``--theme`` before it is saved to the config (exit 2, the names listed)."""
    names = known_theme_names()
    if name not in names:
        _, error = discover_themes_or_error()
        broken = f" ({one_line(error, 300)})" if error else ""
        raise UserError(
            f"--theme {one_line(name, 80)}: no such theme{broken}; choose one of: "
            + ", ".join(names)
        )


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
        try:
            app.theme = settings.theme
        except Exception as exc:  # a theme Textual cannot apply: report it, keep the default
            app.notify(
                one_line(f"theme {settings.theme!r} cannot be applied: {exc}", 300),
                severity="error",
                markup=False,
                timeout=10,
            )
            if "genaicompare-dark" in app.available_themes:
                app.theme = "genaicompare-dark"
    else:
        app.notify(
            one_line(f"unknown theme {settings.theme!r}", 200), severity="warning", markup=False
        )
    if settings.keymap:
        app.set_keymap(dict(settings.keymap))
