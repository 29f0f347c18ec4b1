"""tmux-only behaviour: stale pane ids, layouts, styling, concurrent spawns, the attach command."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import psutil
import pytest

from app.core.errors import PaneNotFound
from backends.base import PaneHandle
from backends.tmux import TmuxBackend
from backends.tmux_server import TmuxServer
from tests.backends.crewmux_pane_testkit import screen_has, spec, wait_until

LOOP = ["sh", "-c", 'echo up; while read -r l; do echo "got:$l"; done']


def test_stale_pane_id_never_hits_an_unrelated_pane(tmux_socket: str, tmp_path: Path) -> None:
    backend = TmuxBackend()
    handle = backend.spawn(spec("alice", LOOP, tmp_path))
    assert handle.pane_id == "%0"
    subprocess.run(["tmux", "-L", tmux_socket, "kill-server"], check=True)
    # A new server numbers panes from %0 again: the user's own pane now has the recorded id.
    new = ["tmux", "-L", tmux_socket, "new-session", "-d", "-s", "user", "sleep", "300"]
    wait_until(lambda: subprocess.run(new, capture_output=True, check=False).returncode == 0, what="a new server")
    server = TmuxServer(socket_name=tmux_socket)
    row = server.run("list-panes", "-a", "-F", "#{pane_id} #{pane_pid}")
    assert row[0].split()[0] == "%0"
    user_pid = int(row[0].split()[1])
    assert not backend.is_alive(handle)
    with pytest.raises(PaneNotFound):
        backend.kill(handle, grace=0.5)
    assert psutil.pid_exists(user_pid)
    assert server.run("list-panes", "-a", "-F", "#{pane_id}") == ["%0"]
    assert backend.list_panes("t") == []


def test_user_pane_with_the_same_pid_record_is_not_crewmux_owned(tmux_socket: str, tmp_path: Path) -> None:
    server = TmuxServer(socket_name=tmux_socket)
    pane, pid = server.run("new-session", "-d", "-P", "-F", "#{pane_id} #{pane_pid}", "sleep", "300")[0].split()
    from app.core.liveness import create_time

    forged = PaneHandle("tmux", pane, int(pid), create_time(int(pid)), server.locator("0", "@0"))
    with pytest.raises(PaneNotFound):
        TmuxBackend().kill(forged, grace=0.5)
    assert psutil.pid_exists(int(pid))


def test_layout_title_and_border_color(tmux_socket: str, tmp_path: Path) -> None:
    backend = TmuxBackend()
    a = backend.spawn(spec("alice", LOOP, tmp_path, color="purple"))
    b = backend.spawn(spec("bob", LOOP, tmp_path, color="green", layout="main-vertical"))
    srv = backend.server
    for handle, title, style in ((a, "alice", "fg=magenta"), (b, "bob", "fg=green")):
        assert srv.run("display-message", "-p", "-t", handle.pane_id, "#{pane_title}") == [title]
        assert srv.run("display-message", "-p", "-t", handle.pane_id, "fg=#{@crewmux-color}") == [style]
        border = srv.run("display-message", "-p", "-t", handle.pane_id, "#{T:pane-border-format}")
        assert border == [f" #[{style},bold]{title}#[default] "]
    assert srv.run("display-message", "-p", "-t", a.pane_id, "#{window_layout}") != []
    assert srv.run("show-options", "-w", "-v", "-t", "crewmux-t:", "pane-border-status") == ["top"]
    c = backend.spawn(spec("carol", LOOP, tmp_path, layout="windows"))
    windows = srv.run("list-windows", "-t", "crewmux-t", "-F", "#{window_name}")
    assert windows[1] == "carol"
    assert "carol" in windows and len(windows) == 2
    assert backend.attach_command("t") == f"tmux -L {tmux_socket} attach -t crewmux-t"
    wait_until(screen_has(backend, c, "up"), what="carol's window output")


def test_two_spawns_at_once_do_not_garble(tmux_socket: str, tmp_path: Path) -> None:
    backends = [TmuxBackend(), TmuxBackend()]
    handles: dict[str, PaneHandle] = {}

    def go(i: int) -> None:
        b = backends[i]
        h = b.spawn(spec(f"m{i}", LOOP, tmp_path))
        handles[f"m{i}"] = h
        b.write(h, f"line-from-{i} " + "x" * 200)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(handles) == 2
    for i in range(2):
        h = handles[f"m{i}"]
        wait_until(screen_has(backends[i], h, f"got:line-from-{i} "), what=f"m{i}'s own line")
        other = backends[i].screen(h, scrollback=100).text
        assert f"line-from-{1 - i}" not in other
    assert len(backends[0].list_panes("t")) == 2


def test_tmux_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.errors import BackendUnavailable

    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackendUnavailable, match="apt-get install tmux"):
        TmuxBackend.check_available()


def test_control_mode_follows_output_and_runs_commands(tmux_socket: str, tmp_path: Path) -> None:
    from backends.tmux import session_name
    from backends.tmux_follow import unescape

    backend = TmuxBackend()
    handle = backend.spawn(spec("alice", LOOP, tmp_path))
    seen: list[tuple[str, bytes]] = []
    assert session_name("t") == "crewmux-t"
    control = backend.follow("t", lambda pane, data: seen.append((pane, data)))
    try:
        assert control.command("display-message", "-p", "-t", handle.pane_id, "#{pane_pid}") == [str(handle.pid)]
        backend.write(handle, "tab\tand \\ back")
        wait_until(lambda: b"got:" in b"".join(d for p, d in seen if p == handle.pane_id), what="%output")
        assert unescape(rb"a\134b\015\012") == b"a\\b\r\n"
    finally:
        control.close()


def _inside(monkeypatch: pytest.MonkeyPatch, socket: str) -> tuple[TmuxServer, str]:
    """A 'user' session on the private server, and the env of a shell inside its pane."""
    server = TmuxServer(socket_name=socket)
    pane = server.run("new-session", "-d", "-s", "user", "-P", "-F", "#{pane_id}", "sleep", "300")[0]
    path = server.run("display-message", "-p", "#{socket_path}")[0]
    monkeypatch.delenv("CREWMUX_TMUX_SOCKET")
    monkeypatch.setenv("TMUX", f"{path},1,0")
    monkeypatch.setenv("TMUX_PANE", pane)
    return server, pane


def test_inside_tmux_uses_a_dedicated_window(tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, user_pane = _inside(monkeypatch, tmux_socket)
    backend = TmuxBackend()
    assert backend.inside and backend.attach_command("t") is None
    a = backend.spawn(spec("alice", LOOP, tmp_path))
    b = backend.spawn(spec("bob", LOOP, tmp_path))
    windows = server.run("list-windows", "-t", "user", "-F", "#{window_name}:#{window_panes}")
    assert windows[0].endswith(":1") and "crewmux-t:2" in windows
    assert server.run("list-sessions", "-F", "#{session_name}") == ["user"]
    for h in (a, b):
        backend.kill(h, grace=0.5)
    assert server.run("display-message", "-p", "-t", user_pane, "#{pane_id}") == [user_pane]


def test_inside_tmux_beside_the_lead(tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, user_pane = _inside(monkeypatch, tmux_socket)
    backend = TmuxBackend(beside_lead=True)
    a = backend.spawn(spec("alice", LOOP, tmp_path))
    b = backend.spawn(spec("bob", LOOP, tmp_path))
    panes = server.run("list-panes", "-t", user_pane, "-F", "#{pane_id}")
    assert panes[0] == user_pane and set(panes[1:]) == {a.pane_id, b.pane_id}
    assert [h.pane_id for h in backend.list_panes("t")] == [a.pane_id, b.pane_id]
    user_window = server.run("display-message", "-p", "-t", user_pane, "#{@crewmux-window}|#{pane-border-status}")
    assert user_window == ["|off"]  # the user's window is neither tagged nor restyled
    backend.kill(a, grace=0.5)
    backend.kill(b, grace=0.5)
    assert server.run("list-panes", "-t", user_pane, "-F", "#{pane_id}") == [user_pane]


@pytest.mark.parametrize("layout", ["main-vertical", "tiled"])
def test_beside_the_lead_lays_out_the_lead_window(
    tmux_socket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    """Issue 15 (6): the console's pane and its teammates share one window, laid out by the layout
    asked for; main-vertical keeps the lead's pane (the console) the left half."""
    from dataclasses import replace

    server, user_pane = _inside(monkeypatch, tmux_socket)
    server.run("resize-window", "-t", user_pane, "-x", "200", "-y", "50")
    backend = TmuxBackend(beside_lead=True)
    handles = [backend.spawn(replace(spec(n, LOOP, tmp_path), layout=layout)) for n in ("alice", "bob", "carol")]  # type: ignore[arg-type]
    rows = server.run("list-panes", "-t", user_pane, "-F", "#{pane_id} #{pane_left} #{pane_top} #{pane_width}")
    geometry = {r.split()[0]: tuple(int(v) for v in r.split()[1:]) for r in rows}
    assert set(geometry) == {user_pane, *(h.pane_id for h in handles)}
    if layout == "main-vertical":
        assert geometry[user_pane][:2] == (0, 0) and abs(geometry[user_pane][2] - 100) <= 1
        assert {geometry[h.pane_id][0] for h in handles} == {geometry[user_pane][2] + 1}  # one column, right
    else:
        assert len({(g[0], g[1]) for g in geometry.values()}) == 4  # a 2x2 grid
        assert max(g[2] for g in geometry.values()) < 110
    # windows: a window of its own, not a split of the lead's
    own = backend.spawn(replace(spec("dave", LOOP, tmp_path), layout="windows"))
    assert own.pane_id not in server.run("list-panes", "-t", user_pane, "-F", "#{pane_id}")
    for h in (*handles, own):
        backend.kill(h, grace=0.5)


