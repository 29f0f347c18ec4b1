"""The recorder agents' hooks run (app/core/hook_record.py) and the one judge of a teammate's state
(app/agents/agent_state.py): the agent's own report first, the screen when the report is stale."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from app.agents.adapters import agent_argv, load_rules
from app.agents.agent_state import StateSource
from app.agents.mcp_wiring import GEMINI_HOOK_EVENTS, mcp_args
from app.core.agent_status import reported, status_path
from app.core.hook_record import command, write
from backends.base import ScreenText

if TYPE_CHECKING:
    from pathlib import Path

    from app.core.team import TeamStore

CODEX_IDLE = ["", "› Ask Codex to do anything", "", "  100% context left"]
CODEX_BUSY = ["", "• Working (3s • esc to interrupt)", "", "› Ask Codex to do anything", ""]


def _run(argv: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False, timeout=30)


def test_the_recorder_runs_without_site_packages_and_reads_the_clis_json(tmp_path: Path) -> None:
    status = tmp_path / "agent-status" / "mate.json"
    payload = {
        "hook_event_name": "Notification",
        "notification_type": "ToolPermission",
        "message": "Allow?",
        "details": {"type": "exec", "command": "touch x"},
    }
    out = _run(command(sys.executable, status, "Notification", stdin=True), json.dumps(payload))
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")
    doc = json.loads(status.read_text())
    assert doc["state"] == "permission" and doc["event"] == "Notification" and doc["detail"] == "Allow?: touch x"
    # a Notification of another kind records nothing; codex notify's JSON (no --stdin) is read from argv
    _run(command(sys.executable, status, "Notification", stdin=True), json.dumps({"notification_type": "other"}))
    assert json.loads(status.read_text())["event"] == "Notification"
    _run([*command(sys.executable, status, "notify"), json.dumps({"type": "agent-turn-complete"})])
    assert json.loads(status.read_text())["state"] == "waiting"
    # a turn's end names the CLI's conversation (codex: its thread id), kept with the state
    stop = {"hook_event_name": "Stop", "session_id": "019a-thread"}
    _run(command(sys.executable, status, "Stop", stdin=True), json.dumps(stop))
    doc = json.loads(status.read_text())
    assert (doc["state"], doc["session"]) == ("waiting", "019a-thread")
    # whatever goes wrong, the agent sees exit 0 and no output (Claude Code blocks on exit 2)
    bad = _run(command(sys.executable, tmp_path / "f" / "x.json", "BeforeAgent", stdin=True), "not json{")
    assert (bad.returncode, bad.stdout) == (0, "")


def test_the_recorder_imports_only_what_it_needs(tmp_path: Path) -> None:
    """gemini waits for its hooks in every turn: the recorder loads no pydantic, no crewmux CLI, no
    pathlib, and json only when there is JSON (a BeforeAgent report has none)."""
    status = tmp_path / "s.json"
    argv = command(sys.executable, status, "BeforeAgent", stdin=True)
    assert "--stdin" not in argv  # its state is its name: the JSON on stdin is not read
    # the recorder's own boot, then what it loaded (its main() exits, so list them at exit)
    show = "import atexit,sys;atexit.register(lambda: print(' '.join(sorted(sys.modules))));"
    argv[argv.index("-c") + 1] = show + argv[argv.index("-c") + 1]
    out = _run(argv)
    assert out.returncode == 0 and json.loads(status.read_text())["state"] == "busy", out.stderr
    loaded = set(out.stdout.split())
    assert {"app.core.hook_record", "app.core.atomic_file"} <= loaded
    assert not {m for m in loaded if m.split(".")[0] in ("pydantic", "json", "pathlib", "re", "logging")}, loaded
    assert not {
        m
        for m in loaded
        if m.startswith("app.") and m not in ("app.core", "app.core.hook_record", "app.core.atomic_file")
    }


def test_spawn_wires_each_clis_hooks_to_the_recorder(teams: TeamStore, tmp_path: Path) -> None:
    teams.create("t")
    status = status_path(teams.paths("t"), "mate")
    codex = agent_argv("codex", name="mate", team="t", status_file=status)
    assert not [a for a in codex if "bypass" in a]  # codex's review of the user's own hooks stays on
    table = next(a for a in codex if a.startswith("hooks={"))
    for event in ("UserPromptSubmit", "PreToolUse", "PermissionRequest", "Stop"):
        assert f"{event} = [" in table
    for key in ("user_prompt_submit", "pre_tool_use", "permission_request", "stop"):  # each trusted by its hash
        assert f'"/<session-flags>/config.toml:{key}:0:0" = {{enabled = true, trusted_hash = "sha256:' in table
    assert "hook_record" in table and str(status) in table
    claude = agent_argv("claude", name="mate", team="t", home=tmp_path, cwd=tmp_path, status_file=status)
    settings = json.loads(claude[claude.index("--settings") + 1])
    assert set(settings["hooks"]) == {
        "UserPromptSubmit",
        "PreToolUse",
        "PostToolUse",
        "Stop",
        "PermissionRequest",
        "Notification",
    }
    aider = agent_argv("aider", name="mate", team="t", status_file=status)
    assert aider[aider.index("--notifications-command") + 1].endswith(" idle")
    wiring = mcp_args("gemini", "t", "mate", teams.home)
    doc = json.loads(next(iter(wiring.files.values())))
    assert set(doc["hooks"]) == set(GEMINI_HOOK_EVENTS) and doc["hooksConfig"]["enabled"] is True
    assert str(status) in doc["hooks"]["BeforeAgent"][0]["hooks"][0]["command"]


def test_a_fresh_report_comes_first_and_a_stale_one_gives_way_to_the_screen(teams: TeamStore) -> None:
    teams.create("t")
    paths = teams.paths("t")
    rules = load_rules("codex")
    states = StateSource(paths, grace=0.2)
    idle, busy = ScreenText(CODEX_IDLE, cursor=(1, 2)), ScreenText(CODEX_BUSY, cursor=(3, 2))
    assert states.judge("mate", rules, idle).source == "screen"  # no report yet
    # busy reported: busy, whatever the (not yet redrawn) screen shows
    write(status_path(paths, "mate"), "UserPromptSubmit", "busy", None)
    assert (states.judge("mate", rules, idle).state, states.judge("mate", rules, idle).source) == ("busy", "report")
    # a report from before the process started is stale (a restarted agent)
    got = reported(paths, "mate")
    assert got is not None
    assert states.judge("mate", rules, idle, started_at=got.at + 1).source == "screen"
    # the screen changing within the grace is the agent drawing what it reported
    assert states.judge("mate", rules, busy).state == "busy"
    # a screen change after the grace: the screen decides (here: the turn ended with no hook)
    later = time.time() + 0.3
    while time.time() < later:
        states.judge("mate", rules, busy)
    verdict = states.judge("mate", rules, ScreenText([*CODEX_IDLE, ""], cursor=(1, 2)))
    assert (verdict.state, verdict.source) == ("waiting", "screen")


def test_a_reported_wait_never_hides_a_question_or_typed_text(teams: TeamStore) -> None:
    teams.create("t")
    paths = teams.paths("t")
    aider = load_rules("aider")
    states = StateSource(paths)
    write(status_path(paths, "mate"), "idle", "waiting", None)
    question = ScreenText(["Run shell command? (Y)es/(N)o [Yes]: "], cursor=(0, 37))
    assert states.judge("mate", aider, question).state == "permission"
    typed = ScreenText(["> half a sentence"], cursor=(0, 17))
    write(status_path(paths, "other"), "idle", "waiting", None)
    assert states.judge("other", aider, typed).state == "typed"
    empty = ScreenText(["> "], cursor=(0, 2))
    write(status_path(paths, "third"), "idle", "waiting", None)
    assert (states.judge("third", aider, empty).state, states.judge("third", aider, empty).source) == (
        "waiting",
        "report",
    )


def test_the_consoles_rows_ask_the_same_judge(home: Path) -> None:
    """A Claude Code teammate (not looked at on screen) shows working from its report; a report
    older than its process (a restart) counts for nothing; its "waiting" is left to its idle notice."""
    import os

    from app.console.ops import TeamContext
    from app.console.screen_state import screen_states
    from app.core.liveness import create_time
    from app.core.models import MemberRuntime
    from app.core.team import TeamStore

    teams = TeamStore(home)
    teams.create("c")
    started = create_time(os.getpid())
    runtime = MemberRuntime(pid=os.getpid(), pid_create_time=started, agent_kind="claude", created_by_crewmux=True)
    teams.join("c", "cc", agent_type="claude", runtime=runtime)
    ctx = TeamContext(home, "c")
    try:
        status = status_path(ctx.paths, "cc")
        write(status, "PreToolUse", "busy", None, at=(started or 0) - 5)  # from before this process started
        assert screen_states(ctx, ctx.teams.load("c")) == {}
        write(status, "PreToolUse", "busy", None)
        assert screen_states(ctx, ctx.teams.load("c")) == {"cc": "busy"}
        write(status, "Stop", "waiting", None)
        assert screen_states(ctx, ctx.teams.load("c")) == {}
    finally:
        ctx.close()
