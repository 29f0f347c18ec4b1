"""crewmux beside a real Claude Code lead (interop mode): its teammates are asked, never dropped."""

from __future__ import annotations

from app.core.team import TeamStore
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import tool_use, user_says, user_text


def start_lead_with_teammate(rig: ClaudeRig, name: str) -> tuple[str, str]:
    """The real lead (default permission mode) spawns in-process teammate ``name``; (pane, team)."""
    spawn = {"description": "helper", "prompt": f"You are {name}; wait for the lead", "name": name}
    rig.fake.reply(tool_use("Agent", spawn), when=user_says(f"spawn {name}"))
    pane = rig.start_lead("--permission-mode", "default")
    teams_dir = rig.home / ".claude" / "teams"
    found = rig.wait(lambda: sorted(p.name for p in teams_dir.glob("session-*")), 60, "the lead's session team")
    team = str(found[0])  # type: ignore[index]
    rig.type_prompt(pane, f"please spawn {name}")
    store = TeamStore(rig.home / ".claude", interop=True)
    rig.wait(lambda: store.load(team).member(name) is not None, 60, f"the lead to add {name}", pane)
    rig.fake.wait_for(user_says(f"You are {name}"), timeout=60)
    return pane, team


def test_a_teammate_claude_code_started_is_asked_never_dropped_unless_forced(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    _pane, team = start_lead_with_teammate(rig, "bob")
    store = TeamStore(rig.home / ".claude", interop=True)
    # crewmux cannot sign as this lead (its key lives in the lead's memory), so bob is shown the
    # request as verified="false" and does not act on it: no answer. It is asked, not judged dead.
    quiet = rig.crewmux("--claude", "shutdown", "bob", "--team", team, "--timeout", "5", "--json")
    assert quiet["outcome"] == "timeout" and quiet["removed"] is False, quiet
    assert store.load(team).member("bob") is not None
    req = rig.fake.wait_for(user_says("shutdown_request"), timeout=30)
    assert 'teammate_id="team-lead"' in user_text(req)  # it reached bob's model
    forced = rig.crewmux("--claude", "shutdown", "bob", "--team", team, "--timeout", "2", "--force", "--json")
    assert forced["removed"] is True and forced["killed"] == []  # removed; no process crewmux did not start is ended
    assert store.load(team).member("bob") is None