def test_fit_makes_a_detached_pane_the_view_size_and_leaves_shared_windows(tmux_socket: str, tmp_path: Path) -> None:
    winch = ["bash", "-c", "trap 'echo WINCH $(stty size)' WINCH; echo up; while :; do sleep 0.05; done"]
    backend = TmuxBackend()
    alone = backend.spawn(spec("alice", winch, tmp_path, layout="windows", cols=120, rows=36))
    wait_until(screen_has(backend, alone, "up"), what="alice up")
    assert backend.fit(alone, 70, 20)
    wait_until(screen_has(backend, alone, "WINCH 20 70"), what="alice got SIGWINCH with the view's size")
    assert len(backend.screen(alone).lines) == 20
    shared = backend.spawn(spec("bob", winch, tmp_path, layout="windows"))
    backend.server.run("split-window", "-d", "-t", shared.pane_id, "sleep", "30")  # someone's pane beside bob
    assert not backend.fit(shared, 70, 20)  # a pane sharing its window is left to that layout
    for handle in (alone, shared):
        backend.kill(handle, grace=0.5)


def test_a_screen_read_as_the_server_goes_away_is_pane_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """tmux can answer nothing (exit 0) when its server exits mid-command; that is a gone pane,
    never an IndexError (which ended the console's deliverer thread once)."""
    monkeypatch.setattr(TmuxServer, "run", lambda self, *args, **kw: [])
    handle = PaneHandle(backend="tmux", pane_id="%1", pid=1, pid_create_time=None, locator=None)
    with pytest.raises(PaneNotFound, match="no screen"):
        TmuxBackend(server=TmuxServer(socket_name="crewmux-gone")).screen(handle)
