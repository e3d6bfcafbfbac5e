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


def _css_value_ok(prop: str, value: str) -> bool:
    """Whether ``prop: value`` parses as Textual CSS (what the theme's variable will become)."""
    from textual.css.stylesheet import Stylesheet, StylesheetError

    sheet = Stylesheet()
    sheet.add_source(f"Widget {{ {prop}: {value}; }}", read_from=("theme", ""))
    try:
        sheet.parse()
    except StylesheetError:
        return False
    return True


def _variables(variables: dict[str, str]) -> dict[str, str]:
    """Each ``[variables]`` value must parse where Textual will use it: a colour (``auto 87%``
    and ``initial`` too) or, for ``…-style`` names, a text style. Checked here, on load, because
    a bad value otherwise fails the whole stylesheet when the theme is applied (issue 18 §10)."""
    for name, value in variables.items():
        if not isinstance(value, str) or any(c in value for c in ";{}\n"):
            raise ValueError(f"{name}: not a CSS value: {value!r}")
        props = ("text-style",) if name.endswith("style") else ("color", "text-style")
        if not any(_css_value_ok(prop, value) for prop in props):
            kind = "a text style" if props == ("text-style",) else "a colour"
            raise ValueError(f"{name}: not {kind}: {value!r}")
    return variables


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

    _check_variables = field_validator("variables")(_variables)

    def to_theme(self) -> Theme:
        return Theme(**self.model_dump())
