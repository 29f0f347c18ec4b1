"""``crewmux mcp``: an MCP server named ``crewmux`` that acts as one member of one team.

Built on the official ``mcp`` SDK (its ``MCPServer``, what v1 called FastMCP). Who the server
acts as is fixed when it starts (``--team``/``--as``, or ``$CREWMUX_TEAM``/``$CREWMUX_AGENT`` as
crewmux sets them at spawn); no tool takes a name to act as. Each tool runs the blocking core
call on a worker thread and turns a :class:`CrewmuxError` into an MCP tool error (``isError``)
whose text is the reason, so a refusal reaches the model instead of crashing the server.
``wait_for_message`` waits on the core's inotify watcher from the event loop itself, so it is
cancellable and never leaves a thread behind.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import Tool as MCPTool
from mcp.types import ToolAnnotations
from pydantic import Field

from app.core.atomic import ensure_dir
from app.core.errors import EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_TIMEOUT, CrewmuxError
from app.core.mcp_ready import record_listed
from app.core.watch import DirWatcher
from app.mcp.tools import BROADCAST, TeamTools

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")
F = TypeVar("F", bound="Callable[..., Any]")
SERVER_NAME = "crewmux"
MAX_WAIT_S = 300.0

_KIND = {EXIT_BAD_INPUT: "bad input", EXIT_REFUSED: "refused", EXIT_TIMEOUT: "timed out"}
_READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True, openWorldHint=False)
_WRITES = ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False)

TaskId = Annotated[str, Field(description="A task id: its decimal number as text, e.g. '3'.", pattern=r"^\s*\d+\s*$")]


async def _core(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call on a worker thread; a crewmux error becomes the tool's error text."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
    except CrewmuxError as exc:
        raise ToolError(f"{_KIND.get(exc.exit_code, 'failed')}: {exc}") from exc


def _instructions(tools: TeamTools) -> str:
    return (
        f"You are {tools.me!r}, a member of the crewmux team {tools.team!r}; the lead is 'team-lead'. "
        "These tools act as you and no one else. Claim work with task_claim (no id: the lowest available "
        "task), mark it in_progress and then completed with task_update, message teammates with "
        "send_message, read your messages with read_inbox or wait_for_message, and tell the lead what you "
        "are doing or waiting for with report_status."
    )


async def wait_for(tools: TeamTools, timeout_s: float) -> dict[str, Any]:
    """The first unread message, waiting up to ``timeout_s`` on the inbox's file-system events."""
    inbox = tools.paths.inbox(tools.me)
    ensure_dir(inbox.parent)
    deadline = time.monotonic() + timeout_s
    with DirWatcher(inbox.parent, {inbox.name}) as watcher:  # made before the first look: nothing missed
        while True:
            message = await _core(tools.first_unread)
            if message is not None:
                return await _core(tools.take, message)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return {"message": None, "timedOut": True, "waitedS": timeout_s}
                fd = watcher.fileno()
                with anyio.move_on_after(left):
                    if fd is not None:
                        await anyio.wait_readable(fd)
                    else:
                        await anyio.sleep(min(watcher.poll_interval, left))
                if watcher.changed():
                    break


def _tool(server: MCPServer[Any], annotations: ToolAnnotations) -> Callable[[F], F]:
    """Register a tool under its function's name, its docstring (dedented) as the description."""

    def register(fn: F) -> F:
        server.add_tool(fn, description=inspect.cleandoc(fn.__doc__ or ""), annotations=annotations)
        return fn

    return register


class _TeamServer(MCPServer[Any]):
    """Records each listing of its tools: the CLI's MCP start-up is then over (app/core/mcp_ready.py)."""

    team_tools: TeamTools | None = None

    async def list_tools(self) -> list[MCPTool]:
        listed = await super().list_tools()
        if self.team_tools is not None:
            me = self.team_tools
            with contextlib.suppress(CrewmuxError):  # a note for the deliverer, never a reason to fail the listing
                await anyio.to_thread.run_sync(lambda: record_listed(me.paths, me.me))
        return listed


