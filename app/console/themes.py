"""Themes as data: ``themes/*.json`` validated by pydantic, turned into Textual themes.

The console's settings (the chosen theme) live in ``<root>/console.json``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.theme import Theme

from app.core.atomic import atomic_write, read_model
from app.core.errors import BadInput
from themes import THEMES_DIR

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

DEFAULT_THEME = "crewmux-dark"


def _check_color(value: str | None) -> str | None:
    if value is None:
        return None
    from textual.color import Color, ColorParseError

    try:
        Color.parse(value)
    except ColorParseError as exc:
        raise ValueError(f"{value!r} is not a color") from exc
    return value


class ThemeFile(BaseModel):
    """One theme file. Colors are anything Textual's ``Color.parse`` accepts."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="forbid")

    name: str = Field(min_length=1, max_length=64, description="The theme's name in the palette.")
    dark: bool = Field(default=True, description="True for a dark theme.")
    primary: str = Field(description="Main accent: borders, selection.")
    secondary: str | None = Field(default=None, description="Second accent.")
    accent: str | None = Field(default=None, description="Highlights (delegate mode banner).")
    foreground: str | None = Field(default=None, description="Text.")
    background: str | None = Field(default=None, description="Screen background.")
    surface: str | None = Field(default=None, description="Widget background.")
    panel: str | None = Field(default=None, description="Panel background.")
    success: str | None = Field(default=None, description="Good news.")
    warning: str | None = Field(default=None, description="Warnings.")
    error: str | None = Field(default=None, description="Errors, dead teammates.")

    @field_validator(
        "primary", "secondary", "accent", "foreground", "background", "surface", "panel", "success", "warning", "error"
    )
    @classmethod
    def _color(cls, value: str | None) -> str | None:
        return _check_color(value)

    def to_textual_theme(self) -> Theme:
        """The Textual :class:`Theme` for this file."""
        return Theme(**self.model_dump())


def load_theme_file(path: Path) -> ThemeFile:
    """Parse one theme file; :class:`BadInput` naming the file and the problem when invalid."""
    try:
        return ThemeFile.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise BadInput(f"theme file {path} is invalid: {exc}") from exc


def load_themes(directories: Iterable[Path] = (THEMES_DIR,)) -> list[Theme]:
    """Every valid theme in ``directories`` (sorted by file name)."""
    found: list[Theme] = []
    for directory in directories:
        for path in sorted(directory.glob("*.json")):
            found.append(load_theme_file(path).to_textual_theme())
    return found


class ConsoleSettings(BaseModel):
    """``<root>/console.json``: what the console remembers between runs."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="allow")

    theme: str = Field(default=DEFAULT_THEME, description="The chosen theme's name.")


def settings_path(home: Path) -> Path:
    return home / "console.json"


def load_settings(home: Path) -> ConsoleSettings:
    """The console's settings; defaults when missing (a corrupt file is quarantined)."""
    found = read_model(settings_path(home), ConsoleSettings)
    return found if isinstance(found, ConsoleSettings) else ConsoleSettings()


def save_settings(home: Path, settings: ConsoleSettings) -> None:
    """Write the settings atomically (their folder made 0700 if missing). Raises StorageError."""
    atomic_write(settings_path(home), settings.model_dump_json(indent=2))
