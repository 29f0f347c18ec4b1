"""Fixtures for the MCP tests: the real agent CLIs, fake model servers and the Claude Code rig."""

from __future__ import annotations

from tests.claudecode.conftest import claude_rig
from tests.realcli.conftest import agent_home, gemini_server, real_cli, responses_server

__all__ = ["agent_home", "claude_rig", "gemini_server", "real_cli", "responses_server"]
