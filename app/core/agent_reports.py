"""What a teammate says about itself: working on what, blocked on what — for the lead to see.

A report is one small JSON file per member under the team's runtime dir
(``teams/<team>/.crewmux/reports/<agent>.json``), written whole through the one write helper.
Agents file it through the MCP tool ``report_status``; ``team_status`` and the console read it.
It is crewmux's own file: Claude Code neither reads nor writes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.atomic import atomic_write, read_model
from app.core.errors import BadInput
from app.core.models import now_iso
from app.core.paths import sanitize

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.paths import TeamPaths

ReportState = Literal["working", "blocked", "idle", "done"]
REPORT_STATES: tuple[str, ...] = ("working", "blocked", "idle", "done")
MAX_REPORT_TEXT = 2000


class AgentReport(BaseModel):
    """One member's last word on its own state."""

    model_config = ConfigDict(defer_build=True, cache_strings="keys", extra="ignore", populate_by_name=True)

    agent: str = Field(description="The member who filed it.")
    state: ReportState = Field(description="working, blocked, idle or done.")
    working_on: str | None = Field(default=None, alias="workingOn", description="What it is doing now.")
    blocked_on: str | None = Field(default=None, alias="blockedOn", description="What it waits for.")
    at: str = Field(default_factory=now_iso, description="ISO time it was filed.")


def report_path(paths: TeamPaths, agent: str) -> Path:
    return paths.runtime_dir / "reports" / f"{sanitize(agent, 'agent name')}.json"


def file_report(
    paths: TeamPaths, agent: str, state: str, *, working_on: str | None = None, blocked_on: str | None = None
) -> AgentReport:
    """Record ``agent``'s report (replacing its last one). BadInput for an unknown state or long text."""
    if state not in REPORT_STATES:
        raise BadInput(f"state {state!r} is not one of {', '.join(REPORT_STATES)}")
    for text in (working_on, blocked_on):
        if text is not None and len(text) > MAX_REPORT_TEXT:
            raise BadInput(f"a report's text is limited to {MAX_REPORT_TEXT} characters")
    report = AgentReport.model_validate(
        {"agent": agent, "state": state, "workingOn": working_on or None, "blockedOn": blocked_on or None}
    )
    atomic_write(report_path(paths, agent), report.model_dump_json(by_alias=True, exclude_none=True, indent=2))
    return report


def read_report(paths: TeamPaths, agent: str) -> AgentReport | None:
    """``agent``'s last report, or None (a corrupt file is quarantined and reported)."""
    found = read_model(report_path(paths, agent), AgentReport)
    return found if isinstance(found, AgentReport) else None
