"""The one exception tree of crewmux.

Every error crewmux raises on purpose derives from :class:`CrewmuxError`. Each carries the CLI
exit code it maps to, so the command line never has to guess: 2 bad input, 3 claim refused,
4 timed out, 1 anything unexpected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
EXIT_TIMEOUT = 4


class CrewmuxError(Exception):
    """Root of every error crewmux raises on purpose."""

    exit_code: int = EXIT_FAILURE


class BadInput(CrewmuxError):
    """The caller asked for something that cannot be: a bad name, an unknown id, a bad value."""

    exit_code = EXIT_BAD_INPUT


class InvalidName(BadInput):
    """A team or agent name that is empty, too long, holds control characters or escapes the root."""


class TeamNotFound(BadInput):
    """No team of that name under the root."""


class TeamExists(BadInput):
    """A team of that name already exists."""


class TeammateNotFound(BadInput):
    """No member of that name in the team (no phantom inboxes are ever created)."""


class MemberExists(BadInput):
    """A member of that name is already in the team."""


class TaskNotFound(BadInput):
    """No task with that id in the team's task list."""


class DependencyCycle(BadInput):
    """Adding the edge would make a task (transitively) block itself."""


class MessageTooLarge(BadInput):
    """A message body over the mailbox's size limit."""


class MessageNotFound(BadInput):
    """No message with that id in any inbox or archive of the team."""


class InboxFull(CrewmuxError):
    """The recipient's unread messages reached the inbox's size limit: the send is refused."""

    exit_code = EXIT_REFUSED


class PolicyRefused(CrewmuxError):
    """The operation is not allowed to this caller right now (for example delegate mode)."""

    exit_code = EXIT_REFUSED


class ClaimRefused(CrewmuxError):
    """A claim that the task list refused, with a machine-readable reason.

    ``reason`` is one of ``already_claimed``, ``already_resolved``, ``blocked``, ``agent_busy``;
    ``blockers`` names the unfinished blocking tasks when the reason is ``blocked``;
    ``owner`` names the current owner when the reason is ``already_claimed``.
    """

    exit_code = EXIT_REFUSED

    def __init__(
        self,
        task_id: str,
        reason: str,
        *,
        owner: str | None = None,
        blockers: tuple[str, ...] = (),
        busy_with: tuple[str, ...] = (),
    ) -> None:
        self.task_id = task_id
        self.reason = reason
        self.owner = owner
        self.blockers = blockers
        self.busy_with = busy_with
        detail = {
            "already_claimed": f"already claimed by {owner}",
            "already_resolved": "already completed",
            "blocked": f"blocked by task(s) {', '.join(blockers)}",
            "agent_busy": f"agent already owns unfinished task(s) {', '.join(busy_with)}",
            "none_available": "no task is available",
        }.get(reason, reason)
        super().__init__(f"task {task_id}: {detail}" if task_id else detail)


class TeamBusy(CrewmuxError):
    """The team cannot be deleted: members' processes are still alive (use --force)."""

    exit_code = EXIT_REFUSED


class UnsafeBind(CrewmuxError):
    """Serving the console on an address other machines reach, without the flag that accepts it."""

    exit_code = EXIT_REFUSED


class Timeout(CrewmuxError):
    """Waited for something (a lock, a message) past the deadline."""

    exit_code = EXIT_TIMEOUT


class LockTimeout(Timeout):
    """A lock stayed held by someone else past the deadline."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        super().__init__(f"lock {path} still held after {seconds:.1f}s")


class StorageError(CrewmuxError):
    """Reading or writing a coordination file failed; nothing was acknowledged."""


class UnsafeRoot(CrewmuxError):
    """The crewmux root (or a folder above it) can be written by another user: refused."""

    exit_code = EXIT_REFUSED


class UnsafeFile(StorageError):
    """A symlink, FIFO, device or directory where crewmux keeps a regular file: refused, never followed."""

    exit_code = EXIT_REFUSED

    def __init__(self, path: Path, kind: str, expected: str = "a regular file") -> None:
        self.path = path
        self.kind = kind
        super().__init__(
            f"{path} is {kind}, not {expected}; crewmux will not follow or use it "
            f"(look at what put it there, then remove it: rm {path})"
        )


class CorruptFile(StorageError):
    """A file did not parse or validate; it was moved aside to ``quarantined``."""

    def __init__(self, path: Path, quarantined: Path, reason: str) -> None:
        self.path = path
        self.quarantined = quarantined
        self.reason = reason
        super().__init__(f"corrupt file {path} moved aside to {quarantined.name}: {reason}")


class BackendError(CrewmuxError):
    """A pane backend failed or cannot work here; the message names the fix."""


class BackendUnavailable(BackendError):
    """An explicitly chosen backend cannot work on this machine."""

    exit_code = EXIT_BAD_INPUT


class PaneNotFound(BackendError):
    """The pane is gone, or no longer belongs to the teammate it was recorded for."""
