"""What the terminal view (:class:`app.console.widgets.terminal.TerminalView`) draws from: an
in-process teammate's pty (:class:`backends.pty_host.PtyTerminal`) or a followed tmux pane
(:mod:`backends.tmux_view`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager


class LiveScreen(Protocol):
    """A teammate's emulated screen the view draws: an in-process pty's or a followed tmux pane's."""

    @property
    def screen(self) -> Any: ...
    @property
    def lock(self) -> AbstractContextManager[bool]: ...
    @property
    def version(self) -> int: ...
    @property
    def alive(self) -> bool: ...
    def add_listener(self, callback: Callable[[], None]) -> None: ...
    def remove_listener(self, callback: Callable[[], None]) -> None: ...
    def write(self, data: bytes) -> None: ...
    def resize(self, cols: int, rows: int) -> None: ...
