"""The theme file format: a TOML table checked with pydantic (colours parse, no unknown keys).

Apart from :mod:`genaicompare.app.themes` so that the first paint, which reads a bundled theme
without validation, does not import pydantic.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme


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
