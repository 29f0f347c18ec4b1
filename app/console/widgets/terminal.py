"""The selected teammate's live screen, drawn row by row with the Line API.

Two sources feed it: a :class:`LiveScreen` — an in-process teammate's emulated screen (Ghostty's
rows as SGR text, or pyte's cells), or a tmux teammate's, fed by the team's control-mode client
(:mod:`backends.tmux_view`) — read under its lock, redrawn only when its ``version`` moved, at most
``fps`` times a second (:data:`FRAME_RATE`; :data:`WATCH_FRAME_RATE` while the view lacks focus,
:data:`PANE_WATCH_FRAME_RATE` for a copy of a tmux pane;
faster output waits for the next frame): woken by the screen's feeder as soon as output arrives
(once per frame), a focus change at once, with a timer as the fallback for resizes; a Ghostty row that
only moved up in a scroll keeps its parsed segments and strip. Or the text of an iTerm2 pane
mirrored by a worker. A screen taller than the view (a tmux pane its layout
keeps larger) shows its bottom rows: the newest output and the input line. When the view has
focus, every key goes to the teammate (Esc too: agents' interrupt) in the modes the program set
(application cursor keys, bracketed paste), and mouse events are reported when it asked for them
(see :mod:`app.console.widgets.term_input`); ctrl+] (:data:`LEAVE_KEY`) leaves.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from app.console.widgets.drawn_lines import DrawnLines
from app.console.widgets.screen_rows import pyte_row, vt_row
from app.console.widgets.term_input import DECCKM, FOCUS_EVENTS, MouseAction, key_bytes, mouse_bytes, paste_bytes

if TYPE_CHECKING:
    from textual import events
    from textual.timer import Timer

    from app.console.widgets.live_screen import LiveScreen


LEAVE_KEY = "ctrl+right_square_bracket"
"""The one key the view keeps (ctrl+]: telnet's escape, which no agent or editor uses; it reaches
Textual inside tmux as the plain byte 0x1d). Every other key goes to the program."""

FRAME_RATE = 20.0
"""Frames a second at most while a teammate prints: output arriving faster is drawn together in
the next frame. A scrolling screen changes every row, and a frame of it costs the compositor the
same whatever the number of lines it brought, so the frame rate bounds the console's drawing."""

WATCH_FRAME_RATE = 12.0
"""Frames a second at most while the view is only watched (it does not have focus: nothing typed
into it waits for its echo): a stream is drawn at most ~1/12 s late (printed -> drawn p99 86 ms
with 8 busy in-process teammates, 15.6 % of a core; 252 ms and 12.0 % at 4 frames). Output after a
quiet spell is drawn at once."""

PANE_WATCH_FRAME_RATE = 4.0
"""The same for a tmux teammate's screen (a copy of a pane that tmux itself shows live): following
8 busy tmux panes cost 7.9-8.7 % of a core at 12 frames, over its 5 % goal, and 4.3-4.9 % at 4.
Also the rate of the view's fallback timer (resizes)."""


