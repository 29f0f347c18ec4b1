"""Teammates hosted inside this process (the console) on pseudo-terminals.

Each teammate is a :class:`backends.pty_host.PtyTerminal`: a real pty drained by a reader thread,
an emulated screen (Ghostty's, else pyte's). The console draws ``terminal(handle).screen`` under
its ``lock``. The panes die with the process that hosts them (``SURVIVES_CONSOLE = False``), so
a shell's ``crewmux spawn --backend in-process``
goes through :mod:`backends.console_link` to the running console instead.

In the team file the pane id is ``in-process`` (as Claude Code writes it); the handle's
``locator`` (``inproc:<pid>``) tells this host's terminals apart.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, ClassVar

from app.core.errors import BackendError, PaneNotFound
from app.core.liveness import create_time
from app.core.paths import sanitize
from app.core.proctree import kill_tree
from app.core.sanitize import paste_safe
from backends.base import KEY_BYTES, PASTE_END, PASTE_START, Key, PaneHandle, PaneSpec, ScreenText
from backends.pty_host import PtyTerminal

if TYPE_CHECKING:
    from app.core.models import BackendType


class InProcessBackend:
    """Hosts teammates on ptys in this process. Thread-safe."""

    name: ClassVar[BackendType] = "in-process"
    CAN_FOCUS: ClassVar[bool] = False
    SURVIVES_CONSOLE: ClassVar[bool] = False
    CAN_STYLE: ClassVar[bool] = False

    def __init__(self) -> None:
        self._terms: dict[str, tuple[str, str, PtyTerminal]] = {}  # locator -> (team, name, terminal)
        self._guard = threading.Lock()
        self._view: tuple[int, int] | None = None  # the console's view (cols, rows), once it told us

    @classmethod
    def check_available(cls) -> None:
        """Always available (needs only a pty, which every Unix has)."""

    def spawn(self, spec: PaneSpec) -> PaneHandle:
        """Start ``spec.argv`` on a new pty; returns its handle. Raises BackendError."""
        if not spec.argv:
            raise BackendError("nothing to run: the command is empty")
        cols, rows = self._view or (spec.cols, spec.rows)  # new or restarted: the view's size from the start
        try:
            term = PtyTerminal(spec.argv, cwd=spec.cwd, env=spec.env, cols=cols, rows=rows)
        except OSError as exc:
            raise BackendError(f"cannot start {spec.argv[0]!r}: {exc}") from exc
        locator = f"inproc:{term.pid}"
        with self._guard:
            self._terms[locator] = (sanitize(spec.team), spec.name, term)
        return PaneHandle("in-process", "in-process", term.pid, create_time(term.pid), locator)

    def terminal(self, handle: PaneHandle) -> PtyTerminal:
        """The pty terminal behind ``handle`` (``.screen``, ``.lock``, ``.version``, ...)."""
        with self._guard:
            entry = self._terms.get(handle.locator or "")
        if entry is None:
            raise PaneNotFound(f"no in-process pane {handle.locator!r} in this console")
        return entry[2]

    def resize_all(self, cols: int, rows: int) -> None:
        """Resize every live terminal here to ``cols`` x ``rows`` (the console's view size); the
        teammates started here from now on (spawned, resumed, restarted) start at that size."""
        with self._guard:
            self._view = (cols, rows)
            terms = [entry[2] for entry in self._terms.values()]
        for term in terms:
            if term.alive and (term.screen.columns, term.screen.lines) != (cols, rows):
                term.resize(cols, rows)

    def write(self, handle: PaneHandle, text: str, *, paste: bool = True, enter: bool = True) -> None:
        """Type ``text`` (bracketed when ``paste`` and the program asked for it), then Enter.

        A paste holds no escape sequence and no control character but newline and tab
        (:func:`app.core.sanitize.paste_safe`); when the program did not ask for bracketed
        paste, its line breaks become spaces, as each would otherwise act as Enter.
        """
        term = self.terminal(handle)
        data = text.encode()
        if paste and data:
            with term.lock:
                bracketed = term.screen.has_mode(2004)
            safe = paste_safe(text)
            data = PASTE_START + safe.encode() + PASTE_END if bracketed else safe.replace("\n", " ").encode()
        if data:
            term.write(data)
        if enter:
            term.write(KEY_BYTES["Enter"])

    def send_key(self, handle: PaneHandle, key: Key) -> None:
        """Send one key (Escape, C-c, Enter, ...)."""
        self.terminal(handle).write(KEY_BYTES[key])

    def screen(self, handle: PaneHandle, *, scrollback: int = 0) -> ScreenText:
        """The visible screen, and up to ``scrollback`` lines above it."""
        term = self.terminal(handle)
        with term.lock:
            lines = term.screen.text_lines()
            above = term.screen.scrollback_lines(scrollback)
            cursor = (term.screen.cursor.y, term.screen.cursor.x)
        return ScreenText(lines=lines, scrollback=above, cursor=cursor)

    def is_alive(self, handle: PaneHandle) -> bool:
        """True while the pane's process runs."""
        try:
            return self.terminal(handle).alive
        except PaneNotFound:
            return False

    def pid(self, handle: PaneHandle) -> int | None:
        """The pane's main process id."""
        return self.terminal(handle).pid

    def kill(self, handle: PaneHandle, *, grace: float = 3.0) -> None:
        """SIGTERM the process tree, SIGKILL after ``grace``, forget the pane. PaneNotFound if unknown."""
        term = self.terminal(handle)
        if term.alive:
            kill_tree(term.pid, handle.pid_create_time, grace=grace)
        term.proc.wait(timeout=max(grace, 5.0))
        term.join(timeout=5.0)
        with self._guard:
            self._terms.pop(handle.locator or "", None)

    def focus(self, handle: PaneHandle) -> None:
        """Not supported (CAN_FOCUS is False): the console selects the pane itself."""
        self.terminal(handle)

    def set_title(self, handle: PaneHandle, title: str, color: str | None = None) -> None:
        """A no-op (CAN_STYLE is False): the console draws titles and colors."""
        self.terminal(handle)

    def end_start_watch(self, handle: PaneHandle, *, died: bool) -> None:
        """A no-op: this backend never keeps a dead pane (``keep_on_exit`` is not needed here)."""

    def attach_command(self, team: str) -> str | None:
        """None: there is no terminal outside to attach to."""
        return None

    def list_panes(self, team: str) -> list[PaneHandle]:
        """The panes this console hosts for ``team`` whose process still runs."""
        key = sanitize(team)
        with self._guard:
            entries = [(loc, t) for loc, (tm, _n, t) in self._terms.items() if tm == key and t.alive]
        return [PaneHandle("in-process", "in-process", t.pid, create_time(t.pid), loc) for loc, t in entries]
