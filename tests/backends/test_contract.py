"""One contract, every backend that can run here: in-process, tmux (private server), iTerm2 (fake)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from app.core.errors import PaneNotFound
from backends.base import PaneBackend, PaneHandle
from tests.backends.crewmux_pane_testkit import screen_has, spec, wait_until

ECHO_LOOP = ["sh", "-c", 'echo "ready $CREWMUX_X"; while read -r l; do echo "got:$l"; done']


def test_flags_are_declared_and_survival_is_true(backend: PaneBackend, tmp_path: Path) -> None:
    cls = type(backend)
    assert isinstance(backend, PaneBackend)
    for flag in ("CAN_FOCUS", "SURVIVES_CONSOLE", "CAN_STYLE"):
        assert type(getattr(cls, flag)) is bool, f"{cls.__name__}.{flag} is not declared as a bool"
    handle = backend.spawn(spec("frank", ECHO_LOOP, tmp_path))
    wait_until(screen_has(backend, handle, "ready"), what="pane up")
    # A fresh backend object stands for a console that was restarted: it finds the pane again
    # exactly when the backend says its panes survive the console.
    fresh = cls()
    assert [h.pid for h in fresh.list_panes("t")] == ([handle.pid] if cls.SURVIVES_CONSOLE else [])


def test_spawn_write_read(backend: PaneBackend, tmp_path: Path) -> None:
    handle = backend.spawn(spec("alice", ECHO_LOOP, tmp_path, env={"CREWMUX_X": "xyz"}, color="green"))
    wait_until(screen_has(backend, handle, "ready xyz"), what="first output")
    backend.write(handle, "hello world")
    wait_until(screen_has(backend, handle, "got:hello world"), what="the typed line echoed")
    backend.write(handle, "two", paste=False)
    wait_until(screen_has(backend, handle, "got:two"), what="the unpasted line")
    assert backend.is_alive(handle)
    assert backend.pid(handle) == handle.pid
    assert handle.pid is not None and psutil.Process(handle.pid).cwd() == str(tmp_path)


def test_keys(backend: PaneBackend, tmp_path: Path) -> None:
    handle = backend.spawn(spec("bob", ["cat", "-v"], tmp_path))
    wait_until(lambda: backend.pid(handle) is not None, what="pane up")
    backend.send_key(handle, "Escape")
    backend.send_key(handle, "Enter")
    wait_until(screen_has(backend, handle, "^["), what="Escape echoed by cat -v")
    backend.send_key(handle, "C-c")
    wait_until(lambda: not backend.is_alive(handle), what="C-c to end cat")


def test_kill_and_list(backend: PaneBackend, tmp_path: Path) -> None:
    script = ["sh", "-c", "sleep 300 & echo started; wait"]
    first = backend.spawn(spec("one", script, tmp_path))
    second = backend.spawn(spec("two", ECHO_LOOP, tmp_path))
    wait_until(screen_has(backend, first, "started"), what="child started")
    assert first.pid is not None
    children = psutil.Process(first.pid).children(recursive=True)
    assert children, "the pane's shell has a child"
    assert {h.pid for h in backend.list_panes("t")} == {first.pid, second.pid}
    backend.kill(first, grace=2.0)
    wait_until(
        lambda: not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children), what="tree gone"
    )
    assert not backend.is_alive(first)
    assert [h.pid for h in backend.list_panes("t")] == [second.pid]
    with pytest.raises(PaneNotFound):
        backend.kill(first, grace=0.5)
    assert backend.is_alive(second)


def test_title_and_focus(backend: PaneBackend, tmp_path: Path) -> None:
    handle = backend.spawn(spec("carol", ECHO_LOOP, tmp_path, color="purple"))
    backend.set_title(handle, "carol (reviewer)", "red")
    if type(backend).CAN_FOCUS:
        backend.focus(handle)
    assert backend.is_alive(handle)


def test_recorded_handle_is_refound(backend: PaneBackend, tmp_path: Path) -> None:
    handle = backend.spawn(spec("dave", ECHO_LOOP, tmp_path))
    again = PaneHandle(handle.backend, handle.pane_id, handle.pid, handle.pid_create_time, handle.locator)
    wait_until(screen_has(backend, again, "ready"), what="output through a rebuilt handle")
    wrong = PaneHandle(handle.backend, handle.pane_id, handle.pid, (handle.pid_create_time or 0) - 1000, handle.locator)
    if type(backend).SURVIVES_CONSOLE:
        with pytest.raises(PaneNotFound):
            backend.kill(wrong, grace=0.5)
        assert backend.is_alive(handle)


def test_paste_is_bracketed_when_the_program_asks(backend: PaneBackend, tmp_path: Path) -> None:
    if type(backend).name == "iterm2":
        pytest.skip("iTerm2's API has no paste call; text is typed (documented)")
    argv = ["sh", "-c", r"printf '\033[?2004hready\n'; exec cat -v"]
    handle = backend.spawn(spec("erin", argv, tmp_path))
    wait_until(screen_has(backend, handle, "ready"), what="bracketed paste mode on")
    backend.write(handle, "abc")
    wait_until(screen_has(backend, handle, "^[[200~abc^[[201~"), what="the paste markers around the text")
