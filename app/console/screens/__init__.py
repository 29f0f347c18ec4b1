"""The console's screens and modal forms."""

from __future__ import annotations
