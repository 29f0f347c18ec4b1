"""Message delivery into agents that cannot read their inbox: fake agents in real tmux panes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.agents.adapters import KINDS, agent_argv, classify, env_prefix_len, input_text, load_rules
from app.agents.delivery import DeliveryFailed, deliver_unread, type_message
from app.core.mailbox import Mailbox
from app.core.models import MemberRuntime
from app.core.paths import LEAD_NAME
from app.core.team import TeamStore
from backends.base import PaneHandle, PaneSpec
from backends.tmux import TmuxBackend
from tests.agents.teammate_helpers import wait_until

FAKE = Path(__file__).with_name("fake_agent.py")
TYPING_KINDS = ["codex", "gemini", "aider", "shell"]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


@pytest.fixture
def tmux(tmux_socket: str) -> TmuxBackend:
    return TmuxBackend()


def _fake(tmux: TmuxBackend, tmp_path: Path, style: str, *flags: str) -> tuple[PaneHandle, Path]:
    log = tmp_path / f"{style}.log"
    log.touch()
    argv = [sys.executable, str(FAKE), style, str(log), *flags]
    handle = tmux.spawn(PaneSpec(team="d", name=f"fake-{style}", argv=argv, cwd=str(tmp_path), env={"TERM": "xterm"}))
    wait_until(lambda: f"fake {style} agent" in "\n".join(tmux.screen(handle).lines), 20, f"fake {style} started")
    return handle, log


def test_every_kind_has_valid_rules() -> None:
    for kind in KINDS[1:]:
        rules = load_rules(kind)
        assert rules.kind == kind
        assert classify(["", "nothing here"], rules) == "unknown"
    claude = agent_argv("claude", name="a", team="t", plan=True, model="opus")
    assert claude[:7] == [
        "env", "-u", "CI", "-u", "GITHUB_ACTIONS", "CLAUDECODE=1", "CLAUDE_CODE_EXPERIMENTAL_AGENT_TEAMS=1",
    ]  # fmt: skip
    assert env_prefix_len(claude) == 7 and claude[7] == "claude"
    gemini = agent_argv("gemini", name="a", team="t")
    assert gemini == ["env", "-u", "CI", "-u", "GITHUB_ACTIONS", "gemini"] and env_prefix_len(gemini) == 5
    assert "--plan-mode-required" in claude and claude[claude.index("--agent-id") + 1] == "a@t"
    assert agent_argv("codex", name="a", team="t", prompt="do it")[-1] == "do it"
    with pytest.raises(Exception, match="no plan mode"):
        agent_argv("shell", name="a", team="t", plan=True)


@pytest.mark.parametrize("kind", TYPING_KINDS)
def test_delivery_per_adapter(kind: str, tmux: TmuxBackend, tmp_path: Path, home: Path) -> None:
    teams = TeamStore(home)
    teams.create("d")
    teams.join("d", "agent")
    mail = Mailbox(teams, "d")
    handle, log = _fake(tmux, tmp_path, kind, "--busy-first", "0.8")
    rules = load_rules(kind)
    text = f"hello {kind}\nsecond line of the message"
    msg_id = mail.send("agent", text, sender=LEAD_NAME)
    done = deliver_unread(mail, "agent", tmux, handle, rules, timeout=20)
    assert [d.msg_id for d in done] == [msg_id] and done[0].enters == 1
    assert f"hello {kind} second line of the message" in log.read_text()
    assert mail.status(msg_id).state == "read"


def test_typed_but_not_submitted_gets_a_second_enter(tmux: TmuxBackend, tmp_path: Path) -> None:
    handle, log = _fake(tmux, tmp_path, "codex", "--drop-enters", "1")
    rules = load_rules("codex")
    assert type_message(tmux, handle, rules, "retry me", timeout=20) == 2
    assert log.read_text() == "retry me\n"


def test_never_submitted_fails_loudly_and_stays_unread(tmux: TmuxBackend, tmp_path: Path, home: Path) -> None:
    teams = TeamStore(home)
    teams.create("d")
    teams.join("d", "agent")
    mail = Mailbox(teams, "d")
    handle, log = _fake(tmux, tmp_path, "aider", "--drop-enters", "5")
    msg_id = mail.send("agent", "you will not take this", sender=LEAD_NAME)
    with pytest.raises(DeliveryFailed, match="two Enters"):
        deliver_unread(mail, "agent", tmux, handle, load_rules("aider"), timeout=20)
    assert mail.status(msg_id).state == "sent"
    assert any("could not deliver" in m.text for m in mail.inbox(LEAD_NAME))
    assert log.read_text() == ""


def test_no_typing_into_a_permission_question(tmux: TmuxBackend, tmp_path: Path) -> None:
    handle, log = _fake(tmux, tmp_path, "gemini", "--ask-first")
    rules = load_rules("gemini")
    wait_until(lambda: classify(tmux.screen(handle).lines, rules) == "permission", 20, "permission question shown")
    with pytest.raises(DeliveryFailed, match="permission"):
        type_message(tmux, handle, rules, "do not type me", timeout=1.5)
    assert input_text(tmux.screen(handle).lines, rules) is None
    tmux.send_key(handle, "Enter")  # not an answer: still asking
    assert classify(tmux.screen(handle).lines, rules) == "permission"
    assert log.read_text() == ""


def test_claude_is_never_typed_into(tmux: TmuxBackend, tmp_path: Path) -> None:
    handle, _log = _fake(tmux, tmp_path, "claude")
    with pytest.raises(DeliveryFailed, match="reads its own inbox"):
        type_message(tmux, handle, load_rules("claude"), "hi", timeout=5)


def test_deliver_command_types_into_a_recorded_pane(tmux: TmuxBackend, tmp_path: Path, home: Path) -> None:
    teams = TeamStore(home)
    teams.create("d")
    handle, log = _fake(tmux, tmp_path, "aider")
    runtime = MemberRuntime(
        pid=handle.pid, pid_create_time=handle.pid_create_time, pane_session=handle.locator, agent_kind="aider",
        created_by_crewmux=True,
    )  # fmt: skip
    teams.join("d", "agent", backend_type="tmux", pane_id=handle.pane_id, runtime=runtime)
    mail = Mailbox(teams, "d")
    msg_id = mail.send("agent", "via the cli", sender=LEAD_NAME)
    proc = subprocess.run(
        [sys.executable, "-m", "app", "deliver", "agent", "--team", "d"],
        capture_output=True, text=True, timeout=60, check=False, env={**os.environ, "CREWMUX_HOME": str(home)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"delivered {msg_id}" in proc.stdout
    assert log.read_text() == "via the cli\n" and mail.status(msg_id).state == "read"
