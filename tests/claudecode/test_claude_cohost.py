"""``crewmux claude``: the real Claude Code as lead, its teammates through crewmux (fake model)."""

from __future__ import annotations

import psutil

from app.core.team import TeamStore
from app.mcp.tools import TeamTools
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_use, user_says


def _cohost(rig: ClaudeRig, *flags: str) -> dict[str, object]:
    doc = rig.crewmux("claude", "--no-console", "--json", *flags, "--", "--permission-mode", "default", timeout=120)
    assert isinstance(doc, dict) and str(doc["team"]).startswith("session-"), doc
    return doc


def _teammate_env(rig: ClaudeRig, pane: str) -> dict[str, str] | None:
    """The environment of the claude running in ``pane`` (the pane's shell runs it)."""
    pid = rig.tmux("display-message", "-p", "-t", pane, "#{pane_pid}").strip()
    if not pid.isdigit():
        return None
    try:
        root = psutil.Process(int(pid))
        for proc in [root, *root.children(recursive=True)]:
            if "--agent-name" in proc.cmdline():
                return dict(proc.environ())
    except psutil.Error:
        return None
    return None


def _claude_pids(rig: ClaudeRig, pane: str) -> list[int]:
    """The claude process(es) (``--agent-name`` in argv) running in ``pane``."""
    root = psutil.Process(int(rig.tmux("display-message", "-p", "-t", pane, "#{pane_pid}").strip()))
    return [p.pid for p in [root, *root.children(recursive=True)] if "--agent-name" in p.cmdline()]


def test_claude_leads_and_its_pane_teammates_go_through_crewmux(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    doc = _cohost(rig)
    team, pane = str(doc["team"]), str(doc["paneId"])
    store = TeamStore(rig.home / ".claude", interop=True)
    assert store.load(team).lead_session_id  # Claude Code's own session team
    spawn = {"description": "helper", "prompt": "You are bob; wait", "name": "bob"}
    rig.fake.reply(tool_use("Agent", spawn), when=user_says("spawn bob"))
    rig.type_prompt(pane, "please spawn bob")

    def bob_in_a_pane() -> bool:
        bob = store.load(team).member("bob")
        return bob is not None and bob.tmux_pane_id.startswith("%")

    rig.wait(bob_in_a_pane, 60, "the lead to add bob in a tmux pane", pane)
    rig.fake.wait_for(user_says("You are bob"), timeout=90)  # bob, a real claude in its own pane, got it
    bob_pane = store.member(team, "bob").tmux_pane_id
    env = rig.wait(lambda: _teammate_env(rig, bob_pane), 30, "bob's process")
    assert isinstance(env, dict) and env.get("CREWMUX_VIA_TEAMMATE_COMMAND") == "1"  # started by crewmux-teammate
    # liveness, not isActive: Claude Code marks bob inactive once his turn ends; he still runs
    rig.wait(lambda: store.load(team).member("bob").is_active is False, 90, "bob's turn to end", bob_pane)  # type: ignore[union-attr]
    as_lead = TeamTools(store, team, "team-lead")
    running = {m["name"]: m["running"] for m in as_lead.team_status()["members"]}
    assert running["bob"] is True and running["team-lead"] is True, running
    listed = rig.crewmux("--claude", "panes", "--team", team, "--json")
    assert [r["alive"] for r in listed if r["name"] == "bob"] == [True], listed
    bob_pid = next(p for p in _claude_pids(rig, bob_pane))
    psutil.Process(bob_pid).kill()
    rig.wait(
        lambda: not psutil.pid_exists(bob_pid) or psutil.Process(bob_pid).status() == psutil.STATUS_ZOMBIE,
        30,
        "bob to end",
    )
    running = {m["name"]: m["running"] for m in as_lead.team_status()["members"]}
    assert running["bob"] is False, running
    # crewmux adds a teammate of its own kind to the same team.
    added = rig.crewmux("--claude", "spawn", "w1", "--team", team, "--agent", "worker", "--backend", "tmux", "--json")
    assert added["name"] == "w1" and store.load(team).member("w1") is not None
