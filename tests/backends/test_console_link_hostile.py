"""The console link against bad clients: idle connections are closed, bad requests get an error
answer, and nothing ever prints a traceback over the console."""

from __future__ import annotations

import json
import os
import socket
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import BackendError
from app.core.team import TeamStore
from backends import console_link
from backends.inprocess import InProcessBackend


def _connect(path: Any) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    return sock


def test_idle_and_bad_clients(
    teams: TeamStore, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(console_link._Conn, "timeout", 0.3)
    teams.create("t")
    server = console_link.ConsoleLinkServer(teams.paths("t"), console_link.inprocess_handler(InProcessBackend()))
    path = console_link.socket_path(teams.paths("t"))
    try:
        idle = _connect(path)
        started = time.monotonic()
        assert idle.recv(1) == b""  # closed by the console, not left open forever
        assert time.monotonic() - started < 5
        idle.close()
        for bad in (b"not json\n", b'{"op": "format-disk"}\n', b'{"op": "spawn", "spec": {"nope": 1}}\n'):
            with _connect(path) as sock:
                sock.sendall(bad)
                answer = json.loads(sock.makefile("rb").readline())
            assert answer["ok"] is False and answer["error"]
        with _connect(path) as sock:  # a client that leaves before the answer
            sock.sendall(b'{"op": "ping"}\n')
        assert console_link.request(teams.paths("t"), console_link.LinkRequest(op="ping")) == {"pong": True}
    finally:
        server.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception" not in err


def test_link_works_under_a_root_too_deep_for_a_socket_path(tmp_path: Path) -> None:
    """A ``$CREWMUX_HOME`` whose socket path passes the kernel's 108-byte limit still gets a link
    (before: bind failed with "AF_UNIX path too long" and the console ran without one)."""
    deep = tmp_path.joinpath(*(["d" * 40] * 4))
    teams = TeamStore(deep)
    teams.create("t")
    path = console_link.socket_path(teams.paths("t"))
    assert len(os.fsencode(path)) > 108
    server = console_link.ConsoleLinkServer(teams.paths("t"), console_link.inprocess_handler(InProcessBackend()))
    try:
        assert path.exists() and stat.S_ISSOCK(path.stat().st_mode)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert console_link.request(teams.paths("t"), console_link.LinkRequest(op="ping")) == {"pong": True}
        with pytest.raises(BackendError, match="already running"):  # the stale-socket check reaches it too
            console_link.ConsoleLinkServer(teams.paths("t"), console_link.inprocess_handler(InProcessBackend()))
    finally:
        server.close()
    assert not path.exists()