def build_server(tools: TeamTools) -> MCPServer[Any]:
    """The ``crewmux`` MCP server for the member ``tools`` is bound to."""
    server = _TeamServer(
        SERVER_NAME,
        title="crewmux team",
        instructions=_instructions(tools),
        version="0.1.0",
        log_level="WARNING",
    )
    server.team_tools = tools

    @_tool(server, _READ_ONLY)
    async def team_status() -> dict[str, Any]:
        """Who is on your team: each member's name, agent kind, whether its process runs, the unfinished
        task ids it owns and its last report_status; plus task counts and whether the lead is in delegate
        mode. Call it first to find teammates' names for send_message."""
        return await _core(tools.team_status)

    @_tool(server, _READ_ONLY)
    async def task_list(
        status: Annotated[
            Literal["pending", "in_progress", "completed"] | None,
            Field(description="Only tasks in this status; omit for all."),
        ] = None,
        owner: Annotated[str | None, Field(description="Only tasks this member owns; '' for unowned.")] = None,
    ) -> dict[str, Any]:
        """The team's shared task list in id order. Each task has id, subject, description, status, owner,
        blockedBy/blocks ids, openBlockers (blockers not yet completed) and available (pending, unowned and
        unblocked: claimable now)."""
        return await _core(tools.task_list, status, owner)

    @_tool(server, _READ_ONLY)
    async def task_get(task_id: TaskId) -> dict[str, Any]:
        """One task by id, with its full description and open blockers."""
        return await _core(tools.task_get, task_id)

    @_tool(server, _WRITES)
    async def task_create(
        subject: Annotated[str, Field(description="One line: what is to be done.", min_length=1, max_length=500)],
        description: Annotated[str, Field(description="Details, acceptance criteria.")] = "",
        blocked_by: Annotated[
            list[TaskId] | None, Field(description="Ids of tasks that must be completed before this one.")
        ] = None,
    ) -> dict[str, Any]:
        """Add a pending task to the team's list; returns it with its new id. blocked_by ids must exist."""
        return await _core(tools.task_create, subject, description, blocked_by)

    @_tool(server, _WRITES)
    async def task_claim(
        task_id: Annotated[
            TaskId | None, Field(description="The task to claim; omit to claim the lowest-id available task.")
        ] = None,
    ) -> dict[str, Any]:
        """Make yourself the owner of a task. Refused (with the reason) when it is already claimed by someone
        else, already completed, or blocked by unfinished tasks; without task_id, refused when nothing is
        available. After claiming, set status in_progress with task_update, and completed when done."""
        return await _core(tools.task_claim, task_id)

    @_tool(server, _WRITES)
    async def task_update(  # noqa: PLR0917 - the tool's arguments, as the model passes them
        task_id: TaskId,
        status: Annotated[
            Literal["pending", "in_progress", "completed", "deleted"] | None,
            Field(description="New status; 'completed' unblocks the tasks it blocks; 'deleted' removes it."),
        ] = None,
        owner: Annotated[str | None, Field(description="Assign to this member; '' to unassign.")] = None,
        subject: Annotated[str | None, Field(description="New subject line.")] = None,
        description: Annotated[str | None, Field(description="New description (replaces the old).")] = None,
        add_blocked_by: Annotated[
            list[TaskId] | None, Field(description="Ids of tasks this one must now wait for.")
        ] = None,
    ) -> dict[str, Any]:
        """Change a task: its status, owner, subject, description, or add blockers (cycles are refused).
        Only the fields given change."""
        return await _core(
            tools.task_update,
            task_id,
            status=status,
            owner=owner,
            subject=subject,
            description=description,
            add_blocked_by=add_blocked_by,
        )

    @_tool(server, _WRITES)
    async def send_message(
        to: Annotated[
            str, Field(description=f"A member's name (see team_status), or '{BROADCAST}' for every other member.")
        ],
        text: Annotated[str, Field(description="The message.", min_length=1)],
        summary: Annotated[str | None, Field(description="A few words shown as its preview.")] = None,
    ) -> dict[str, Any]:
        """Send a message from you to a teammate's inbox; returns its message id. Refused for a name that is
        not a member of the team."""
        return await _core(tools.send_message, to, text, summary)

    @_tool(server, _WRITES)
    async def read_inbox(
        unread_only: Annotated[bool, Field(description="Only messages not read yet.")] = True,
        mark_read: Annotated[bool, Field(description="Mark the returned messages read (senders see it).")] = True,
    ) -> dict[str, Any]:
        """Your messages, oldest first (at most 50): from, text, timestamp, read, msg_id. By default returns
        the unread ones and marks them read."""
        return await _core(tools.read_inbox, unread_only=unread_only, mark_read=mark_read)

    @_tool(server, _WRITES)
    async def wait_for_message(
        timeout_s: Annotated[
            float, Field(description=f"How long to wait, in seconds (0 to {MAX_WAIT_S:g}).", ge=0, le=MAX_WAIT_S)
        ] = 30.0,
    ) -> dict[str, Any]:
        """Wait until a message arrives in your inbox (returns at once if one is already unread), then return
        it marked read. Returns message null and timedOut true when none came in time."""
        return await wait_for(tools, timeout_s)

    @_tool(server, _WRITES)
    async def report_status(
        state: Annotated[
            Literal["working", "blocked", "idle", "done"], Field(description="Your state, for the lead to see.")
        ],
        working_on: Annotated[str | None, Field(description="What you are doing now.", max_length=2000)] = None,
        blocked_on: Annotated[
            str | None, Field(description="What you are waiting for (with state 'blocked').", max_length=2000)
        ] = None,
    ) -> dict[str, Any]:
        """Tell the lead your state: working on what, blocked on what, idle, or done. Replaces your last
        report; shown in team_status."""
        return await _core(tools.report_status, state, working_on, blocked_on)

    return server
