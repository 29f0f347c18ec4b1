"""``crewmux web`` refuses every request without its token, and refuses a public bind without the flag."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from app.web.server import REFUSED, TokenServer
from tests.conftest import REPO
from tests.web.conftest import WebServer, start_web, stop_web


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def forged(token: str) -> str:
    """The same length, one character off: only a full match may pass."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_every_route_needs_the_token(web: WebServer, team: str) -> None:
    status, page = get(web.url)
    assert status == 200 and f"crewmux — {team}" in page
    assert get(web.url + "static/js/textual.js")[0] == 200
    assert get(web.url.rstrip("/"))[0] == 200  # redirected to the page
    refused = [
        "/",
        "/ws",
        "/static/js/textual.js",
        "/static/css/xterm.css",
        "/static/fonts/RobotoMono-VariableFont_wght.ttf",
        "/favicon.ico",
        "/download/x",
        f"/{forged(web.token)}/",
        f"/{forged(web.token)}/static/js/textual.js",
        f"/{web.token[:-1]}/",
        f"/x/{web.token}/",
        f"/?token={web.token}",
    ]
    for path in refused:
        status, body = get(web.origin + path)
        assert status == 403, path
        assert body == REFUSED  # not a word about the team


async def test_the_websocket_needs_the_token(web: WebServer) -> None:
    ws_origin = web.origin.replace("http://", "ws://")
    async with aiohttp.ClientSession() as session:
        for path in ("/ws", f"/{forged(web.token)}/ws", "/ws?width=80&height=24"):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_origin + path)
            assert refused.value.status == 403, path
    assert web.consoles() == []  # no console was started for them


def test_the_token_check_is_exact() -> None:
    server = TokenServer("true", token="s3cret-T0ken", title="t")
    assert server.authorized("/s3cret-T0ken/")
    assert server.authorized("/s3cret-T0ken/static/js/textual.js")
    for path in ("", "/", "/s3cret-T0ke/", "/s3cret-T0kenX/", "/S3CRET-T0KEN/", "s3cret-T0ken/", "//s3cret-T0ken/"):
        assert not server.authorized(path), path


def run_web(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "--home", str(home), "web", "--team", "t", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )


@pytest.mark.parametrize("host", ["0.0.0.0"])
def test_a_public_address_needs_allow_remote(home: Path, host: str) -> None:
    result = run_web(home, "--host", host, "--port", "0")
    assert result.returncode == 3
    assert "--allow-remote" in result.stderr and "drives this team's console" in result.stderr
    assert "http://" not in result.stdout  # nothing was served


def test_allow_remote_serves_with_a_warning(home: Path, team: str) -> None:
    server = start_web(home, team, "--host", "0.0.0.0", "--allow-remote")
    try:
        loopback = server.url.replace("://0.0.0.0:", "://127.0.0.1:")
        assert get(loopback)[0] == 200
        assert get(loopback.rsplit("/", 2)[0] + "/")[0] == 403
    finally:
        assert stop_web(server) == 0
    err = server.err_path.read_text()
    assert "WARNING" in err and "plain HTTP" in err and "TLS reverse proxy" in err
    assert "open it with this machine's name or address" in err


def test_bad_port_and_bad_team_are_bad_input(home: Path) -> None:
    assert run_web(home, "--port", "70000").returncode == 2
    bad = subprocess.run(
        [sys.executable, "-m", "app", "--home", str(home), "web", "--team", "../up", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
        check=False,
    )
    assert bad.returncode == 2 and "team name" in bad.stderr


def test_a_port_in_use_is_a_clear_error(web: WebServer, home: Path) -> None:
    port = web.origin.rsplit(":", 1)[1]
    result = run_web(home, "--port", port)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
