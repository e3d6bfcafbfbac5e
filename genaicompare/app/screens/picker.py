"""``genaicompare`` alone: :func:`pick_catalog` runs a small app of its own with the
:class:`CatalogPicker` (recent catalogs and the bundled samples)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from genaicompare.app.themes import STYLESHEET
from genaicompare.core.sanitize import one_line

PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "gemini": "GEMINI_API_KEY",
}


def _about(path: Path) -> tuple[str, list[str]]:
    """A catalog's description and the API keys it needs, read without a YAML parser (the
    picker opens before anything heavy is imported); empty when the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")[:20_000]
    except (OSError, UnicodeDecodeError):
        return "", []
    description = ""
    if path.suffix == ".jsonl":
        try:
            header = json.loads(text.split("\n", 1)[0])
        except ValueError:
            header = {}
        description = str(header.get("description", "")) if isinstance(header, dict) else ""
    else:
        m = re.search(r"^description:[ \t]*(?:>-?|\|-?)?[ \t]*(.*(?:\n[ \t]+.+)*)", text, re.M)
        description = " ".join(m.group(1).split()) if m else ""
    keys = re.findall(r"api_key_env:\s*\"?([A-Z][A-Z0-9_]*)", text)
    for provider, key in PROVIDER_KEYS.items():
        # A provider's own API (no api_base of its own in the catalog) needs its key.
        if re.search(rf"model:\s*\"?{provider}/", text) and "api_base" not in text:
            keys.append(key)
    return description, sorted(set(keys))


def catalog_choices(recent: Sequence[str], samples: Path) -> list[tuple[str, str, str]]:
    """(label, path, description) for the picker: recent catalogs first (newest first), then
    the bundled samples (quickstart first) not already listed as recent, YAML and JSONL."""
    found = (
        [p for p in samples.iterdir() if p.suffix in (".yaml", ".jsonl")]
        if samples.is_dir()
        else []
    )
    found.sort(key=lambda p: (p.stem != "quickstart", p.name))
    out: list[tuple[str, str, str]] = []
    seen: set[Path] = set()
    for item in recent:
        path = Path(item)
        if path.exists() and path.resolve() not in seen:
            seen.add(path.resolve())
            description, keys = _about(path)
            out.append((f"recent: {item}", str(item), _line(description, keys)))
    for path in found:
        if path.resolve() in seen:
            continue
        description, keys = _about(path)
        out.append((f"sample: {path.name}", str(path), _line(description, keys)))
    return out


def _line(description: str, keys: list[str]) -> str:
    need = f"needs {', '.join(keys)}" if keys else "no API key needed"
    return f"{description} ({need})" if description else need


class CatalogPicker(ModalScreen[str | None]):
    """``genaicompare`` alone: recent catalogs first, then the bundled samples (quickstart
    first), each with its description and the API keys it needs."""

    BINDINGS = [Binding("escape,q", "dismiss(None)", "Quit")]

    def __init__(self, choices: Sequence[tuple[str, ...]]) -> None:
        super().__init__()
        self.choices = list(choices)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text("Open a catalog", style="bold"), id="picker-title")
            yield Label("↑/↓ choose, Enter opens, Esc quits")
            yield OptionList(
                *(Option(self._prompt(choice), id=str(i)) for i, choice in enumerate(self.choices)),
            )

    @staticmethod
    def _prompt(choice: tuple[str, ...]) -> Text:
        out = Text(one_line(choice[0], 200))
        if len(choice) > 2 and choice[2]:
            out.append("\n  " + one_line(choice[2], 300), style="dim")
        return out

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id or 0)][1])


class _PickerApp(App[str | None]):
    CSS_PATH = STYLESHEET

    def __init__(self, choices: Sequence[tuple[str, ...]]) -> None:
        super().__init__()
        self.choices = choices

    def on_mount(self) -> None:
        self.push_screen(CatalogPicker(self.choices), self.exit)


def pick_catalog(choices: Sequence[tuple[str, ...]]) -> str | None:
    """``genaicompare`` alone: let the user pick a catalog (None when they quit)."""
    return _PickerApp(choices).run()
