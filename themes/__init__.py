"""The console's themes, as data files (``*.json``) shipped beside this module."""

from __future__ import annotations

from pathlib import Path

THEMES_DIR = Path(__file__).resolve().parent
