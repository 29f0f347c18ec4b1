"""When an agent CLI has listed crewmux's MCP tools: the sign its MCP start-up is over.

codex 0.169 holds prompts submitted before its required MCP servers are up ("Queued follow-up
inputs"). gemini 0.61 draws its empty input line before its MCP servers are loaded. Its footer
(``1 MCP server``) counts the CONFIGURED servers, drawn as soon as discovery starts, so it is no
sign of readiness; until discovery completes, a submitted prompt is held in gemini's own queue
("Queued (press ↑ to edit)") and sent later. Discovery ends once every server has listed its
tools, and crewmux's own MCP server (``crewmux mcp``, one per teammate) answers that listing: it
records the moment here (``teams/<team>/.crewmux/mcp/listed-<name>.json``) and the deliverer waits
for a listing newer than the teammate's process, with a deadline, before typing into it.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from app.core.atomic import atomic_write, ensure_dir, read_model
from app.core.paths import sanitize
from app.core.watch import DirWatcher

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from app.core.paths import TeamPaths


class ToolsListed(BaseModel):
    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="ignore")
    at: float
    pid: int


def listed_path(paths: TeamPaths, name: str) -> Path:
    return paths.runtime_dir / "mcp" / f"listed-{sanitize(name)}.json"


def record_listed(paths: TeamPaths, name: str) -> None:
    """``name``'s CLI just listed crewmux's tools (called by ``crewmux mcp``, whose parent is that CLI)."""
    doc = ToolsListed(at=time.time(), pid=os.getppid())
    atomic_write(listed_path(paths, name), doc.model_dump_json(), fsync=False)


def listed_since(paths: TeamPaths, name: str, since: float) -> bool:
    """True when ``name``'s CLI listed crewmux's tools at or after ``since`` (epoch seconds)."""
    found = read_model(listed_path(paths, name), ToolsListed)
    return isinstance(found, ToolsListed) and found.at >= since


def wait_listed(
    paths: TeamPaths, name: str, since: float, timeout: float, stop: Callable[[], bool] | None = None
) -> bool:
    """Wait (woken by the file's write) until :func:`listed_since`; False at the deadline or on ``stop``."""
    path = listed_path(paths, name)
    ensure_dir(path.parent)
    deadline = time.monotonic() + timeout
    with DirWatcher(path.parent, {path.name}) as changes:
        while not listed_since(paths, name, since):
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop()):
                return False
            changes.wait(min(left, 0.5))
    return True
