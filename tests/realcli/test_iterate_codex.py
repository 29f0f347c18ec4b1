"""``crewmux iterate --agent codex`` with the real codex, outside any git repository.

codex exec refuses to run outside a git repository without ``--skip-git-repo-check``; the
iteration runs with stdin closed (not a terminal). The fake model makes codex run a command that
marks the checkpoint done, so the run completes in one iteration.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakemodels.base import Reply, ToolCall
from tests.fakemodels.openai_responses import ResponsesServer, function_outputs
from tests.realcli.agent_home import AgentHome

REPO = Path(__file__).resolve().parents[2]
MARK_DONE = (
    f"{sys.executable} -c \"import json,os; p=os.environ['CREWMUX_CHECKPOINT']; d=json.load(open(p)); "
    "d['status']='done'; json.dump(d, open(p, 'w'))\""
)


@pytest.mark.timeout(180)
def test_iterate_with_codex_outside_git(
    real_cli: Callable[[str], Path], agent_home: AgentHome, responses_server: ResponsesServer, tmp_path: Path
) -> None:
    real_cli("codex")
    env = agent_home.for_codex(responses_server)
    work = agent_home.workdir
    assert not (work / ".git").exists()
    prompt = work / "prompt.md"
    prompt.write_text("Mark the checkpoint done.")
    checkpoint = work / "checkpoint.json"
    responses_server.script(
        Reply(text="", tool_calls=[ToolCall("exec_command", {"cmd": MARK_DONE})]), Reply(text="done")
    )
    proc = subprocess.run(
        [sys.executable, "-m", "app", "iterate", "--checkpoint", str(checkpoint), "--agent", "codex",
         "--prompt-file", str(prompt), "--max-iterations", "1", "--until-done", "--iteration-timeout", "120"],
        cwd=work, env={**env, "CREWMUX_HOME": str(tmp_path / "crewmux"), "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=170, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    first = responses_server.wait_for_text("Mark the checkpoint done.", timeout=5)
    assert "Mark the checkpoint done." in json.dumps(first.json)
    outputs = [o for r in responses_server.model_calls for o in function_outputs(r)]
    assert outputs, "codex never ran the command"
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\noutputs: {outputs}"
    assert json.loads(checkpoint.read_text())["status"] == "done"
