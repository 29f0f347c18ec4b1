"""Fixtures for the MCP tests: the real agent CLIs and fake model servers from ``tests/realcli``."""

from __future__ import annotations

from tests.realcli.conftest import agent_home, gemini_server, real_cli, responses_server

__all__ = ["agent_home", "gemini_server", "real_cli", "responses_server"]
