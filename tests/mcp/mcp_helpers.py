"""Talking to ``crewmux mcp`` the way an agent does: the official ``mcp`` client SDK, a real server process."""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
from mcp import Client, StdioServerParameters

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from mcp.types import CallToolResult

REPO = Path(__file__).resolve().parents[2]


def server_params(
    home: Path, team: str, name: str, *extra: str, env: dict[str, str] | None = None
) -> StdioServerParameters:
    """``crewmux mcp --team TEAM --as NAME`` as a child process on ``home``."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp", "--team", team, "--as", name, *extra],
        env={"CREWMUX_HOME": str(home), "PYTHONPATH": str(REPO), **(env or {})},
        cwd=str(REPO),
    )


@asynccontextmanager
async def connect(home: Path, team: str, name: str, **kw: Any) -> AsyncIterator[Client]:
    async with Client(server_params(home, team, name, env=kw.get("env")), read_timeout_seconds=60) as client:
        yield client


async def call(client: Client, tool: str, args: dict[str, Any] | None = None) -> Any:
    """Call ``tool``; its structured result, or AssertionError with the error text."""
    result = await client.call_tool(tool, args or {})
    assert not result.is_error, f"{tool} failed: {text_of(result)}"
    return result.structured_content


async def refused(client: Client, tool: str, args: dict[str, Any] | None = None) -> str:
    """Call ``tool`` expecting a tool error; returns its text."""
    result = await client.call_tool(tool, args or {})
    assert result.is_error, f"{tool} succeeded unexpectedly: {result.structured_content}"
    return text_of(result)


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(c, "text", "") for c in result.content)


def task_file(home: Path, team: str, task_id: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((home / "tasks" / team / f"{task_id}.json").read_text())
    return doc


def server_process(team: str, name: str, timeout: float = 20.0) -> psutil.Process:
    """The ``crewmux mcp`` child of this test serving ``name`` of ``team``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in psutil.Process(os.getpid()).children(recursive=True):
            try:
                argv = child.cmdline()
            except psutil.Error:
                continue
            if "mcp" in argv and name in argv and team in argv:
                return child
        time.sleep(0.02)
    raise AssertionError(f"no crewmux mcp process for {name}@{team}")


def watching_inotify(proc: psutil.Process) -> bool:
    """True while ``proc`` holds an inotify descriptor (the waiter's watch is set)."""
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            if os.readlink(fd) == "anon_inode:inotify":
                return True
        except OSError:
            continue
    return False
