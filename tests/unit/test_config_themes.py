"""Settings round-trip through TOML, environment overrides, bad files are user errors; bundled
themes load and validate; a broken theme is reported, not crashed on."""

from __future__ import annotations

from pathlib import Path

import pytest

from genaicompare.config import Settings, dumps, load_settings, remember_catalog, save_settings
from genaicompare.core.errors import UserError
from genaicompare.core.paths import config_path


def test_settings_round_trip(isolated_home: Path) -> None:
    settings = Settings(
        theme="genaicompare-light",
        rater='ann "the rater"',
        blind=True,
        prefetch=3,
        keymap={"rate.up": "y", "prompt.next": "n,j"},
        metrics=["lexical"],
    )
    save_settings(settings)
    assert config_path().exists()
    assert load_settings() == settings


def test_saving_the_same_settings_leaves_the_file_alone(isolated_home: Path) -> None:
    """The TUI saves its settings at every start; an unchanged config is not rewritten (no temp
    file, no fsyncs on the way to the main screen), a changed one is."""
    settings = remember_catalog(Settings(rater="ann"), "a.yaml")
    path = save_settings(settings)
    before = path.stat()
    save_settings(settings.model_copy())
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    changed = remember_catalog(settings, "b.yaml")
    save_settings(changed)
    assert path.stat().st_ino != before.st_ino
    assert load_settings() == changed


def test_env_overrides_file(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(Settings(rater="file", theme="genaicompare-light"))
    monkeypatch.setenv("GENAICOMPARE_THEME", "genaicompare-high-contrast")
    monkeypatch.setenv("GENAICOMPARE_BLIND", "true")
    loaded = load_settings()
    assert (loaded.theme, loaded.blind, loaded.rater) == (
        "genaicompare-high-contrast",
        True,
        "file",
    )


@pytest.mark.parametrize(
    "text",
    [
        "theme = ",
        "prefetch = -1",
        "unknown_key = 1",
        'keymap = {"bad id!" = "x"}',
        "[timeouts]\nconnect = 0",
    ],
)
def test_bad_config_is_a_user_error(isolated_home: Path, text: str) -> None:
    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_settings()
    assert str(config_path()) in str(err.value)


def test_recent_catalogs_newest_first_without_duplicates(tmp_path: Path) -> None:
    s = Settings(rater="r")
    for name in ("a.yaml", "b.yaml", "a.yaml"):
        s = remember_catalog(s, str(tmp_path / name))
    assert [Path(p).name for p in s.recent_catalogs] == ["a.yaml", "b.yaml"]
    assert "recent_catalogs" in dumps(s)


def test_bundled_themes_load() -> None:
    from genaicompare.app.themes import BUNDLED, discover_themes

    themes = discover_themes()
    assert {"genaicompare-dark", "genaicompare-light", "genaicompare-high-contrast"} <= set(themes)
    assert not themes["genaicompare-light"].dark
    assert (BUNDLED / "genaicompare-dark.toml").exists()


def test_user_theme_is_validated(isolated_home: Path) -> None:
    from genaicompare.app.themes import discover_themes
    from genaicompare.core.paths import config_dir

    folder = config_dir() / "themes"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#123456"\n', encoding="utf-8")
    assert "mine" in discover_themes()
    (folder / "broken.toml").write_text(
        'name = "broken"\nprimary = "notacolour"\n', encoding="utf-8"
    )
    with pytest.raises(UserError, match=r"broken\.toml: primary"):
        discover_themes()
