"""Two real codex teammates in the same cwd each keep their own session: the thread id each one's
own codex names in its hook events (``session_id``) is recorded as its ``sessionId``; ``crewmux usage`` reads each
one's own rollout file (different token counts scripted per teammate), and after ``tmux
kill-server`` + ``crewmux resume`` each resumes its own conversation (``codex resume <its id>``):
its next request carries its own first prompt and not the other's."""

from __future__ import annotations

import json
import subprocess
from functools import partial
from typing import TYPE_CHECKING, Any

import pytest

from app.core.agent_status import reported
from app.core.liveness import is_alive
from tests.fakemodels.base import LoggedRequest, Reply, Usage
from tests.realcli.agent_home import AgentHome
from tests.realcli.teammates import PROFILES, Crew, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

pytestmark = [pytest.mark.tmux, pytest.mark.timeout(300)]
OUT = {"ALPHA": 111, "BETA": 2222}


def test_two_codex_in_one_cwd_keep_their_own_sessions(real_cli: Callable[[str], Path], tmp_path: Path) -> None:
    real_cli("codex")
    profile = PROFILES["codex"]
    server = profile.server().start()

    def reply(req: LoggedRequest) -> Reply:
        said = " ".join(profile.user_texts(req))
        out = next((n for word, n in OUT.items() if f"Remember {word}" in said), 5)
        return Reply(text="ready", usage=Usage(input_tokens=10, output_tokens=out))

    server.default = reply  # type: ignore[assignment]  # a callable default picks the reply per request
    crew = Crew(tmp_path, profile, server, AgentHome.create(tmp_path / "agent")).start()

    def said(r: LoggedRequest) -> str:
        return " ".join(profile.user_texts(r))

    def rows() -> dict[str, dict[str, Any]]:
        out = crew.crewmux("usage", "--team", crew.team, "--json")
        assert out.returncode == 0, out.stderr
        return {r["name"]: r for r in json.loads(out.stdout)}

    try:
        crew.start_deliverer()
        crew.spawn("a", "--prompt", "Remember ALPHA")  # both in the same cwd (crew.home.workdir)
        crew.spawn("b", "--prompt", "Remember BETA")

        def asked(word: str) -> bool:
            return any(f"Remember {word}" in said(r) for r in server.model_calls)

        for word in OUT:
            wait_until(partial(asked, word), 90, word)
        crew.wait_state("a", "waiting", timeout=60)
        crew.wait_state("b", "waiting", timeout=60)

        def sid(name: str) -> str | None:
            rt = crew.teams.member(crew.team, name).crewmux
            return rt.session_id if rt else None

        got = wait_until(lambda: (r := rows())["a"]["turns"] and r["b"]["turns"] and r, 30, "both session files")
        assert sid("a") and sid("b") and sid("a") != sid("b")  # bound by `usage` (as on the liveness beat)
        for name in ("a", "b"):  # each from its own codex's hook report, not a guess
            report = reported(crew.teams.paths(crew.team), name, fresh_for=float("inf"))
            assert report is not None and report.session == sid(name), report
        assert (got["a"]["tokensOut"], got["b"]["tokensOut"]) == (111, 2222), got
        assert str(sid("a")) in got["a"]["source"] and str(sid("b")) in got["b"]["source"], got

        pids = {n: crew.teams.member(crew.team, n).crewmux for n in ("a", "b")}
        subprocess.run(["tmux", "-L", crew.socket, "kill-server"], check=True)
        for rt in pids.values():
            assert rt is not None
            wait_until(partial(lambda pid, t: not is_alive(pid, t), rt.pid, rt.pid_create_time), 20, "codex died")
        out = crew.crewmux("resume", crew.team, "--json")
        assert out.returncode == 0, out.stderr
        entries = {e["name"]: e for e in json.loads(out.stdout)}
        for name in ("a", "b"):
            assert entries[name]["action"] == "restarted", entries
            assert f"codex resume {sid(name)}" in entries[name]["conversation"], entries
        for name in ("a", "b"):
            crew.wait_state(name, "waiting", timeout=90)
        before = len(server.model_calls)
        crew.mailbox.send("a", "Say KIWI", sender="team-lead")
        crew.mailbox.send("b", "Say LIME", sender="team-lead")

        def request_saying(word: str) -> LoggedRequest | None:
            return next((r for r in server.model_calls[before:] if f"Say {word}" in said(r)), None)

        for word, own, other in (("KIWI", "ALPHA", "BETA"), ("LIME", "BETA", "ALPHA")):
            req = wait_until(partial(request_saying, word), 90, word)
            assert f"Remember {own}" in said(req) and f"Remember {other}" not in said(req), said(req)
    finally:
        crew.close()