class TerminalView(Widget, can_focus=True):
    """A teammate's screen. Set ``terminal`` (in-process) or call ``show_lines`` (mirror)."""

    DEFAULT_CSS = """
    TerminalView { background: $surface; color: $foreground; height: 1fr; border: round $panel; }
    TerminalView:focus { border: round $accent; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(LEAVE_KEY, "leave", "Leave terminal", key_display="ctrl+]", show=True, priority=True)
    ]

    PROGRAM_KEYS_ACTIONS: ClassVar[frozenset[str]] = frozenset(
        {"focus_next_now", "toggle_delegate", "select", "toggle_tasks", "quit", "command_palette"}
    )
    """Actions of priority keys (the screen's and the app's) that yield to the program while this view has focus."""

    class Typed(Message):
        """Keys typed into the view, for the teammate (the screen writes them through its backend)."""

        def __init__(self, data: bytes) -> None:
            self.data = data
            super().__init__()

    class Resized(Message):
        """The view's size changed: every teammate's terminal should take it (cols, rows)."""

        def __init__(self, cols: int, rows: int) -> None:
            self.cols = cols
            self.rows = rows
            super().__init__()

    class Left(Message):
        """The leave key (ctrl+]) pressed: the view gives focus back."""

    def __init__(
        self,
        *,
        fps: float = FRAME_RATE,
        watch_fps: float = WATCH_FRAME_RATE,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(id=id)
        self.terminal: LiveScreen | None = None
        self._drawn_version = -1
        self._rows: list[list[Segment]] = []
        self._strips: dict[int, Strip] = {}  # row -> its strip at the current width, built on first draw
        self._by_text: dict[tuple[Any, int], tuple[list[Segment], Strip | None]] = {}  # Ghostty row -> drawn
        self._vt_columns = 0  # the screen width the rows in _by_text were drawn at
        self._memo: weakref.WeakKeyDictionary[Any, tuple[int, dict[Any, Any]]] = weakref.WeakKeyDictionary()
        self.rows_parsed = 0
        """Rows turned into segments so far (a scroll re-parses only the rows it brought in)."""
        self.frames = 0
        """Draws of a followed screen so far (at most ``fps`` a second, however fast it prints)."""
        self._frame: asyncio.TimerHandle | None = None
        self._changes = 0  # bumped when what is shown changes (rows, cursor, source)
        self._geometry_key: tuple[object, int] | None = None
        self._geometry_now = (0, 0)
        self._fps = fps
        self._watch_fps = self._default_watch_fps = min(fps, watch_fps)
        self._timer: Timer | None = None
        self._cursor: tuple[int, int] | None = None
        self._cursor_row = 0
        self._shown_top = 0
        self._vt: list[Any] = []  # the rows as last drawn, for a Ghostty screen
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_pending = False
        self._last_poll = 0.0
        self.placeholder = "no teammate selected"
        self.drawn = DrawnLines()
        """The rows as Textual decorated them (border, background), kept while they scroll."""

    def on_mount(self) -> None:
        self._loop = asyncio.get_running_loop()
        # output wakes the view itself: the timer is a fallback (resizes), at the slowest rate
        self._timer = self.set_interval(1 / min(self._watch_fps, PANE_WATCH_FRAME_RATE), self._paced_poll, pause=True)

    def on_unmount(self) -> None:
        self._follow(None)
        self._loop = None  # a wake already scheduled finds the view gone and does nothing
        if self._frame is not None:
            self._frame.cancel()
            self._frame = None

    def _follow(self, terminal: LiveScreen | None) -> None:
        old = self.terminal
        if old is not None:  # its rows as drawn are kept: shown again, the rows it still has are not parsed again
            old.remove_listener(self._on_output)
            self._memo[old] = (self._vt_columns, self._by_text)
        self._vt_columns, self._by_text = self._memo.pop(terminal, (0, {})) if terminal is not None else (0, {})
        self.terminal = terminal
        self._changes += 1
        if terminal is not None:
            terminal.add_listener(self._on_output)

    def _on_output(self) -> None:
        """The terminal's reader fed output (reader thread): wake the UI once, coalesced."""
        loop = self._loop
        if self._wake_pending or self._frame is not None or loop is None:  # a frame is due: it draws this too
            return
        self._wake_pending = True
        try:
            loop.call_soon_threadsafe(self._woken)
        except RuntimeError:  # the loop has closed: the console is gone
            self._wake_pending = False

    def _woken(self) -> None:
        self._wake_pending = False
        if self._loop is not None:
            self._paced_poll()

    def _paced_poll(self) -> None:
        """Draw now, or when a frame has passed since the last draw (one draw is kept pending)."""
        wait = self._last_poll + 1 / (self._fps if self.has_focus else self._watch_fps) - time.monotonic()
        if wait <= 0:
            self._poll()
        elif self._frame is None and self._loop is not None:
            self._frame = self._loop.call_later(wait, self._frame_due)

    def _frame_due(self) -> None:
        self._frame = None
        if self._loop is not None:
            self._poll()

    def attach(self, terminal: LiveScreen, *, watch_fps: float | None = None) -> None:
        """Follow a teammate's screen (in-process, or a followed tmux pane), resized to the view;
        drawn at most ``watch_fps`` frames a second while watched (default: the view's own)."""
        self._watch_fps = min(self._fps, self._default_watch_fps if watch_fps is None else watch_fps)
        self._follow(terminal)
        self._fit_terminal()
        self._drawn_version = -1
        if self._timer is not None:
            self._timer.resume()
        self._poll()

    def show_lines(self, lines: list[str]) -> None:
        """Show plain text lines (a mirrored pane, or a message); stops following a terminal."""
        self._follow(None)
        if self._timer is not None:
            self._timer.pause()
        self._rows = [[Segment(line)] for line in lines]
        self._strips.clear()
        self._changes += 1
        self.refresh()

    def show_screen(self, lines: list[str]) -> None:
        """Show a mirrored pane's rows: when it is taller than the view, its bottom (the newest
        output and the input line, the rows a person watches); its blank tail is not counted."""
        end = len(lines)
        while end > 0 and not lines[end - 1].strip():
            end -= 1
        height = self.size.height
        start = max(0, end - height) if height > 0 else 0
        self.show_lines(lines[start : max(end, min(len(lines), start + height))])

    def _fit_terminal(self) -> None:
        term = self.terminal
        cols, rows = self.size.width, self.size.height
        if term is not None and cols > 0 and rows > 0 and (term.screen.columns, term.screen.lines) != (cols, rows):
            term.resize(cols, rows)
            self._drawn_version = -1

    def _poll(self) -> None:
        term = self.terminal
        if term is None:
            return
        version = term.version
        if version == self._drawn_version:
            return
        self._last_poll = time.monotonic()
        self.frames += 1
        with term.lock:
            screen = term.screen
            cursor = None if screen.cursor.hidden or not self.has_focus else (screen.cursor.y, screen.cursor.x)
            full = self._drawn_version < 0 or len(self._rows) != screen.lines
            dirty = set(range(screen.lines)) if full else set(screen.dirty)
            screen.dirty.clear()
            vt = screen.vt_rows() if hasattr(screen, "vt_rows") else None
            if vt is not None and not full:  # Ghostty marks every row after a feed: keep those whose text changed
                dirty = {y for y in dirty if y >= len(self._vt) or vt[y] != self._vt[y]}
            if cursor != self._cursor:  # the old and the new cursor rows change too
                dirty.update(c[0] for c in (cursor, self._cursor) if c is not None)
            if full:
                self._rows = [[] for _ in range(screen.lines)]
                self._strips.clear()
                if screen.columns != self._vt_columns:
                    self._by_text, self._vt_columns = {}, screen.columns
            for y in dirty:
                if 0 <= y < screen.lines:
                    if vt is None:
                        self._rows[y] = pyte_row(screen, y, cursor)
                        self.rows_parsed += 1
                        self._strips.pop(y, None)
                    else:
                        self._vt_row(y, vt[y], screen.columns, cursor)
            if vt is not None:  # keep what the rows on screen now were drawn as: a scroll finds them there
                self._by_text = {(row, -1 if self._cursor_x(y, cursor) < 0 else y): (self._rows[y], self._strips.get(y))
                                 for y, row in enumerate(vt)}  # fmt: skip
            self._vt = vt or []
            self._cursor = cursor
            self._cursor_row = screen.cursor.y
            self._drawn_version = term.version
        self._changes += 1
        top = self._top()
        if full or len(dirty) * 2 > len(self._rows) or top != self._shown_top:  # a scroll: one refresh
            self._shown_top = top
            self.refresh()
        else:
            width = self.size.width
            for y in dirty:
                if y >= top:
                    self.refresh(Region(0, y - top, width, 1))

    @staticmethod
    def _cursor_x(y: int, cursor: tuple[int, int] | None) -> int:
        return cursor[1] if cursor is not None and cursor[0] == y else -1

    def _vt_row(self, y: int, row: Any, columns: int, cursor: tuple[int, int] | None) -> None:
        """Row ``y`` of a Ghostty screen: the segments and strip of a row drawn before with the same
        text (a scroll moves rows up; parsing SGR text is the costly part), else parsed."""
        cursor_x = self._cursor_x(y, cursor)
        found = self._by_text.get((row, -1)) if cursor_x < 0 else None
        if found is None:
            self._rows[y] = segments = vt_row(row, columns, cursor_x)
            self.rows_parsed += 1
            width = self.size.width  # built now, so that the row's strip moves with it when it scrolls
            self._strips[y] = Strip(segments).adjust_cell_length(width) if width > 0 else Strip(segments)
            return
        self._rows[y], strip = found
        if strip is None:
            self._strips.pop(y, None)
        else:
            self._strips[y] = strip

    def _top(self) -> int:
        """The first screen row shown: a screen taller than the view shows its bottom rows — the
        newest output and the input line (the cursor's row), its blank tail not counted."""
        height, count = self.size.height, len(self._rows)
        if self.terminal is None or count <= height:
            return 0
        bottom = self._cursor[0] if self._cursor is not None else self._cursor_row
        for y in range(count - 1, bottom, -1):
            if any(seg.text.strip() for seg in self._rows[y]):
                bottom = y
                break
        return max(0, min(count - height, bottom + 1 - height))

    def _geometry(self) -> tuple[int, int]:
        """The view's width and its first screen row shown, worked out once per draw or resize
        (not for each line: the widget's size is a lookup in the compositor's map)."""
        key = (self._size, self._changes)
        if key != self._geometry_key:
            self._geometry_key, self._geometry_now = key, (self.size.width, self._top())
        return self._geometry_now

    def render_line(self, y: int) -> Strip:
        width, top = self._geometry()
        y += top
        if y < len(self._rows):
            strip = self._strips.get(y)
            if strip is None or strip.cell_length != width:
                strip = self._strips[y] = Strip(self._rows[y]).adjust_cell_length(width)
            return strip
        if not self._rows and y == 0:
            return Strip([Segment(self.placeholder, Style(dim=True))]).adjust_cell_length(width)
        return Strip.blank(width)

    def render_lines(self, crop: Region) -> list[Strip]:
        return self.drawn.render(self, crop, self.render_line, super().render_lines)

    def notify_style_update(self) -> None:
        self.drawn.style_changes += 1
        super().notify_style_update()

    def on_resize(self) -> None:
        self._fit_terminal()
        if self.size.width > 0 and self.size.height > 0:
            self.post_message(self.Resized(self.size.width, self.size.height))

    def on_focus(self) -> None:
        self._drawn_version = -1
        self.call_later(self._poll)  # the cursor, drawn once the focus is set
        if self._has_mode(FOCUS_EVENTS):  # the program asked to be told (as xterm does, ?1004)
            self.post_message(self.Typed(b"\x1b[I"))

    def on_blur(self) -> None:
        self._drawn_version = -1
        self.call_later(self._poll)
        if self._has_mode(FOCUS_EVENTS):
            self.post_message(self.Typed(b"\x1b[O"))

    def _has_mode(self, mode: int) -> bool:
        term = self.terminal
        if term is None:
            return False
        with term.lock:
            return bool(term.screen.has_mode(mode))

    def on_key(self, event: events.Key) -> None:
        if event.key == LEAVE_KEY:
            return
        data = key_bytes(event.key, event.character, app_cursor=self._has_mode(DECCKM))
        if data is not None:
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(data))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        if event.text:
            self.post_message(self.Typed(paste_bytes(event.text, self._has_mode(2004))))

    def _mouse(self, event: events.MouseEvent, action: MouseAction) -> None:
        """Report a mouse event to the program when it asked for mouse reporting (in-process only)."""
        term, at = self.terminal, event.get_content_offset(self)
        if term is None or at is None:
            return
        with term.lock:
            data = mouse_bytes(term.screen, action, event.button, at.x, at.y, shift=event.shift,
                               meta=event.meta, ctrl=event.ctrl)  # fmt: skip
        if data is not None:
            event.stop()
            self.post_message(self.Typed(data))

    def on_mouse_down(self, event: events.MouseDown) -> None:
        self._mouse(event, "press")

    def on_mouse_up(self, event: events.MouseUp) -> None:
        self._mouse(event, "release")

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._mouse(event, "motion")

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._mouse(event, "wheel_up")

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._mouse(event, "wheel_down")

    def action_leave(self) -> None:
        self.post_message(self.Left())
