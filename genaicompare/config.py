"""User settings: theme, keymap, rater, blind mode, prefetch, timeouts, metrics matrix rows.

Stored as TOML at :func:`genaicompare.core.paths.config_path`. Environment variables
``GENAICOMPARE_<FIELD>`` (e.g. ``GENAICOMPARE_THEME``, ``GENAICOMPARE_RATER``) override the file;
command-line options override both. No Textual here: the app reads these and applies them.
"""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from genaicompare.core.errors import UserError
from genaicompare.core.paths import config_path
from genaicompare.providers.events import Timeouts

ENV_PREFIX = "GENAICOMPARE_"
DEFAULT_THEME = "genaicompare-dark"


def _default_rater() -> str:
    try:
        return getpass.getuser() or "me"
    except Exception:  # no passwd entry in some containers
        return "me"


class TimeoutSettings(BaseModel):
    """Seconds the app waits before a pane ends in state ``timeout``."""

    model_config = ConfigDict(extra="forbid")

    connect: float = Field(default=10.0, gt=0)
    """Connecting to the provider."""
    first_token: float = Field(default=60.0, gt=0)
    """From the request to the first streamed token."""
    between_chunks: float = Field(default=30.0, gt=0)
    """Silence allowed between two chunks once streaming."""
    total: float = Field(default=600.0, gt=0)
    """Whole response."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries before the first token (429/5xx/connection errors)."""

    def to_timeouts(self) -> Timeouts:
        return Timeouts(
            connect=self.connect,
            first_token=self.first_token,
            between_chunks=self.between_chunks,
            total=self.total,
            max_retries=self.max_retries,
        )


class Settings(BaseModel):
    """Everything the TUI remembers between sessions."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    theme: str = DEFAULT_THEME
    """Theme name: one of ``themes/`` (genaicompare-dark, -light, -high-contrast) or Textual's."""
    keymap: dict[str, str] = {}
    """Binding id → keys (comma separated), e.g. ``{"rate.up" = "plus", "prompt.next" = "n,j"}``."""
    rater: str = Field(default_factory=_default_rater, min_length=1, max_length=100)
    """Name recorded with every rating."""
    blind: bool = False
    """Hide model names and shuffle pane order per prompt until the prompt is rated."""
    prefetch: int = Field(default=2, ge=0, le=10)
    """How many prompts after the current one stream in the background."""
    timeouts: TimeoutSettings = TimeoutSettings()
    """Provider timeouts."""
    metrics: list[str] | None = None
    """Metric or family names the TUI computes (lexical, semantic, toxicity, pii, readability,
    ops); None = the catalog's ``defaults.metrics``, else every available one."""
    matrix: list[str] | None = Field(default=None, max_length=200)
    """The metrics matrix's rows, in order (metric names, ``assertions``, ``similarity_to:*`` …;
    the metric picker, ``M``, writes it); None = the default rows. Unknown names are ignored."""
    recent_catalogs: list[str] = []
    """Catalog files opened lately, newest first (offered by ``genaicompare`` alone)."""

    @field_validator("keymap")
    @classmethod
    def _keys(cls, value: dict[str, str]) -> dict[str, str]:
        for binding_id, keys in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_.\-]+", binding_id):
                raise ValueError(f"keymap: bad binding id {binding_id!r}")
            if not keys.strip():
                raise ValueError(f"keymap: no key given for {binding_id!r}")
        return value


def _env_overrides() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("theme", "rater", "blind", "prefetch"):
        value = os.environ.get(ENV_PREFIX + name.upper())
        if value is not None:
            out[name] = value
    return out


def load_settings(path: Path | None = None) -> Settings:
    """Settings from the TOML file (if any) with environment overrides; a bad file is a UserError."""
    path = path or config_path()
    return _validate({**_read(path), **_env_overrides()}, path)


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UserError(f"{path}: {exc}") from None


def _validate(data: dict[str, Any], path: Path) -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UserError(f"{path}: {where}: {first['msg']}") from None


def save_choices(choices: Mapping[str, Any], path: Path | None = None) -> Path:
    """Keep what the user chose in the session (a theme picked, the matrix rows, the recent
    catalogs) in the config file, on top of what the file holds — never the session's own
    command-line options or ``GENAICOMPARE_*`` variables (``--rater guest`` once is not the
    rater from then on)."""
    path = path or config_path()
    return save_settings(_validate({**_read(path), **choices}, path), path)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dumps(settings: Settings) -> str:
    """TOML text for ``settings`` (flat keys first, then one table per nested model/dict)."""
    data = settings.model_dump()
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if value is None:
            continue  # TOML has no null: an absent key means the default
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for name, table in tables:
        lines.append("")
        lines.append(f"[{name}]")
        for key, value in table.items():
            lines.append(f"{_toml_value(key) if '.' in key else key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically (temp file + rename) so a crash never leaves half a config. A file that
    already holds exactly this is left alone: the TUI saves at every start (the recent catalogs),
    and the two fsyncs of a write are then off the path to its main screen."""
    from genaicompare.core.files import write_atomic

    path = path or config_path()
    text = dumps(settings)
    try:
        if path.read_text(encoding="utf-8") == text:
            return path
    except (OSError, UnicodeDecodeError):
        pass
    write_atomic(path, text, mkdir=True)
    return path


def remember_catalog(settings: Settings, catalog_path: str, keep: int = 10) -> Settings:
    resolved = str(Path(catalog_path).resolve())
    recent = [resolved, *(p for p in settings.recent_catalogs if p != resolved)][:keep]
    return settings.model_copy(update={"recent_catalogs": recent})
