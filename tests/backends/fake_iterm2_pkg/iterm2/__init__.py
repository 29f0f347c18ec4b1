"""A fake of the parts of iTerm2's Python API (``iterm2`` package) that crewmux uses.

It follows the documented signatures (Connection.async_create, async_get_app, App.get_session_by_id,
App.terminal_windows, Window.async_create, Tab.sessions, Session.async_split_pane /
async_send_text / async_get_screen_contents / async_get_variable / async_set_variable /
async_set_name / async_activate / async_close / async_set_profile_properties,
LocalWriteOnlyProfile, Color). Each session runs its profile's custom command on a real pty, so
text typed into it and its screen are real; a session whose process exits closes, as iTerm2 does
by default.
"""

from __future__ import annotations

import itertools
import shlex
import uuid
from dataclasses import dataclass, field
from typing import Any

from backends.pty_host import PtyTerminal

_COUNTER = itertools.count()
CALLS: list[tuple[str, Any]] = []


@dataclass
class Color:
    red: int
    green: int
    blue: int


class LocalWriteOnlyProfile:
    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def set_use_custom_command(self, value: str) -> None:
        self.values["Custom Command"] = value

    def set_command(self, value: str) -> None:
        self.values["Command"] = value

    def set_tab_color(self, value: Color) -> None:
        self.values["Tab Color"] = value

    def set_use_tab_color(self, value: bool) -> None:
        self.values["Use Tab Color"] = value


@dataclass
class _Line:
    string: str


@dataclass
class _Coord:
    x: int
    y: int


class ScreenContents:
    def __init__(self, lines: list[str], cursor: tuple[int, int]) -> None:
        self._lines = lines
        self.cursor_coord = _Coord(x=cursor[1], y=cursor[0])

    @property
    def number_of_lines(self) -> int:
        return len(self._lines)

    def line(self, index: int) -> _Line:
        return _Line(self._lines[index])


class Session:
    def __init__(self, tab: Tab | None, profile: LocalWriteOnlyProfile | None) -> None:
        self.session_id = str(uuid.uuid4()).upper()
        self.tab = tab
        self.name = ""
        self.variables: dict[str, Any] = {}
        self.profile = profile
        self.term: PtyTerminal | None = None
        if profile is not None and profile.values.get("Custom Command") == "Yes":
            self.term = PtyTerminal(shlex.split(profile.values["Command"]), cwd="/", env={}, cols=80, rows=24)
            self.variables["pid"] = self.term.pid

    @property
    def closed(self) -> bool:
        return self.term is not None and not self.term.alive

    async def async_split_pane(
        self, vertical: bool = False, before: bool = False, profile: str | None = None,
        profile_customizations: LocalWriteOnlyProfile | None = None,
    ) -> Session:  # fmt: skip
        CALLS.append(("split", {"of": self.session_id, "vertical": vertical}))
        new = Session(self.tab, profile_customizations)
        assert self.tab is not None
        self.tab.sessions.append(new)
        return new

    async def async_send_text(self, text: str, suppress_broadcast: bool = False) -> None:
        if self.term is not None:
            self.term.write(text.encode())

    async def async_get_screen_contents(self) -> ScreenContents:
        assert self.term is not None
        with self.term.lock:
            screen = self.term.screen
            return ScreenContents(list(screen.display), (screen.cursor.y, screen.cursor.x))

    async def async_get_variable(self, name: str) -> Any:
        return self.variables.get(name)

    async def async_set_variable(self, name: str, value: Any) -> None:
        if not name.startswith("user."):
            raise ValueError("only user variables can be set")
        self.variables[name] = value

    async def async_set_name(self, name: str) -> None:
        self.name = name

    async def async_activate(self, select_tab: bool = True, order_window_front: bool = True) -> None:
        CALLS.append(("activate", self.session_id))

    async def async_set_profile_properties(self, write_only_profile: LocalWriteOnlyProfile) -> None:
        CALLS.append(("profile", write_only_profile.values))

    async def async_close(self, force: bool = False) -> None:
        if self.term is not None and self.term.alive:
            self.term.proc.kill()
            self.term.proc.wait()
        if self.tab is not None and self in self.tab.sessions:
            self.tab.sessions.remove(self)


@dataclass
class Tab:
    sessions: list[Session] = field(default_factory=list)

    @property
    def current_session(self) -> Session:
        return self.sessions[-1]


@dataclass
class Window:
    tabs: list[Tab] = field(default_factory=list)

    @property
    def current_tab(self) -> Tab:
        return self.tabs[0]

    @staticmethod
    async def async_create(
        connection: Connection, profile: str | None = None, command: str | None = None,
        profile_customizations: LocalWriteOnlyProfile | None = None,
    ) -> Window:  # fmt: skip
        tab = Tab()
        tab.sessions.append(Session(tab, profile_customizations))
        window = Window(tabs=[tab])
        connection.app.windows.append(window)
        return window


class App:
    def __init__(self) -> None:
        lead_tab = Tab()
        lead = Session(lead_tab, None)
        lead.session_id = "LEAD-SESSION"
        lead_tab.sessions.append(lead)
        self.windows: list[Window] = [Window(tabs=[lead_tab])]

    def _prune(self) -> None:
        for window in self.windows:
            for tab in window.tabs:
                tab.sessions[:] = [s for s in tab.sessions if not s.closed]

    @property
    def terminal_windows(self) -> list[Window]:
        self._prune()
        return self.windows

    def get_session_by_id(self, session_id: str) -> Session | None:
        self._prune()
        for window in self.windows:
            for tab in window.tabs:
                for session in tab.sessions:
                    if session.session_id == session_id:
                        return session
        return None


_APP: list[App] = []  # one iTerm2 app per process, as for real: every connection sees the same windows


class Connection:
    def __init__(self) -> None:
        if not _APP:
            _APP.append(App())
        self.app = _APP[0]

    @classmethod
    async def async_create(cls) -> Connection:
        return cls()


async def async_get_app(connection: Connection) -> App:
    return connection.app
