"""The pane backend contract: what every backend (in-process, tmux, iTerm2) must do.

A backend puts a teammate's process in a pane and lets crewmux type into it, read its screen,
tell whether it lives, and kill it. It is a ``Protocol``: a backend class implements these
methods and sets the ability flags truthfully; callers check flags, never ``hasattr``. An ability
only some backends have is a small sub-protocol (:class:`TerminalHost`), checked with ``isinstance``.

Failures are typed (all from :mod:`app.core.errors`):

* :class:`BackendUnavailable` — this backend cannot work here (message names the fix);
* :class:`PaneNotFound` — the pane is gone, or no longer belongs to the recorded teammate;
* :class:`BackendError` — anything else the backend could not do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol, runtime_checkable

from app.core.errors import PaneNotFound

if TYPE_CHECKING:
    from app.core.models import BackendType, Member
    from backends.pty_host import PtyTerminal

Key = Literal[
    "Enter", "Escape", "C-c", "C-d", "Tab", "BTab", "BSpace", "Up", "Down", "Left", "Right",
    "S-Up", "S-Down", "S-Left", "S-Right", "C-Up", "C-Down", "C-Left", "C-Right",
    "M-Up", "M-Down", "M-Left", "M-Right", "Home", "End", "IC", "DC", "PPage", "NPage",
    "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11", "F12",
]  # fmt: skip
"""Keys by their tmux ``send-keys`` names (so the tmux backend passes them on as they are)."""
# What an xterm sends for each key: the one table, for backends that write to the pane's input
# themselves and for the console's terminal view (modifiers as xterm's ``CSI 1 ; m X``).
KEY_BYTES: dict[Key, bytes] = {
    "Enter": b"\r",
    "Escape": b"\x1b",
    "C-c": b"\x03",
    "C-d": b"\x04",
    "Tab": b"\t",
    "BTab": b"\x1b[Z",
    "BSpace": b"\x7f",
    "Up": b"\x1b[A",
    "Down": b"\x1b[B",
    "Right": b"\x1b[C",
    "Left": b"\x1b[D",
    "S-Up": b"\x1b[1;2A",
    "S-Down": b"\x1b[1;2B",
    "S-Right": b"\x1b[1;2C",
    "S-Left": b"\x1b[1;2D",
    "M-Up": b"\x1b[1;3A",
    "M-Down": b"\x1b[1;3B",
    "M-Right": b"\x1b[1;3C",
    "M-Left": b"\x1b[1;3D",
    "C-Up": b"\x1b[1;5A",
    "C-Down": b"\x1b[1;5B",
    "C-Right": b"\x1b[1;5C",
    "C-Left": b"\x1b[1;5D",
    "Home": b"\x1b[H",
    "End": b"\x1b[F",
    "IC": b"\x1b[2~",
    "DC": b"\x1b[3~",
    "PPage": b"\x1b[5~",
    "NPage": b"\x1b[6~",
    "F1": b"\x1bOP",
    "F2": b"\x1bOQ",
    "F3": b"\x1bOR",
    "F4": b"\x1bOS",
    "F5": b"\x1b[15~",
    "F6": b"\x1b[17~",
    "F7": b"\x1b[18~",
    "F8": b"\x1b[19~",
    "F9": b"\x1b[20~",
    "F10": b"\x1b[21~",
    "F11": b"\x1b[23~",
    "F12": b"\x1b[24~",
}
PASTE_START, PASTE_END = b"\x1b[200~", b"\x1b[201~"  # a bracketed paste (mode 2004)
Layout = Literal["main-vertical", "tiled", "windows"]


@dataclass(frozen=True)
class PaneSpec:
    """What to start in a new pane."""

    team: str
    name: str
    argv: list[str]
    cwd: str
    env: dict[str, str] = field(default_factory=dict)
    color: str | None = None
    title: str | None = None
    layout: Layout = "main-vertical"
    cols: int = 120
    rows: int = 36
    keep_on_exit: bool = False
    """Keep the pane and its last output when the process ends (tmux: until ``end_start_watch``), so a
    teammate that dies at start can be reported with what it printed."""


@dataclass(frozen=True)
class PaneHandle:
    """Enough to find a pane again after a restart; stored in the team file.

    ``pane_id`` is what goes into the member's ``tmuxPaneId`` (``%N`` for tmux, ``in-process``
    for in-process, the session id for iTerm2); ``locator`` is backend-specific (the tmux socket
    and session, say) and goes into ``crewmux.paneSession``.
    """

    backend: BackendType
    pane_id: str
    pid: int | None
    pid_create_time: float | None = None
    locator: str | None = None

    @classmethod
    def for_member(cls, member: Member) -> PaneHandle:
        """The handle recorded in ``member``'s team-file entry (``tmuxPaneId``, ``crewmux.pid``...).

        Raises :class:`PaneNotFound` when it has no pane recorded (no backend or no pane id).
        """
        if not member.backend_type or not member.tmux_pane_id:
            raise PaneNotFound(f"{member.name} has no pane recorded")
        rt = member.crewmux
        return cls(
            backend=member.backend_type,
            pane_id=member.tmux_pane_id,
            pid=rt.pid if rt else None,
            pid_create_time=rt.pid_create_time if rt else None,
            locator=rt.pane_session if rt else None,
        )


@dataclass(frozen=True)
class ScreenText:
    """The visible screen as text lines, plus recent scrollback above it (oldest first)."""

    lines: list[str]
    scrollback: list[str] = field(default_factory=list)
    cursor: tuple[int, int] | None = None  # (row, col) when known

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@runtime_checkable
class PaneBackend(Protocol):
    """One backend. Every method may raise the errors named in the module docstring."""

    name: ClassVar[BackendType]
    #: it can bring a pane to the front / select it in the user's terminal.
    CAN_FOCUS: ClassVar[bool]
    #: a pane outlives the crewmux process that made it (tmux, iTerm2: True; in-process: False).
    SURVIVES_CONSOLE: ClassVar[bool]
    #: it can show a border color / title per pane.
    CAN_STYLE: ClassVar[bool]

    @classmethod
    def check_available(cls) -> None:
        """Return when this backend can work here; else raise BackendUnavailable naming the fix."""
        ...

    def spawn(self, spec: PaneSpec) -> PaneHandle:
        """Start ``spec.argv`` in a new pane; returns its handle. Raises BackendError."""
        ...

    def write(self, handle: PaneHandle, text: str, *, paste: bool = True, enter: bool = True) -> None:
        """Type ``text`` (as a bracketed paste when ``paste``), then Enter as a separate key."""
        ...

    def send_key(self, handle: PaneHandle, key: Key) -> None:
        """Send one key (Escape, C-c, Enter, ...)."""
        ...

    def screen(self, handle: PaneHandle, *, scrollback: int = 0) -> ScreenText:
        """The visible screen, and up to ``scrollback`` lines above it."""
        ...

    def is_alive(self, handle: PaneHandle) -> bool:
        """True while the pane exists and its process (pid + start time) still runs."""
        ...

    def pid(self, handle: PaneHandle) -> int | None:
        """The pane's main process id, for psutil."""
        ...

    def kill(self, handle: PaneHandle, *, grace: float = 3.0) -> None:
        """SIGTERM the pane's process tree, SIGKILL after ``grace``, close the pane.

        Only panes this backend created and whose recorded process matches are touched;
        otherwise PaneNotFound.
        """
        ...

    def focus(self, handle: PaneHandle) -> None:
        """Bring the pane to the front (only when CAN_FOCUS)."""
        ...

    def set_title(self, handle: PaneHandle, title: str, color: str | None = None) -> None:
        """Set the pane's title and border color (a no-op when not CAN_STYLE)."""
        ...

    def list_panes(self, team: str) -> list[PaneHandle]:
        """The live panes this backend made for ``team``."""
        ...

    def end_start_watch(self, handle: PaneHandle, *, died: bool) -> None:
        """After a spawn with ``keep_on_exit``: close the pane of a teammate that died, else let it
        close by itself again when its process ends (a no-op where panes are never kept)."""
        ...

    def attach_command(self, team: str) -> str | None:
        """The shell command that shows ``team``'s panes to the user (``tmux -L ... attach``), or
        None when there is nothing to attach to (in-process, iTerm2, or already inside tmux)."""
        ...


@runtime_checkable
class FitsView(Protocol):
    """An optional ability: the backend can make a pane the size of the console's view (tmux)."""

    def fit(self, handle: PaneHandle, cols: int, rows: int) -> bool:
        """Make the pane ``cols`` x ``rows`` as far as the backend allows; returns whether it did."""
        ...


@runtime_checkable
class TerminalHost(Protocol):
    """An optional ability: the backend hosts its panes' terminals in this process (in-process),
    so the console can draw them and follow their output itself."""

    def terminal(self, handle: PaneHandle) -> PtyTerminal:
        """The live terminal of ``handle``; PaneNotFound."""
        ...

    def resize_all(self, cols: int, rows: int) -> None:
        """Resize every live terminal (screen and pty: the child gets SIGWINCH) to ``cols`` x ``rows``."""
        ...
