"""The console's widgets, one family per module."""

from __future__ import annotations
