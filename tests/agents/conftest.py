"""Fixtures for teammate tests (the helpers live in ``teammate_helpers``)."""

from __future__ import annotations

from tests.agents.teammate_helpers import workers

__all__ = ["workers"]
