"""The CLI against hostile input and output: a terminal gets no escape sequence, odd arguments and
closed pipes get clean exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.mailbox import Mailbox
from app.core.team import TeamStore

REPO = Path(__file__).resolve().parents[2]
OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"


def _on_a_terminal(home: Path, *args: str) -> tuple[int, str]:
    """Run ``crewmux ARGS`` with its stdout and stderr on a pty; returns (exit code, what it printed)."""
    master, slave = os.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "app", *args],
            stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, timeout=60, check=False, cwd=REPO,
            env={**os.environ, "CREWMUX_HOME": str(home)},
        )  # fmt: skip
        os.close(slave)
        slave = -1
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end and all was read
                break
            if not data:
                break
            chunks.append(data)
        return proc.returncode, b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)


def test_a_terminal_never_gets_a_teammates_escape_sequences(home: Path, teams: TeamStore, team: str) -> None:
    Mailbox(teams, team).send("alice", f"hi{OSC52}\x9b31m\x1b]0;pwned\x07 there", sender="bob")
    for args in (
        ["msg", "inbox", "--team", team, "--as", "alice"],
        ["msg", "inbox", "--team", team, "--as", "alice", "--json"],
    ):
        code, shown = _on_a_terminal(home, *args)
        assert code == 0, shown
        assert "\x1b" not in shown and "\x9b" not in shown and "\x07" not in shown, repr(shown)
        assert "hi" in shown and "there" in shown
    code, shown = _on_a_terminal(home, "msg", "send", "nobody\x1b]0;x\x07", "text", "--team", team, "--as", "bob")
    assert code in (2, 3) and "\x1b" not in shown and "nobody" in shown, repr(shown)  # names it, harmlessly


def test_piped_output_is_left_as_it_is(home: Path, teams: TeamStore, team: str, cli: object) -> None:
    Mailbox(teams, team).send("alice", f"raw{OSC52}", sender="bob")
    result = cli("msg", "inbox", "--team", team, "--as", "alice")  # type: ignore[operator]
    assert result.code == 0 and OSC52 in result.out


def test_an_argument_that_is_not_utf8_is_bad_input(home: Path, team: str) -> None:
    args = [b"msg", b"send", b"alice", b"caf\xe9", b"--team", b"t", b"--as", b"bob"]
    argv = [sys.executable.encode(), b"-m", b"app", *args]
    env = {**os.environ, "CREWMUX_HOME": str(home)}
    proc = subprocess.run(argv, capture_output=True, timeout=60, check=False, cwd=REPO, env=env)
    assert proc.returncode == 2, proc.stderr
    assert b"not valid UTF-8" in proc.stderr and b"unexpected" not in proc.stderr


def test_a_reader_that_closes_the_pipe_early_gets_a_quiet_exit(home: Path, teams: TeamStore, team: str) -> None:
    mail = Mailbox(teams, team)
    for i in range(400):
        mail.send("alice", f"message {i} " + "x" * 200, sender="bob")
    cmd = f"{sys.executable} -m app msg inbox --team {team} --as alice --json | head -c1"
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=60, check=False, cwd=REPO,
        env={**os.environ, "CREWMUX_HOME": str(home)},
    )  # fmt: skip
    assert proc.stdout == "["
    assert proc.stderr == ""
    assert proc.returncode in (0, 141)  # 141: the writer stopped as one killed by SIGPIPE would
