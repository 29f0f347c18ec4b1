"""Real agent CLIs as crewmux teammates: spawned by ``crewmux spawn`` in tmux panes on a private
server, pointed at the project's fake model servers, with the console's deliverer running.

:class:`KindProfile` says, per agent kind, which fake server it talks to, how its private home is
configured and how to read the user's texts out of a request. :class:`Crew` is one test module's
crewmux root + team + tmux socket + deliverer thread; ``crew.spawn(...)`` runs the real
``crewmux spawn`` and returns the member's pane handle.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.agents.adapters import load_rules
from app.agents.agent_state import screen_state
from app.agents.delivery import look
from app.core.mailbox import Mailbox
from app.core.team import TeamStore
from app.lifecycle.inbox_delivery import DeliveryEvent, InboxDelivery, pane_handle
from backends.tmux import TmuxBackend
from backends.tmux_server import TmuxServer
from tests.fakemodels import gemini, openai_chat, openai_responses
from tests.fakemodels.base import Reply
from tests.fakemodels.gemini import GeminiServer
from tests.fakemodels.openai_chat import ChatCompletionsServer
from tests.fakemodels.openai_responses import ResponsesServer
from tests.realcli.agent_home import AgentHome

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from backends.base import PaneHandle
    from tests.fakemodels.base import FakeModelServer, LoggedRequest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class KindProfile:
    kind: str
    server: Callable[[], FakeModelServer]
    configure: Callable[[AgentHome, Any], dict[str, str]]
    user_texts: Callable[[LoggedRequest], list[str]]


PROFILES = {
    "codex": KindProfile("codex", ResponsesServer, AgentHome.for_codex, openai_responses.user_texts),
    "gemini": KindProfile("gemini", GeminiServer, AgentHome.for_gemini, gemini.user_texts),
    "aider": KindProfile("aider", ChatCompletionsServer, AgentHome.for_aider, openai_chat.user_texts),
}


def wait_until(cond: Callable[[], object], timeout: float, what: str | Callable[[], str], *, step: float = 0.05) -> Any:
    """Poll ``cond`` until truthy (returns it) or ``timeout``; ``what`` may be a callable, asked at
    the timeout, so that a screen in the failure is the screen then, not the one at the start."""
    deadline = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for: {what() if callable(what) else what}")
        time.sleep(step)


@dataclass
class Crew:
    root: Path
    profile: KindProfile
    server: FakeModelServer
    home: AgentHome
    team: str = "crew"
    socket: str = field(default_factory=lambda: f"crewmux-real-{uuid.uuid4().hex[:8]}")
    events: list[DeliveryEvent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def crewmux_home(self) -> Path:
        return self.root / "crewmux"

    @property
    def teams(self) -> TeamStore:
        return TeamStore(self.crewmux_home)

    @property
    def mailbox(self) -> Mailbox:
        return Mailbox(self.teams, self.team)

    @property
    def backend(self) -> TmuxBackend:
        return TmuxBackend(server=TmuxServer(socket_name=self.socket))

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        return {**env, **self.home.env, "CREWMUX_HOME": str(self.crewmux_home), "CREWMUX_TMUX_SOCKET": self.socket}

    def crewmux(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=timeout, env=self.env(),
            cwd=REPO, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self) -> Crew:
        self.crewmux_home.mkdir(parents=True, exist_ok=True)
        self.profile.configure(self.home, self.server)
        self.teams.create(self.team, "real agent CLIs")
        return self

    def spawn(self, name: str, *extra: str) -> dict[str, Any]:
        env_args = [a for k, v in self.home.env.items() for a in ("--env", f"{k}={v}")]
        res = self.crewmux(
            "spawn", name, "--team", self.team, "--backend", "tmux", "--agent", self.profile.kind,
            "--cwd", str(self.home.workdir), *env_args, *extra, "--json",
        )  # fmt: skip
        assert res.returncode == 0, f"spawn failed: {res.stderr}"
        return dict(json.loads(res.stdout))

    def keep_dead_pane(self, name: str) -> None:
        """Keep ``name``'s pane should its agent end, so a test that finds it gone can say what it printed."""
        pane = self.teams.member(self.team, name).tmux_pane_id
        self.backend.server.run("set-option", "-p", "-t", pane, "remain-on-exit", "on")

    def death(self, name: str) -> str:
        """How ``name``'s agent ended and the last 40 lines its kept pane shows."""
        member = self.teams.member(self.team, name)
        pane, server = member.tmux_pane_id, self.backend.server
        fmt = "dead=#{pane_dead} status=#{pane_dead_status} signal=#{pane_dead_signal}"
        how = server.run("display-message", "-p", "-t", pane, fmt, check=False)
        tail = server.run("capture-pane", "-p", "-J", "-S", "-40", "-t", pane, check=False)
        return "\n".join([f"active={member.is_active} runtime={member.crewmux}", *how, *tail])

    def handle(self, name: str) -> PaneHandle:
        member = self.teams.member(self.team, name)
        handle = pane_handle(member)
        assert handle is not None, f"{name} has no live pane; {self.death(name)}"
        return handle

    def state(self, name: str) -> str:
        return screen_state(look(self.backend, self.handle(name)), load_rules(self.profile.kind))

    def screen_text(self, name: str) -> str:
        return "\n".join(look(self.backend, self.handle(name)).lines)

    def wait_state(self, name: str, want: str, timeout: float = 30.0) -> None:
        wait_until(
            lambda: self.state(name) == want, timeout, lambda: f"{name} {want}; screen:\n{self.screen_text(name)}"
        )

    def start_deliverer(self) -> None:
        delivery = InboxDelivery(self.mailbox, lambda _name: self.backend)
        self._thread = threading.Thread(
            target=delivery.run, args=(self._stop, self.events.append), kwargs={"idle": 0.5}, daemon=True
        )
        self._thread.start()

    def close_deliverer(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=20)
            self._thread = None

    def close(self) -> None:
        self.close_deliverer()
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)
        self.server.stop()


@contextlib.contextmanager
def mate_crew(kind: str, root: Path, first: str) -> Iterator[Crew]:
    """A crew of one real ``kind`` teammate ``mate``, spawned with the prompt ``first`` (the model
    answers "ready" by default), its deliverer running and its pane kept should it die (its last
    words go to the failure); closed at the end."""
    profile = PROFILES[kind]
    server = profile.server().start()
    server.default = Reply(text="ready")
    crew = Crew(root, profile, server, AgentHome.create(root / "agent")).start()
    try:
        crew.start_deliverer()
        crew.spawn("mate", "--prompt", first)
        crew.keep_dead_pane("mate")
        yield crew
    finally:
        crew.close()
