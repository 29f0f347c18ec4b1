"""Teammates in iTerm2 split panes, through iTerm2's Python API (the ``iterm2`` package).

Why the API and not the ``it2`` CLI: the API is iTerm2's own, documented and versioned; ``it2`` is
a third-party wrapper around it, and one process per call would cost what the tmux backend avoids.
One connection lives on a private asyncio loop in a background thread; each method submits a
coroutine to it and waits.

Where panes go: the first teammate splits the lead's session (``$ITERM_SESSION_ID``) vertically,
the next ones split the previous teammate's pane; ``layout="windows"`` opens a window per
teammate. Each session is tagged with the user variables ``user.crewmuxTeam`` and
``user.crewmuxName``; a kill checks the tag plus the recorded pid and its start time.

Needs: macOS, iTerm2 with *Preferences > General > Magic > Enable Python API* on, and
``pip install 'crewmux[iterm2]'``. Only tested here against a fake that follows the API.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import threading
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from app.core.errors import BackendError, BackendUnavailable, PaneNotFound
from app.core.liveness import create_time, is_alive
from app.core.paths import sanitize
from app.core.proctree import kill_tree
from app.core.sanitize import paste_safe
from backends.base import KEY_BYTES, Key, PaneHandle, PaneSpec, ScreenText

if TYPE_CHECKING:
    from collections.abc import Coroutine, Mapping

    from app.core.models import BackendType

API_FIX = (
    "enable iTerm2's Python API (iTerm2 > Settings > General > Magic > Enable Python API) "
    "and install it: pip install 'crewmux[iterm2]'"
)
_RGB = {"blue": (59, 130, 246), "green": (34, 197, 94), "yellow": (234, 179, 8), "purple": (168, 85, 247),
        "orange": (249, 115, 22), "pink": (236, 72, 153), "cyan": (6, 182, 212), "red": (239, 68, 68)}  # fmt: skip


def api_socket(env: Mapping[str, str] | None = None) -> Path:
    """Where iTerm2 listens for its Python API (``$CREWMUX_ITERM2_SOCKET`` overrides)."""
    override = (os.environ if env is None else env).get("CREWMUX_ITERM2_SOCKET") or os.environ.get(
        "CREWMUX_ITERM2_SOCKET"
    )
    if override:
        return Path(override)
    return Path.home() / "Library" / "Application Support" / "iTerm2" / "private" / "socket"


def api_reachable(env: Mapping[str, str] | None = None) -> bool:
    """True when the ``iterm2`` package imports and iTerm2's API socket exists."""
    return find_spec("iterm2") is not None and api_socket(env).exists()


