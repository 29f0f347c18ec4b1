"""A real ``crewmux web`` process and Debian's Chromium driven by Playwright (no browser download).

The browser draws the terminal on a canvas, so a test reads what the console shows the way the
browser gets it: every websocket frame the page receives is fed to a pyte screen of the size the
page asked for (:class:`BrowserTerminal`). Waits poll a condition with a deadline.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pyte
import pytest

from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
URL_LINE = re.compile(r"^(http://\S+/)$", re.MULTILINE)


def until(predicate: Callable[[], object], timeout: float, pump: Callable[[], None], what: str) -> None:
    """Pump events until ``predicate()`` holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        pump()


@dataclass
class WebServer:
    """A running ``crewmux web``: its URL (token included), the token, the process."""

    url: str
    proc: subprocess.Popen[str]
    err_path: Path

    @property
    def token(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[1]

    @property
    def origin(self) -> str:
        return self.url.split("/" + self.token, 1)[0]

    def consoles(self) -> list[psutil.Process]:
        """The console processes the server runs for its browser sessions."""
        found = []
        for child in psutil.Process(self.proc.pid).children(recursive=True):
            try:
                if "console" in child.cmdline():
                    found.append(child)
            except psutil.Error:  # gone, or a zombie about to be reaped
                continue
        return found


def start_web(home: Path, team: str, *extra: str, timeout: float = 20.0) -> WebServer:
    """Start ``crewmux web --port 0`` and read its URL from stdout."""
    err_path = home.parent / f"web-{team}.stderr"
    env = {**os.environ, "CREWMUX_HOME": str(home)}
    with err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "web", "--team", team, "--port", "0", *extra],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            cwd=REPO,
        )
    out = proc.stdout
    assert out is not None
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for x in out:
            lines.put(x.strip())

    threading.Thread(target=read_lines, daemon=True).start()
    deadline = time.monotonic() + timeout
    line = ""
    while not URL_LINE.match(line):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"crewmux web printed no URL in {timeout}s: {err_path.read_text()}") from None
    return WebServer(url=line, proc=proc, err_path=err_path)


def stop_web(server: WebServer, timeout: float = 15.0) -> int:
    """SIGTERM the server; its console processes must be gone when it has exited."""
    consoles = server.consoles()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout)
    _gone, alive = psutil.wait_procs(consoles, timeout=timeout)
    assert not alive, f"console processes outlived crewmux web: {alive}"
    return code


@pytest.fixture
def web(home: Path, team: str) -> Iterator[WebServer]:
    server = start_web(home, team)
    try:
        yield server
    finally:
        try:
            if server.proc.poll() is None:
                assert stop_web(server) == 0, server.err_path.read_text()
        finally:
            if server.proc.poll() is None:  # a failed check above never leaves the server running
                server.proc.kill()
                server.proc.wait(10)


@dataclass
class BrowserTerminal:
    """What the page's terminal shows, rebuilt from the websocket frames the page received."""

    page: Any
    screen: pyte.Screen = field(default_factory=lambda: pyte.Screen(80, 24))
    stream: pyte.ByteStream = field(init=False)
    sent: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stream = pyte.ByteStream(self.screen)
        self.page.on("websocket", self._socket)

    def _socket(self, ws: Any) -> None:
        size = re.search(r"width=(\d+)&height=(\d+)", ws.url)
        if size:
            self.screen.resize(int(size.group(2)), int(size.group(1)))
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def _sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str):
            self.sent.append(payload)
            size = re.match(r'\["resize", ?\{"width": ?(\d+), ?"height": ?(\d+)\}\]', payload)
            if size:
                self.screen.resize(int(size.group(2)), int(size.group(1)))

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self) -> None:
        self.page.wait_for_timeout(50)

    def wait_for(self, needle: str, timeout: float = 15.0) -> None:
        until(lambda: needle in self.text(), timeout, self.pump, f"{needle!r} on the browser's terminal")

    def wait_until(self, predicate: Callable[[], object], what: str, timeout: float = 15.0) -> None:
        until(predicate, timeout, self.pump, what)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    """Where the tests keep their screenshots (under the test's temp dir)."""
    path = tmp_path / "artifacts"
    path.mkdir()
    return path
