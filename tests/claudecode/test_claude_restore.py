"""A real claude teammate brought back by ``crewmux resume`` after ``tmux kill-server`` resumes its
own conversation: its restored process sends the earlier turns in its next request."""

from __future__ import annotations

import subprocess
from typing import Any

from app.core.liveness import is_alive
from app.core.team import TeamStore
from tests.claudecode.harness import ClaudeRig
from tests.fakemodels.anthropic import all_text, main_loop, text, user_says
from tests.realcli.teammates import wait_until


def test_restored_claude_teammate_sends_its_earlier_turns(claude_rig: ClaudeRig) -> None:
    rig = claude_rig
    rig.fake.reply(text("PINEAPPLE noted"), when=user_says("PINEAPPLE"))
    rig.crewmux("team", "create", "t")
    rig.crewmux(
        "spawn", "alice", "--team", "t", "--agent", "claude", "--prompt", "Remember PINEAPPLE",
        "--backend", "tmux", "--cwd", str(rig.project), "--json",
    )  # fmt: skip
    rig.fake.wait_for(user_says("PINEAPPLE"), timeout=90)
    before = TeamStore(rig.root).member("t", "alice")
    assert before.crewmux is not None and before.crewmux.session_id and before.crewmux.pid
    sid, pid, started = before.crewmux.session_id, before.crewmux.pid, before.crewmux.pid_create_time
    assert before.crewmux.argv and before.crewmux.argv[before.crewmux.argv.index("--session-id") + 1] == sid
    transcript = rig.root / "claude-config" / "projects"

    def turn_recorded() -> bool:  # the first turn, answer included, is in its transcript: what a resume brings back
        return any("PINEAPPLE noted" in f.read_text(errors="replace") for f in transcript.rglob(f"{sid}.jsonl"))

    wait_until(turn_recorded, 60, "claude wrote its first turn to its transcript under its id")

    subprocess.run(["tmux", "-L", rig.sock, "kill-server"], check=True)
    wait_until(lambda: not is_alive(pid, started), 20, "claude died with the tmux server")
    report = {e["name"]: e for e in rig.crewmux("resume", "t", "--json")}
    assert report["alice"]["action"] == "restarted" and f"--resume {sid}" in report["alice"]["conversation"]
    rig.crewmux("msg", "send", "alice", "Say MANGO", "--team", "t", "--as", "team-lead", "--json")
    req = rig.fake.wait_for(user_says("MANGO"), timeout=120)
    conversation = all_text(req)
    assert "Remember PINEAPPLE" in conversation and "PINEAPPLE noted" in conversation
    assert conversation.index("Remember PINEAPPLE") < conversation.index("Say MANGO")

    # Usage from Claude Code's own transcript of that session (both runs), beside what the fake sent:
    # every main-loop answer of the fake streams input_tokens 12 and output_tokens 7.
    answered = [r for r in rig.fake.requests if main_loop(r)]

    def usage() -> dict[str, Any]:
        rows = {r["name"]: r for r in rig.crewmux("usage", "--team", "t", "--json")}
        return dict(rows["alice"])

    # Claude Code writes its running cost (``cost-state``) after the turn's tokens: wait for both
    row = wait_until(
        lambda: (u := usage())["turns"] == len(answered) and (u["costUsd"] or 0) > 0 and u,
        60,
        "both runs' turns and a cost in the transcript",
    )
    assert row["tokensIn"] == 12 * len(answered) and row["tokensOut"] == 7 * len(answered)
    assert row["state"] == "running"
    assert row["cpuSeconds"] > 0 and row["memoryMb"] > 10 and row["wallSeconds"] >= 0