class ITermBackend:
    """The iTerm2 backend: one API connection, serving calls from any thread."""

    name: ClassVar[BackendType] = "iterm2"
    CAN_FOCUS: ClassVar[bool] = True
    SURVIVES_CONSOLE: ClassVar[bool] = True
    CAN_STYLE: ClassVar[bool] = True

    def __init__(self) -> None:
        """Connect to iTerm2. Raises BackendUnavailable (naming the fix) when it cannot."""
        self.check_available()
        import iterm2

        self._api: Any = iterm2
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="iterm2-api", daemon=True)
        self._thread.start()
        self._guard = threading.Lock()
        try:
            self._conn: Any = self._call(iterm2.Connection.async_create())
        except Exception as exc:
            raise BackendUnavailable(f"cannot connect to iTerm2's API ({exc}); {API_FIX}") from exc
        lead = os.environ.get("ITERM_SESSION_ID", "")
        self.lead_session = lead.split(":", 1)[1] if ":" in lead else lead or None

    @classmethod
    def check_available(cls) -> None:
        """Raises BackendUnavailable unless the iterm2 package and iTerm2's API socket are there."""
        if not api_reachable():
            raise BackendUnavailable(f"iTerm2's Python API is not reachable; {API_FIX}")

    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    async def _app(self) -> Any:
        return await self._api.async_get_app(self._conn)

    async def _session(self, session_id: str) -> Any:
        found = (await self._app()).get_session_by_id(session_id)
        if found is None:
            raise PaneNotFound(f"iTerm2 session {session_id} is gone")
        return found

    async def _team_sessions(self, team: str) -> list[Any]:
        mine = []
        for window in (await self._app()).terminal_windows:
            for tab in window.tabs:
                for session in tab.sessions:
                    if await session.async_get_variable("user.crewmuxTeam") == sanitize(team):
                        mine.append(session)
        return mine

    # -- spawning ------------------------------------------------------------------------
    def _profile(self, spec: PaneSpec) -> Any:
        env = " ".join(shlex.quote(f"{k}={v}") for k, v in spec.env.items())
        command = f"cd {shlex.quote(spec.cwd)} && exec env {env} {shlex.join(spec.argv)}"
        profile = self._api.LocalWriteOnlyProfile()
        profile.set_use_custom_command("Yes")
        profile.set_command(f"/bin/sh -c {shlex.quote(command)}")
        if spec.color:
            profile.set_tab_color(self._api.Color(*_RGB.get(spec.color, (128, 128, 128))))
            profile.set_use_tab_color(True)
        return profile

    async def _spawn(self, spec: PaneSpec) -> PaneHandle:
        profile = self._profile(spec)
        mine = await self._team_sessions(spec.team)
        if spec.layout == "windows" or (not mine and not self.lead_session):
            window = await self._api.Window.async_create(self._conn, profile_customizations=profile)
            session = window.current_tab.current_session
        else:
            target = mine[-1] if mine else await self._session(self.lead_session or "")
            session = await target.async_split_pane(vertical=not mine, profile_customizations=profile)
        await session.async_set_variable("user.crewmuxTeam", sanitize(spec.team))
        await session.async_set_variable("user.crewmuxName", spec.name)
        await session.async_set_name(spec.title or spec.name)
        pid = int(await session.async_get_variable("pid"))
        return PaneHandle("iterm2", session.session_id, pid, create_time(pid), None)

    def spawn(self, spec: PaneSpec) -> PaneHandle:
        """Start ``spec.argv`` in a new split (or window); returns its handle. Raises BackendError."""
        if not spec.argv:
            raise BackendError("nothing to run: the command is empty")
        with self._guard:  # one layout change at a time from this process
            return self._call(self._spawn(spec))  # type: ignore[no-any-return]

    # -- using a pane --------------------------------------------------------------------
    def write(self, handle: PaneHandle, text: str, *, paste: bool = True, enter: bool = True) -> None:
        """Type ``text`` then Enter as a separate send (the API has no bracketed-paste call).

        With ``paste``, escape sequences and control characters are removed and line breaks
        become spaces: without a bracketed paste each of them would act as a key.
        """
        if paste:
            text = paste_safe(text).replace("\n", " ")

        async def go() -> None:
            session = await self._session(handle.pane_id)
            if text:
                await session.async_send_text(text)
            if enter:
                await session.async_send_text("\r")

        self._call(go())

    def send_key(self, handle: PaneHandle, key: Key) -> None:
        """Send one key as its terminal bytes."""

        async def go() -> None:
            await (await self._session(handle.pane_id)).async_send_text(KEY_BYTES[key].decode())

        self._call(go())

    def screen(self, handle: PaneHandle, *, scrollback: int = 0) -> ScreenText:
        """The visible screen (scrollback is not read through the API here: always empty)."""

        async def go() -> ScreenText:
            contents = await (await self._session(handle.pane_id)).async_get_screen_contents()
            lines = [contents.line(i).string.rstrip() for i in range(contents.number_of_lines)]
            cursor = contents.cursor_coord
            return ScreenText(lines=lines, cursor=(cursor.y, cursor.x))

        return self._call(go())  # type: ignore[no-any-return]

    async def _owner(self, handle: PaneHandle) -> tuple[Any, int]:
        session = await self._session(handle.pane_id)
        if not await session.async_get_variable("user.crewmuxTeam"):
            raise PaneNotFound(f"iTerm2 session {handle.pane_id} was not made by crewmux; left alone")
        pid = int(await session.async_get_variable("pid"))
        if (handle.pid is not None and pid != handle.pid) or not is_alive(pid, handle.pid_create_time):
            raise PaneNotFound(f"iTerm2 session {handle.pane_id}'s process is not the recorded one; left alone")
        return session, pid

    def is_alive(self, handle: PaneHandle) -> bool:
        """True while the session exists and its process (pid + start time) still runs."""
        try:
            self._call(self._owner(handle))
        except PaneNotFound:
            return False
        return True

    def pid(self, handle: PaneHandle) -> int | None:
        """The session's process id, or None when the session is gone."""

        async def go() -> int | None:
            try:
                return int(await (await self._session(handle.pane_id)).async_get_variable("pid"))
            except PaneNotFound:
                return None

        return self._call(go())  # type: ignore[no-any-return]

    def kill(self, handle: PaneHandle, *, grace: float = 3.0) -> None:
        """SIGTERM the tree, SIGKILL after ``grace``, close the session; PaneNotFound if not ours."""
        session, pid = self._call(self._owner(handle))
        kill_tree(pid, handle.pid_create_time, grace=grace)

        async def close() -> None:
            if (await self._app()).get_session_by_id(handle.pane_id) is not None:
                await session.async_close(force=True)

        self._call(close())

    def focus(self, handle: PaneHandle) -> None:
        """Bring the session's window and tab to the front and select it."""

        async def go() -> None:
            await (await self._session(handle.pane_id)).async_activate(select_tab=True, order_window_front=True)

        self._call(go())

    def set_title(self, handle: PaneHandle, title: str, color: str | None = None) -> None:
        """Set the session name and its tab color."""

        async def go() -> None:
            session = await self._session(handle.pane_id)
            await session.async_set_name(title)
            if color:
                profile = self._api.LocalWriteOnlyProfile()
                profile.set_tab_color(self._api.Color(*_RGB.get(color, (128, 128, 128))))
                profile.set_use_tab_color(True)
                await session.async_set_profile_properties(profile)

        self._call(go())

    def end_start_watch(self, handle: PaneHandle, *, died: bool) -> None:
        """A no-op: this backend never keeps a dead pane (``keep_on_exit`` is not needed here)."""

    def attach_command(self, team: str) -> str | None:
        """None: there is no terminal outside to attach to."""
        return None

    def list_panes(self, team: str) -> list[PaneHandle]:
        """The sessions crewmux made for ``team``."""

        async def go() -> list[PaneHandle]:
            handles = []
            for session in await self._team_sessions(team):
                pid = int(await session.async_get_variable("pid"))
                handles.append(PaneHandle("iterm2", session.session_id, pid, create_time(pid), None))
            return handles

        return self._call(go())  # type: ignore[no-any-return]
