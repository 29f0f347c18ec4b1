"""Fixtures for the orchestrator tests (they live in ``orch_helpers``)."""

from __future__ import annotations

from tests.orchestrate.orch_helpers import checkpoint, iterate

__all__ = ["checkpoint", "iterate"]
