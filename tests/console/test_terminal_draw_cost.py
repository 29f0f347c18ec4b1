"""What a frame of a teammate's live screen costs, counted (not timed): a scroll parses only the
rows it brought in (and the cursor's), output arriving faster than the frame rate is drawn in one frame, and the view
shows the screen's text exactly all the while."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest
from textual.app import App, ComposeResult

from app.console.widgets.terminal import TerminalView

if TYPE_CHECKING:
    from collections.abc import Callable

    from textual.pilot import Pilot

pytest.importorskip("pyghostty")

COLS, ROWS = 40, 20


class FedScreen:
    """A :class:`app.console.widgets.live_screen.LiveScreen` on Ghostty's screen, fed by the test
    (as the pty feeder or the tmux follower feeds one: under the lock, version bumped, listeners woken)."""

    def __init__(self) -> None:
        from backends.ghostty_screen import GhosttyScreen

        self.screen: Any = GhosttyScreen(COLS, ROWS)
        self.lock = threading.Lock()
        self.version = 0
        self.alive = True
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def remove_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.remove(callback)

    def write(self, data: bytes) -> None:
        """Keys typed into the view: nothing reads them here."""

    def resize(self, cols: int, rows: int) -> None:
        with self.lock:
            self.screen.resize(rows, cols)
            self.version += 1

    def feed(self, data: bytes) -> None:
        with self.lock:
            self.screen.feed(data)
            self.version += 1
        for callback in list(self._listeners):
            callback()


class ViewApp(App[None]):
    def __init__(self, fps: float, watch_fps: float | None = None) -> None:
        super().__init__()
        self.fps = fps
        self.watch_fps = fps if watch_fps is None else watch_fps

    def compose(self) -> ComposeResult:
        yield TerminalView(fps=self.fps, watch_fps=self.watch_fps, id="terminal")


def _shown(view: TerminalView) -> list[str]:
    return ["".join(seg.text for seg in row).rstrip() for row in view._rows]


async def _drawn(pilot: Pilot[None], view: TerminalView, fed: FedScreen) -> None:
    """Wait (up to 10 s) until the view has drawn everything fed so far."""
    deadline = time.monotonic() + 10
    while view._drawn_version != fed.version:
        assert time.monotonic() < deadline, "the view never drew the last output"
        await pilot.pause(0.01)


async def test_a_scroll_parses_only_the_rows_it_brought_in() -> None:
    app = ViewApp(fps=20)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        fed = FedScreen()
        view.attach(fed)
        fed.feed(b"\r\n".join(f"\x1b[3{n % 8}mline {n}\x1b[0m".encode() for n in range(ROWS)))
        await _drawn(pilot, view, fed)
        parsed = view.rows_parsed
        for n in range(ROWS, ROWS + 5):  # five scrolls, one frame each
            fed.feed(f"\r\n\x1b[1mline {n}\x1b[0m".encode())
            await _drawn(pilot, view, fed)
            with fed.lock:
                assert _shown(view) == fed.screen.text_lines()
        # each scroll: the new bottom row, and the row the cursor left (the view has focus: the cursor is drawn)
        assert view.rows_parsed - parsed <= 2 * 5, "a scroll re-parsed rows that only moved up"
        assert _shown(view)[-1] == f"line {ROWS + 4}"


async def test_output_faster_than_the_frame_rate_is_drawn_in_one_frame() -> None:
    fps = 2.0  # a frame every 500 ms: the burst below takes a small part of one
    app = ViewApp(fps=fps)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        fed = FedScreen()
        view.attach(fed)
        await _drawn(pilot, view, fed)
        frames, began = view.frames, time.monotonic()
        for n in range(50):
            fed.feed(f"burst {n}\r\n".encode())
            await asyncio.sleep(0)  # the view's wake-up runs between chunks, as between reads
        elapsed = time.monotonic() - began
        await _drawn(pilot, view, fed)
        assert view.frames - frames <= 2 + int(elapsed * fps), "every chunk was drawn, not one frame"
        with fed.lock:
            assert _shown(view) == fed.screen.text_lines()
        assert "burst 49" in _shown(view)


async def _stream(view: TerminalView, fed: FedScreen, seconds: float) -> tuple[int, float]:
    """Feed a line every 10 ms for ``seconds``; the frames drawn meanwhile, and the time it took."""
    frames, began = view.frames, time.monotonic()
    n = 0
    while time.monotonic() - began < seconds:
        fed.feed(f"stream {n}\r\n".encode())
        n += 1
        await asyncio.sleep(0.01)
    return view.frames - frames, time.monotonic() - began


async def test_a_watched_view_draws_a_stream_at_the_watch_rate_and_a_focused_one_at_the_frame_rate() -> None:
    fps, watch = 20.0, 2.0
    app = ViewApp(fps=fps, watch_fps=watch)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        fed = FedScreen()
        view.attach(fed)
        app.set_focus(None)  # watched from the team table, as the lead does
        await _drawn(pilot, view, fed)
        frames, elapsed = await _stream(view, fed, 1.5)
        assert frames <= 2 + int(elapsed * watch), f"{frames} frames in {elapsed:.2f} s while watched"
        await _drawn(pilot, view, fed)
        with fed.lock:
            assert _shown(view) == fed.screen.text_lines(), "the last output is drawn all the same"
        # output after a quiet spell is drawn at once, not a watch frame later
        await pilot.pause(1 / watch)
        fed.feed(b"after the quiet\r\n")
        deadline = time.monotonic() + 0.8 * (1 / watch)
        while view._drawn_version != fed.version:
            assert time.monotonic() < deadline, "output after a quiet spell waited for a frame"
            await asyncio.sleep(0.005)
        view.focus()  # typing into it: its echo is drawn at the full frame rate
        await pilot.pause()
        frames, elapsed = await _stream(view, fed, 1.5)
        assert frames > 2 + int(elapsed * watch), f"only {frames} frames in {elapsed:.2f} s with focus"


async def test_output_while_a_frame_is_due_does_not_wake_the_ui_again() -> None:
    fps = 2.0  # a frame every 500 ms: the burst below takes a small part of one
    app = ViewApp(fps=fps)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        fed = FedScreen()
        view.attach(fed)
        await _drawn(pilot, view, fed)
        woken = 0
        wake = view._woken

        def counted() -> None:
            nonlocal woken
            woken += 1
            wake()

        view._woken = counted  # type: ignore[method-assign]
        for n in range(50):
            fed.feed(f"burst {n}\r\n".encode())
            await asyncio.sleep(0)  # the UI runs between chunks, as between reads
        assert woken <= 2, f"{woken} wake-ups of the UI for one frame's output"
        await _drawn(pilot, view, fed)
        with fed.lock:
            assert _shown(view) == fed.screen.text_lines()
        assert "burst 49" in _shown(view)


class CountingView(TerminalView):
    """The view, counting its draw checks (the fallback timer's ticks among them)."""

    checks = 0

    def _paced_poll(self) -> None:
        self.checks += 1
        super()._paced_poll()


class CountingApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CountingView(fps=20.0, watch_fps=1.0, id="terminal")


async def test_a_quiet_view_is_checked_at_the_watch_rate_and_a_focus_change_is_drawn_at_once() -> None:
    app = CountingApp()
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(CountingView)
        fed = FedScreen()
        view.attach(fed)
        fed.feed(b"quiet now")
        await _drawn(pilot, view, fed)
        checks, began = view.checks, time.monotonic()
        await pilot.pause(1.5)  # nothing printed: the fallback timer alone looks at the screen
        elapsed = time.monotonic() - began
        assert view.checks - checks <= 2 + int(elapsed * 1.0), f"{view.checks - checks} checks in {elapsed:.2f} s"
        app.set_focus(None)
        await pilot.pause()
        assert view._cursor is None, "no cursor without the focus"
        view.focus()
        deadline = time.monotonic() + 0.6  # well before the 1 s fallback tick
        while view._cursor is None:
            assert time.monotonic() < deadline, "the focused view's cursor waited for the timer"
            await asyncio.sleep(0.01)
        with fed.lock:
            assert view._cursor == (fed.screen.cursor.y, fed.screen.cursor.x)


async def test_a_source_can_be_watched_at_its_own_rate() -> None:
    """A tmux pane's copy is watched at a slower rate than an in-process screen (tmux shows the pane
    itself live): ``attach(..., watch_fps=)`` bounds that source's frames, and the next source
    attached without it gets the view's own rate back."""
    fps, pane_rate = 20.0, 2.0
    app = ViewApp(fps=fps, watch_fps=fps)
    async with app.run_test(size=(COLS + 2, ROWS + 2)) as pilot:
        view = app.query_one(TerminalView)
        app.set_focus(None)
        copy = FedScreen()
        view.attach(copy, watch_fps=pane_rate)
        await _drawn(pilot, view, copy)
        frames, elapsed = await _stream(view, copy, 1.5)
        assert frames <= 2 + int(elapsed * pane_rate), f"{frames} frames in {elapsed:.2f} s at {pane_rate} a second"
        own = FedScreen()
        view.attach(own)
        await _drawn(pilot, view, own)
        frames, elapsed = await _stream(view, own, 1.5)
        assert frames > 2 + int(elapsed * pane_rate), f"only {frames} frames in {elapsed:.2f} s at the view's rate"
