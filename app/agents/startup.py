"""Notice a teammate that dies in its first seconds, and fail its spawn with what it printed.

A CLI given a flag it rejects (codex 0.169 and ``--ask-for-approval untrusted``, say) exits at
once; without this check ``spawn`` reported success and the error went away with the pane.
:func:`confirm_started` watches the new pane until its agent draws its UI (any state its screen
rules recognise: it is up; gemini may take 8 s on a busy machine to get there, or to reject a
flag), or ``within`` seconds pass with its process alive. If the process ends first it raises
:class:`AgentDiedAtStart` holding the pane's last output. The tmux backend keeps a dead pane
during the watch (``PaneSpec.keep_on_exit``) so even an instant exit leaves its text to read.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

from app.agents.agent_state import screen_state
from app.core.errors import CrewmuxError

if TYPE_CHECKING:
    from app.agents.adapters import AgentRules
    from backends.base import PaneBackend, PaneHandle

WATCH_SECONDS = 20.0
_COMPLAINT = re.compile(r"(?i)error|invalid|unknown|unexpected|not allowed|usage:")
POLL = 0.05


class AgentDiedAtStart(CrewmuxError):
    """The teammate's process ended within its first seconds; the message holds its last output."""

    def __init__(self, message: str, output: str) -> None:
        super().__init__(message)
        self.output = output


def _text(backend: PaneBackend, handle: PaneHandle) -> str | None:
    try:
        shot = backend.screen(handle, scrollback=200)
    except CrewmuxError:
        return None
    lines = [ln.rstrip() for ln in [*shot.scrollback, *shot.lines]]
    lines = [ln for ln in lines if ln and not ln.startswith("Pane is dead")]
    tail = lines[-30:]
    # a usage dump can push the complaint up: keep earlier lines that read like one
    said = [ln for i, hit in enumerate(lines[:-30]) if _COMPLAINT.search(hit) for ln in lines[i : i + 3]][-12:]
    return "\n".join([*said, *(["..."] if said else []), *tail])


def _alive(handle: PaneHandle) -> bool:
    from app.core.liveness import is_alive

    return handle.pid is not None and is_alive(handle.pid, handle.pid_create_time)


def confirm_started(
    backend: PaneBackend, handle: PaneHandle, rules: AgentRules | None, *, within: float = WATCH_SECONDS
) -> float:
    """Seconds until the agent showed it waits for input (or ``within``). Raises AgentDiedAtStart."""
    start = time.monotonic()
    last = ""
    died = False
    try:
        while True:
            seen = _text(backend, handle)
            last = seen or last
            if not _alive(handle):
                died = True
                seen = _text(backend, handle)  # the kept pane holds its final words
                last = seen or last
                took = time.monotonic() - start
                kind = rules.kind if rules else "the command"
                raise AgentDiedAtStart(
                    f"{kind} exited within {took:.1f}s of starting; its last output:\n{last or '(nothing)'}", last
                )
            if rules is not None:
                try:
                    if screen_state(backend.screen(handle), rules) != "unknown":  # it drew its UI: it is up
                        return time.monotonic() - start
                except CrewmuxError:
                    pass
            if time.monotonic() - start >= within:
                return within
            time.sleep(POLL)
    finally:
        backend.end_start_watch(handle, died=died)
