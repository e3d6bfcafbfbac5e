"""Themes shipped in ``themes/`` (and the user's ``<config>/themes``), validated on load."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

from genaicompare.core.errors import UserError
from genaicompare.core.paths import config_dir

BUNDLED = Path(__file__).resolve().parent.parent / "themes"


def _color(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(f"not a colour: {value!r}") from None
    return value


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    success: str | None = None
    warning: str | None = None
    error: str | None = None
    boost: str | None = None
    variables: dict[str, str] = {}

    _check = field_validator(
        "primary",
        "secondary",
        "accent",
        "foreground",
        "background",
        "surface",
        "panel",
        "success",
        "warning",
        "error",
        "boost",
    )(_color)

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())


def load_theme_file(path: Path) -> Theme:
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
