"""Themes are data files validated by pydantic; the chosen one is remembered."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from app.console.themes import ConsoleSettings, load_settings, load_theme_file, load_themes, save_settings
from app.core.errors import BadInput

if TYPE_CHECKING:
    from pathlib import Path


def test_shipped_themes_load_dark_and_light() -> None:
    themes = {t.name: t for t in load_themes()}
    assert themes["crewmux-dark"].dark is True
    assert themes["crewmux-light"].dark is False


def test_a_bad_color_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad", "primary": "not-a-color"}))
    with pytest.raises(BadInput, match=r"bad\.json"):
        load_theme_file(bad)
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"name": "x", "primary": "#000000", "sparkle": True}))
    with pytest.raises(BadInput):
        load_theme_file(extra)


def test_settings_round_trip(tmp_path: Path) -> None:
    assert load_settings(tmp_path).theme == "crewmux-dark"
    save_settings(tmp_path, ConsoleSettings(theme="crewmux-light"))
    assert load_settings(tmp_path).theme == "crewmux-light"
