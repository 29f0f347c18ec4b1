"""A claude teammate crewmux starts, with the real Claude Code against the fake Anthropic server."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import Block, all_text, answers_tool, tool_results, tool_use, user_says, user_text
from tests.fakemodels.base import LoggedRequest


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def _member(rig: ClaudeRig, team: str, name: str) -> dict[str, object]:
    doc = json.loads((rig.root / "teams" / team / "config.json").read_text())
    return next(m for m in doc["members"] if m["name"] == name)


def _spawn_claude(rig: ClaudeRig, team: str, name: str, prompt: str, *extra: str) -> dict[str, object]:
    doc = rig.crewmux(
        *extra, "spawn", name, "--team", team, "--agent", "claude", "--prompt", prompt,
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip
    assert isinstance(doc, dict)
    return doc


def test_default_mode_teammate_reads_its_first_prompt(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.crewmux("team", "create", "t")
    spawned = _spawn_claude(rig, "t", "alice", "Say the word PINEAPPLE")
    req = rig.fake.wait_for(user_says("PINEAPPLE"), timeout=90)
    assert '<teammate-message teammate_id="team-lead"' in user_text(req)
    # The user's own Claude Code dir is untouched: the team lives under crewmux's root only.
    assert not (rig.home / ".claude" / "teams").exists()
    argv = _member(rig, "t", "alice")["crewmux"]["argv"]  # type: ignore[index]
    assert argv[argv.index("--permission-mode") + 1] == "default"
    uuid.UUID(argv[argv.index("--parent-session-id") + 1])  # a session UUID, as Claude Code's lead passes
    env = _environ(int(str(spawned["pid"])))
    assert env["CLAUDE_CONFIG_DIR"] == str(rig.root / "claude-config")


def test_interop_mode_passes_no_config_dir_the_user_did_not_set(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.crewmux("--claude", "team", "create", "t")
    assert (rig.home / ".claude" / "teams" / "t" / "config.json").is_file()
    spawned = _spawn_claude(rig, "t", "bob", "Say the word MANGO", "--claude")
    rig.fake.wait_for(user_says("MANGO"), timeout=90)
    assert "CLAUDE_CONFIG_DIR" not in _environ(int(str(spawned["pid"])))


def shutdown_reply(req: LoggedRequest) -> list[Block]:
    """The model approving the newest shutdown request it was shown (as Claude Code asks it to)."""
    ids = re.findall(r"shutdown-[0-9]+@[\w.-]+", all_text(req))
    assert ids, "the model was not shown a valid shutdown request id"
    message = {"type": "shutdown_response", "request_id": ids[-1], "approve": True}
    return [tool_use("SendMessage", {"to": "team-lead", "message": message})]


def test_shutdown_of_a_claude_teammate_is_approved_not_killed(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.crewmux("team", "create", "t")
    _spawn_claude(rig, "t", "carol", "Wait for instructions")
    rig.fake.wait_for(user_says("Wait for instructions"), timeout=90)
    rig.fake.reply(tool_use("ToolSearch", {"query": "select:SendMessage"}), when=user_says("shutdown_request"))
    rig.fake.respond(shutdown_reply, when=answers_tool("ToolSearch"))
    doc = rig.crewmux("shutdown", "carol", "--team", "t", "--timeout", "60", "--json", timeout=120)
    assert doc["outcome"] == "approved", doc
    assert doc["removed"] is True
    assert doc["paneClosed"] is True  # gone at the end, whether claude's exit or crewmux closed it
    said = " ".join(doc["notes"])  # "killed" lists what crewmux ended, in step with the notes
    assert (f"terminated {len(doc['killed'])} process" in said) if doc["killed"] else "terminated" not in said
    assert "[invalid id]" not in all_text(rig.fake.requests[-1])


@pytest.mark.parametrize("mode", ["default", "interop"])
def test_tasks_made_by_a_claude_teammate_and_by_crewmux_never_share_an_id(claude_rig: ClaudeRig, mode: str) -> None:
    rig = claude_rig
    rig.env["CLAUDE_CODE_ENABLE_TODO_TOOLS"] = "1"  # the task tools exist only with it (2.1.332)
    flags = ["--claude"] if mode == "interop" else []
    root = rig.home / ".claude" if mode == "interop" else rig.root
    rig.crewmux(*flags, "team", "create", "t")
    rig.fake.reply(tool_use("ToolSearch", {"query": "select:TaskCreate"}), when=user_says("Make a task"))
    task = {"subject": "from claude", "description": "made by the real Claude Code"}
    rig.fake.reply(tool_use("TaskCreate", task), when=answers_tool("ToolSearch"))
    _spawn_claude(rig, "t", "dave", "Make a task", *flags)
    tasks = root / "tasks" / "t"
    rig.wait(lambda: (tasks / "1.json").is_file(), 90, "claude's TaskCreate to write task 1")
    assert (tasks / ".lock").is_file()  # Claude Code's list lock is this file (its lock dir: .lock.lock)
    doc = rig.crewmux(*flags, "task", "add", "from crewmux", "--team", "t", "--json", timeout=20)
    assert doc["id"] == "2"
    subjects = {t["id"]: t["subject"] for t in rig.crewmux(*flags, "task", "list", "--team", "t", "--json")}
    assert subjects == {"1": "from claude", "2": "from crewmux"}


def test_a_claude_teammate_between_turns_is_idle_not_stopped(claude_rig: ClaudeRig) -> None:
    from app.console.model import PsutilProbe, snapshot
    from app.core.mailbox import Mailbox
    from app.core.team import TeamStore
    from app.lifecycle.monitor import LivenessMonitor

    rig = claude_rig
    rig.crewmux("team", "create", "t")
    _spawn_claude(rig, "t", "erin", "Say hello")
    rig.fake.wait_for(user_says("Say hello"), timeout=90)
    rig.wait(lambda: _member(rig, "t", "erin").get("isActive") is False, 60, "Claude Code to mark erin inactive")
    teams = TeamStore(rig.root)
    box = Mailbox(teams, "t")
    snap = snapshot(teams.load("t"), box, [], PsutilProbe(), lead_messages=[m for m, _ in box.history("team-lead")])
    state = next(r.state for r in snap.rows if r.name == "erin")
    assert state in ("idle", "working", "starting"), state
    assert LivenessMonitor(teams, "t").check_once() == []  # alive: nothing released, not dead


@pytest.mark.parametrize("allow", [True, False])
def test_a_claude_teammates_permission_request_is_answered_from_the_approval_queue(
    claude_rig: ClaudeRig, allow: bool
) -> None:
    from app.agents.adapters import classify, load_rules
    from app.console.approvals import ApprovalQueue, answer
    from app.console.ops import TeamContext
    from app.core.mailbox import Mailbox
    from app.core.team import TeamStore

    rig = claude_rig
    rig.crewmux("team", "create", "t")
    target = rig.project / "x.txt"
    rig.fake.reply(tool_use("Write", {"file_path": str(target), "content": "hi\n"}), when=user_says("Write x"))
    spawned = _spawn_claude(rig, "t", "fay", "Write x")  # --permission-mode default: Write needs the lead's yes
    box = Mailbox(TeamStore(rig.root), "t")
    queue = ApprovalQueue()
    found = rig.wait(
        lambda: next((p for m in box.inbox("team-lead") if (p := queue.offer(m)) is not None), None),
        90,
        "fay's permission_request in the lead's inbox",
    )
    assert found is not None and queue.oldest("fay") is not None
    rules = load_rules("claude")
    pane = str(spawned["paneId"])
    rig.wait(lambda: classify(rig.screen(pane).splitlines(), rules) == "permission", 30, "fay shown waiting", pane)
    item = queue.take("fay")
    assert item is not None and getattr(item.request, "tool_name", None) == "Write"
    ctx = TeamContext(rig.root, "t")
    try:
        answer(ctx, item, allow, None if allow else "not now")
    finally:
        ctx.close()
    if allow:
        rig.wait(target.is_file, 60, "claude to write x.txt once allowed")
        assert target.read_text() == "hi\n"
    else:
        req = rig.fake.wait_for(lambda r: any("not now" in str(t.get("content")) for t in tool_results(r)), timeout=60)
        assert req is not None and not target.exists()
