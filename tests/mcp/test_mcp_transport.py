"""``crewmux mcp`` as processes: two members at once, waking on another process's send, HTTP behind a token."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import anyio.to_thread
import httpx2
import psutil
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from app.core.mailbox import Mailbox
from app.core.tasks import TaskStore
from app.core.team import TeamStore
from app.mcp.http import check_bind, token_path
from tests.mcp.mcp_helpers import (
    REPO,
    call,
    connect,
    server_params,
    server_process,
    task_file,
    watching_inotify,
)


async def test_two_members_claim_at_once_without_double_claims(home: Path, teams: TeamStore, team: str) -> None:
    store = TaskStore(teams.paths(team))
    for i in range(12):
        store.create(f"task {i}")
    got: dict[str, list[str]] = {"alice": [], "bob": []}

    async def drain(name: str) -> None:
        async with connect(home, team, name) as client:
            while True:
                result = await client.call_tool("task_claim", {})
                if result.is_error:
                    assert "no task is available" in str(result.content)
                    return
                got[name].append(result.structured_content["id"])

    async with anyio.create_task_group() as tg:
        tg.start_soon(drain, "alice")
        tg.start_soon(drain, "bob")
    claimed = got["alice"] + got["bob"]
    assert sorted(claimed, key=int) == [str(i) for i in range(1, 13)]  # each once, none lost
    for name, ids in got.items():
        assert all(task_file(home, team, i)["owner"] == name for i in ids)


async def test_wait_for_message_wakes_on_a_send_from_another_process(home: Path, teams: TeamStore, team: str) -> None:
    async with connect(home, team, "bob") as bob:
        assert (await call(bob, "wait_for_message", {"timeout_s": 0.05}))["timedOut"] is True
        proc = server_process(team, "bob")
        assert not watching_inotify(proc)
        result: dict[str, object] = {}

        async def wait() -> None:
            result.update(await call(bob, "wait_for_message", {"timeout_s": 120}))

        async with anyio.create_task_group() as tg:
            tg.start_soon(wait)
            with anyio.fail_after(30):
                while not watching_inotify(proc):  # the server is now blocked on its watch
                    await anyio.sleep(0.01)
            started = time.monotonic()
            sender = await anyio.run_process(
                [
                    sys.executable,
                    "-m",
                    "app",
                    "msg",
                    "send",
                    "bob",
                    "wake up",
                    "--team",
                    team,
                    "--as",
                    "alice",
                    "--json",
                ],
                env={**os.environ, "CREWMUX_HOME": str(home)},
                cwd=REPO,
            )
            assert sender.returncode == 0
        assert time.monotonic() - started < 30  # woken by the send, not by the 120 s timeout
        message = result["message"]
        assert isinstance(message, dict) and message["text"] == "wake up" and message["from"] == "alice"
        [stored] = [m for m, _ in Mailbox(teams, team).history("bob")]
        assert stored.read is True  # taken through the tool: recorded as read


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(home: Path, team: str):  # type: ignore[no-untyped-def]
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "mcp", "--team", team, "--as", "alice", "--http", str(port)],
        env={**os.environ, "CREWMUX_HOME": str(home)},
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # printed once the token exists, before serving
        assert "serving on" in line, line
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "HTTP server never listened"
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def test_http_needs_the_team_token(home: Path, teams: TeamStore, team: str, http_server: str) -> None:
    path = token_path(teams.paths(team))
    assert path.stat().st_mode & 0o777 == 0o600
    token = path.read_text().strip()
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    async with httpx2.AsyncClient() as raw:
        bare = await raw.post(http_server, json=body)
        wrong = await raw.post(http_server, json=body, headers={"Authorization": "Bearer not-the-token"})
    assert bare.status_code == 401 and wrong.status_code == 401
    assert "bearer" in bare.headers.get("www-authenticate", "").lower()

    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as authed,
        Client(streamable_http_client(http_server, http_client=authed)) as client,
    ):
        names = {t.name for t in (await client.list_tools()).tools}
        assert "task_claim" in names
        TaskStore(teams.paths(team)).create("over http")
        assert (await call(client, "task_claim"))["owner"] == "alice"
    assert task_file(home, team, "1")["owner"] == "alice"


def test_show_token_prints_the_same_token(cli: object, teams: TeamStore, team: str) -> None:
    first = cli("mcp", "--team", team, "--show-token")  # type: ignore[operator]
    again = cli("mcp", "--team", team, "--show-token")  # type: ignore[operator]
    assert first.code == 0 and len(first.out.strip()) >= 32
    assert first.out == again.out == token_path(teams.paths(team)).read_text()


def test_a_remote_bind_is_refused_unless_asked(cli: object, team: str) -> None:
    ran = cli("mcp", "--team", team, "--as", "alice", "--http", str(_free_port()), "--host", "0.0.0.0")  # type: ignore[operator]
    assert ran.code == 3
    assert "--allow-remote" in ran.err and "loopback" in ran.err


def test_an_explicit_remote_bind_is_warned_about(capsys: pytest.CaptureFixture[str]) -> None:
    check_bind("127.0.0.1", allow_remote=False)
    check_bind("::1", allow_remote=False)
    assert capsys.readouterr().err == ""
    check_bind("0.0.0.0", allow_remote=True)
    assert "WARNING" in capsys.readouterr().err


async def test_the_server_waits_for_its_member_to_join(home: Path, teams: TeamStore, team: str) -> None:
    """At spawn the CLI may start ``crewmux mcp`` before crewmux records the member."""
    result: dict[str, object] = {}

    async def use() -> None:
        async with Client(server_params(home, team, "dave", "--wait-member", "60"), read_timeout_seconds=60) as c:
            result.update(await call(c, "team_status"))

    async with anyio.create_task_group() as tg:
        tg.start_soon(use)
        proc = await anyio.to_thread.run_sync(server_process, team, "dave")
        with anyio.fail_after(30):
            while not watching_inotify(proc):  # waiting on the team file
                await anyio.sleep(0.01)
        teams.join(team, "dave")
    assert result["you"] == "dave"


def test_a_member_that_never_joins_is_refused(cli: object, team: str) -> None:
    ran = cli("mcp", "--team", team, "--as", "erin", "--wait-member", "0.3")  # type: ignore[operator]
    assert ran.code == 2 and "'erin' is not a member" in ran.err


async def test_a_cancelled_wait_takes_no_message(home: Path, teams: TeamStore, team: str) -> None:
    """The agent gave up waiting: the watch ends with the call, and a later message stays unread."""
    async with connect(home, team, "bob") as bob:
        proc = server_process(team, "bob")
        with anyio.move_on_after(60) as scope:
            async with anyio.create_task_group() as tg:

                async def wait() -> None:
                    await bob.call_tool("wait_for_message", {"timeout_s": 120})

                tg.start_soon(wait)
                while not watching_inotify(proc):
                    await anyio.sleep(0.01)
                tg.cancel_scope.cancel()  # the client abandons the call (notifications/cancelled)
        assert not scope.cancelled_caught
        with anyio.fail_after(30):
            while watching_inotify(proc):  # the server dropped its watch: the wait is over
                await anyio.sleep(0.01)
        msg_id = Mailbox(teams, team).send("bob", "after the wait", sender="alice")
        shown = await call(bob, "read_inbox", {"mark_read": False})
        assert [m["msg_id"] for m in shown["messages"]] == [msg_id]
        assert Mailbox(teams, team).status(msg_id).state == "sent"


def test_the_server_exits_when_its_agent_goes_away(home: Path, team: str) -> None:
    """stdin closed (the agent CLI exited) while a wait is pending: the server ends, no orphan."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "mcp", "--team", team, "--as", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "CREWMUX_HOME": str(home)},
        cwd=REPO,
    )
    assert proc.stdin is not None and proc.stdout is not None
    hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    for doc in (
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "wait_for_message", "arguments": {"timeout_s": 300}},
        },
    ):
        proc.stdin.write((json.dumps(doc) + "\n").encode())
        proc.stdin.flush()
        if doc.get("id") == 0:
            assert b'"result"' in proc.stdout.readline()
    deadline = time.monotonic() + 30
    while not watching_inotify(psutil.Process(proc.pid)):
        assert time.monotonic() < deadline, "the wait never started"
        time.sleep(0.01)
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
