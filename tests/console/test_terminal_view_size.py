"""The terminal view and the teammate's terminal are the same size; a mirror shows the bottom."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.app import App, ComposeResult

from app.console.widgets.terminal import TerminalView
from backends.base import PaneSpec
from backends.inprocess import InProcessBackend
from tests.console.console_helpers import main_screen, noticed, until

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.console.app import CrewmuxApp

WINCH_LOOP = (
    "trap 'echo WINCH $(stty size)' WINCH; echo start C=${COLUMNS-unset} L=${LINES-unset}; "
    "while :; do sleep 0.05; done"
)


class ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TerminalView(id="terminal")


def _text(view: TerminalView) -> list[str]:
    return [view.render_line(y).text.rstrip() for y in range(view.size.height)]


@pytest.mark.asyncio
async def test_a_taller_mirrored_screen_shows_its_bottom() -> None:
    # a tmux pane of 110 rows after `seq 1 100; echo MARKER`, the prompt below, blank rows after it
    pane = [str(i) for i in range(1, 101)] + ["MARKER", "$ "] + [""] * 8
    async with ViewApp().run_test(size=(80, 24)) as pilot:
        view = pilot.app.query_one(TerminalView)
        view.show_screen(pane)
        await pilot.pause()
        shown = _text(view)
        assert "MARKER" in shown and "$" in shown and "100" in shown, shown
        assert shown[0] == str(103 - view.size.height)  # 102 rows with text: the last `height` of them
        view.show_screen(["short", "screen"])  # a screen that fits stays at the top
        await pilot.pause()
        assert _text(view)[:2] == ["short", "screen"]


@pytest.mark.asyncio
async def test_an_attached_teammate_takes_the_view_size_and_env_is_not_frozen(tmp_path: Path) -> None:
    backend = InProcessBackend()
    spec = PaneSpec(team="t", name="w", argv=["bash", "-c", WINCH_LOOP], cwd=str(tmp_path), cols=120, rows=36)
    handle = backend.spawn(spec)
    term = backend.terminal(handle)
    try:
        assert term.wait_for(lambda s: any("start" in line for line in s.display), 20), term.screen.display
        assert any("C=unset L=unset" in line for line in term.screen.display), term.screen.display
        async with ViewApp().run_test(size=(80, 24)) as pilot:
            view = pilot.app.query_one(TerminalView)
            view.attach(term)
            cols, rows = view.size.width, view.size.height
            assert (term.screen.columns, term.screen.lines) == (cols, rows)
            assert term.wait_for(lambda s: any(f"WINCH {rows} {cols}" in line for line in s.display), 20)
    finally:
        backend.kill(handle, grace=0.5)


def test_resize_all_resizes_every_teammate(tmp_path: Path) -> None:
    backend = InProcessBackend()
    handles = [
        backend.spawn(PaneSpec(team="t", name=n, argv=["bash", "-c", WINCH_LOOP], cwd=str(tmp_path), cols=50, rows=12))
        for n in ("a", "b")
    ]
    terms = [backend.terminal(h) for h in handles]
    try:
        for term in terms:
            assert term.wait_for(lambda s: any("start" in line for line in s.display), 20)
        backend.resize_all(70, 20)
        for term in terms:
            assert term.wait_for(lambda s: any("WINCH 20 70" in line for line in s.display), 20), term.screen.display
    finally:
        for h in handles:
            backend.kill(h, grace=0.5)


async def test_a_teammate_spawned_in_the_console_starts_at_the_view_size(
    console_factory: Callable[..., CrewmuxApp], team: str, tmp_path: Path
) -> None:
    app = console_factory(team, backend=InProcessBackend(), tick=0.5)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = main_screen(pilot)
        await until(pilot, lambda: screen.snapshot is not None)
        view = screen.query_one(TerminalView)
        await pilot.press("f2")
        await until(pilot, lambda: type(app.screen).__name__ == "SpawnForm")
        await pilot.press(*"sz")
        app.screen.query_one("#command").value = "echo START $(stty size); sleep 30"  # type: ignore[attr-defined]
        app.screen.query_one("#cwd").value = str(tmp_path)  # type: ignore[attr-defined]
        await pilot.click("#ok")
        await until(pilot, noticed(pilot, "spawn sz: started"))
        while screen.selected != "sz":
            await pilot.press("shift+down")
        await until(pilot, lambda: any("START" in "".join(s.text for s in row) for row in view._rows))
        first = next("".join(s.text for s in row) for row in view._rows if "START" in "".join(s.text for s in row))
        assert first.split()[1:3] == [str(view.size.height), str(view.size.width)], first  # no 120x36 at start
